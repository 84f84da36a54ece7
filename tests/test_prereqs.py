"""scripts/prereqs.sh, which `make test` and `make bench` run first: what it finds, and the
one line it says when something is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "prereqs.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _run(*what: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"CHROMIUM_PATH", "TEST_DATABASES"}}
    return subprocess.run(
        [BASH, str(SCRIPT), *what],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_chromium_path_is_taken_as_given(tmp_path: Path) -> None:
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    result = _run("chromium", env={"CHROMIUM_PATH": str(browser)})
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, str(browser), "")


def test_a_chromium_path_that_is_not_a_program_is_one_line() -> None:
    result = _run("chromium", env={"CHROMIUM_PATH": "/nonexistent/chromium"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "make: CHROMIUM_PATH=/nonexistent/chromium is not an executable file"
    ]


def test_without_a_browser_or_a_way_to_install_one_it_says_what_to_install(
    tmp_path: Path,
) -> None:
    # A machine with no chromium, chrome or apt-get on its PATH: only what the script needs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id",):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    names = "chromium chromium-browser google-chrome google-chrome-stable"
    result = _run("chromium", env={"PATH": str(bin_dir), "PREREQS_BROWSERS": names})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "make: no Chromium or Chrome found: install one (Debian: apt-get install -y chromium) "
        "or set CHROMIUM_PATH"
    ]


def test_postgres_that_does_not_answer_is_one_line_with_the_sqlite_way_out() -> None:
    port = _closed_port()
    result = _run(
        "postgres", env={"TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"make: nothing answers on PostgreSQL's 127.0.0.1:{port}: start it, set "
        "TEST_POSTGRES_URL, or run the SQLite half with TEST_DATABASES=sqlite make test"
    ]


def test_the_sqlite_half_does_not_need_postgres() -> None:
    port = _closed_port()
    result = _run(
        "postgres",
        env={
            "TEST_DATABASES": "sqlite",
            "TEST_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres",
        },
    )
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("TEST_DATABASES", "sqlite,postgresql"),
    reason="the PostgreSQL half is off",
)
def test_the_tests_postgres_answers() -> None:
    assert _run("postgres").returncode == 0


def test_an_unknown_prerequisite_is_refused() -> None:
    result = _run("docker")
    assert result.returncode == 2
    assert "unknown prerequisite 'docker'" in result.stderr
