"""The `openai` SDK is loaded only when a model is configured (app/llm/client.py)."""

from __future__ import annotations

import json

from tests.support.python_process import run_python

_PROBE = r"""
import json, sys
from app.clock import SystemClock
from app.main import build_writer
from app.settings import Settings
offline = build_writer(Settings(_env_file=None), SystemClock())
after_offline = "openai" in sys.modules
online = build_writer(
    Settings(_env_file=None, llm_base_url="http://127.0.0.1:9/v1", llm_model="m"), SystemClock()
)
print(json.dumps({"after_offline": after_offline, "after_online": "openai" in sys.modules,
                  "client": online.client is not None}))
"""


def test_the_sdk_is_imported_only_for_a_configured_model() -> None:
    state = json.loads(run_python(_PROBE, env={"PATH": "/usr/bin:/bin"}))
    assert state == {"after_offline": False, "after_online": True, "client": True}
