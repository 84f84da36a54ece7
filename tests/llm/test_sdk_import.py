"""The `openai` SDK is loaded only when a model is configured (app/llm/client.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import sys
from app.clock import SystemClock
from app.main import build_writer
from app.settings import Settings
offline = build_writer(Settings(_env_file=None), SystemClock())
print("after offline", "openai" in sys.modules)
online = build_writer(
    Settings(_env_file=None, llm_base_url="http://127.0.0.1:9/v1", llm_model="m"), SystemClock()
)
print("after online", "openai" in sys.modules, online.client is not None)
"""


def test_the_sdk_is_imported_only_for_a_configured_model() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-2:] == ["after offline False", "after online True True"]
