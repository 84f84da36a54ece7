"""Run a Python snippet in a fresh interpreter at the project root: for what is fixed for
the life of a process (how aiogram was imported, which SDKs are loaded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> str:
    """The last line the snippet printed; fails the test, with its stderr, if it failed."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()[-1]
