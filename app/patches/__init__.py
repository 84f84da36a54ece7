"""Every place the app relies on aiogram's or pydantic's internals, for speed.

One module per patch; `guard.py` lists the library versions they were checked against and
runs the checks of what each relies on. A patch whose checks fail is not applied: one
WARNING says which and why, and the app runs without it, slower but whole.

- `lazy_aiogram`: aiogram's ~440 types are built when first used, not at import.
- `bot_binding`: each aiogram object is bound to its bot in one step, not through pydantic's
  chain of wrappers.
- `json_session`: Bot API calls go as one JSON document (app/telegram/json_session.py),
  not as aiogram's form.
- `response_models`: the answer models of the methods the app calls are held, not built
  again (app/telegram/response_models.py).

Why each is worth its keep, with figures: BENCHMARKS.md, "Figures behind design choices".
"""

from __future__ import annotations

from app.patches import bot_binding, json_session, lazy_aiogram, response_models
from app.patches.guard import CHECKED_VERSIONS, Outcome, Patch, applied, outcomes, run, skip

__all__ = ["CHECKED_VERSIONS", "PATCHES", "Outcome", "Patch", "applied", "apply", "outcomes"]

# In order: aiogram is imported by the first, and the others inspect it.
PATCHES: tuple[Patch, ...] = (
    lazy_aiogram.PATCH,
    bot_binding.PATCH,
    json_session.PATCH,
    response_models.PATCH,
)


def apply() -> dict[str, Outcome]:
    """Apply every patch whose checks pass; called once, by `app/__init__.py`, before
    anything else imports aiogram. Never raises over a patch."""
    for patch in PATCHES:
        if patch.name in outcomes():
            continue
        if patch is lazy_aiogram.PATCH and not lazy_aiogram.needed():
            skip(patch, "aiogram was imported before the app; its models were built then")
            continue
        run(patch)
    return outcomes()
