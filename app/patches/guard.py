"""The guard over every patch: which library versions they were checked against, the checks
of exactly what each relies on, and what happened to each at start-up.

A patch is applied only if the installed aiogram and pydantic are versions listed in
`CHECKED_VERSIONS` and every check of what it relies on holds. Otherwise it is refused:
one WARNING names the patch and why, and the app runs without it (slower, not broken).
`tests/patches/test_guard.py` fails, naming the patch and the missing or changed thing, when the
versions pinned in `uv.lock` are not listed here or a patch is refused on them.

Upgrading aiogram or pydantic: lock the new version, run `tests/patches/`, review what they
report, then add the version below.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger("app.patches")

# The versions every patch in app/patches was checked against, by the tests each one names.
CHECKED_VERSIONS: Mapping[str, tuple[str, ...]] = {
    "aiogram": ("3.31.0",),
    "pydantic": ("2.13.5",),
}


class Refused(Exception):
    """What a patch relies on does not hold; whatever the patch had begun is undone."""


@dataclass(frozen=True)
class Patch:
    """One patch. `check` lists what it relies on that does not hold (nothing: it may be
    applied); `install` applies it, and raises `Refused`, having undone its work, if it
    finds out while applying that a reliance does not hold."""

    name: str
    relies_on: tuple[str, ...]
    check: Callable[[], list[str]]
    install: Callable[[], None]


@dataclass(frozen=True)
class Outcome:
    status: Literal["applied", "refused", "skipped"]
    reason: str = ""


_outcomes: dict[str, Outcome] = {}


def run(patch: Patch) -> Outcome:
    """Check the patch and apply it, or refuse it with one WARNING; never raises."""
    problems = version_problems(patch.relies_on)
    if not problems:
        try:
            problems = patch.check()
        except Exception as exc:
            problems = [f"its check raised {exc!r}"]
    if not problems:
        try:
            patch.install()
        except Refused as exc:
            problems = [str(exc)]
        except Exception as exc:
            problems = [f"applying it raised {exc!r}"]
    if problems:
        outcome = Outcome("refused", "; ".join(problems))
        log.warning(
            "patch %s not applied, the app runs without it (slower, not broken): %s "
            "(see app/patches/guard.py)",
            patch.name,
            outcome.reason,
        )
    else:
        outcome = Outcome("applied")
    _outcomes[patch.name] = outcome
    return outcome


def skip(patch: Patch, reason: str) -> Outcome:
    """Record a patch that has nothing to do in this process (not a fault: no warning)."""
    outcome = _outcomes[patch.name] = Outcome("skipped", reason)
    return outcome


def outcomes() -> dict[str, Outcome]:
    """What happened to each patch so far, by name."""
    return dict(_outcomes)


def applied(name: str) -> bool:
    outcome = _outcomes.get(name)
    return outcome is not None and outcome.status == "applied"


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_problems(distributions: Iterable[str]) -> list[str]:
    problems = []
    for name in distributions:
        version = installed_version(name)
        checked = CHECKED_VERSIONS[name]
        if version not in checked:
            problems.append(
                f"{name} {version} is installed, the patch was checked against "
                f"{', '.join(checked)} (CHECKED_VERSIONS)"
            )
    return problems


# Structural checks, shared by the patches. Each returns what is wrong, empty if nothing.


def missing_attribute(owner: Any, name: str, where: str) -> list[str]:
    if getattr(owner, name, None) is None:
        return [f"{where}.{name} is gone"]
    return []


def parameter_problems(
    function: Any, names: Iterable[str], where: str, *, exact: bool = False
) -> list[str]:
    """`function` takes the parameters `names` (in that order and no others if `exact`)."""
    if not callable(function):
        return [f"{where} is not callable"]
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError) as exc:
        return [f"{where} has no readable signature ({exc})"]
    wanted = list(names)
    if exact and parameters != wanted:
        return [f"{where} takes ({', '.join(parameters)}), expected ({', '.join(wanted)})"]
    missing = [name for name in wanted if name not in parameters]
    if missing:
        return [f"{where} no longer takes {', '.join(missing)}"]
    return []
