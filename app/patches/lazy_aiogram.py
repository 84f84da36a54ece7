"""Import aiogram without building all of its pydantic models at once.

`aiogram.types` ends its import by calling `model_rebuild()` on every one of its ~440 types,
each with one namespace holding all of them, because the types refer to each other through
names imported only under `TYPE_CHECKING`. Each rebuild compiles a validator covering the
type and everything it can contain, and this service uses perhaps twenty of those types:
that loop was most of the process's start-up time and memory (see BENCHMARKS.md, "Figures
behind design choices").

This patch imports aiogram with that loop skipped and instead puts the missing names into
the globals of each `aiogram.types` and `aiogram.methods` module: exactly what the
`TYPE_CHECKING` imports would have bound. Every aiogram model is declared with
`defer_build=True`, so pydantic builds a model's validator the first time it is used and
resolves its names from its module's globals, from whichever model or generic
(`Response[Message]`) it is first reached through. The validators are the same ones; only
their time of building moves. `tests/patches/test_lazy_aiogram.py` builds every type and method
this way and compares their schemas with an eager import.

Relies on: pydantic's `BaseModel.model_rebuild` (a classmethod taking `_types_namespace` and
`_parent_namespace_depth`); `aiogram.types` calling it from its own module body with one
shared `_types_namespace`; `TelegramObject` declared with `defer_build=True`. The first is
checked before the import, the others after it: if they do not hold, the skipped rebuilds
are run then, as aiogram asked for them, and the models are as an eager import builds them.

It must run before anything imports aiogram (`app/__init__.py` runs it first). If aiogram is
already imported (a tool imported it first), it is skipped and the models stay eager.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from app.patches.guard import Patch, Refused, parameter_problems

_MODULE_PREFIXES = ("aiogram.types.", "aiogram.methods.")
# The module whose loop of rebuilds is skipped.
_REBUILDING_MODULE = "aiogram.types"


def needed() -> bool:
    """False once aiogram is imported: its models were built then, nothing to defer."""
    return "aiogram" not in sys.modules


def check() -> list[str]:
    rebuild = BaseModel.__dict__.get("model_rebuild")
    if not isinstance(rebuild, classmethod):
        return ["pydantic's BaseModel.model_rebuild is no longer a classmethod"]
    return parameter_problems(
        rebuild.__func__,
        ("_parent_namespace_depth", "_types_namespace"),
        "pydantic's BaseModel.model_rebuild",
    )


def install() -> None:
    """Import aiogram with its rebuilds deferred; `Refused`, with the models built as aiogram
    asked, if aiogram did not import as this patch expects."""
    original: classmethod[Any, ..., Any] = BaseModel.__dict__["model_rebuild"]
    skipped: list[tuple[type[BaseModel], dict[str, Any]]] = []
    namespaces: list[Mapping[str, Any]] = []

    def record_instead(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
        types_namespace = kwargs.get("_types_namespace")
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == _REBUILDING_MODULE and types_namespace is not None:
            skipped.append((cls, kwargs))
            if not any(seen is types_namespace for seen in namespaces):
                namespaces.append(types_namespace)
            return None
        depth = kwargs.pop("_parent_namespace_depth", 2) + 1
        result: bool | None = original.__func__(cls, _parent_namespace_depth=depth, **kwargs)
        return result

    BaseModel.model_rebuild = classmethod(record_instead)  # type: ignore[method-assign,assignment]
    failure: str | None = None
    try:
        import aiogram
        import aiogram.methods
        import aiogram.types
    except Exception as exc:
        failure = f"importing aiogram with its rebuilds deferred raised {exc!r}"
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign,assignment]
    if failure is None:
        failure = _imported_as_expected(namespaces)
    if failure is not None:
        for cls, kwargs in skipped:
            original.__func__(cls, **kwargs)
        # If the failure was aiogram's own, this raises it, as an import without the patch does.
        import aiogram.methods
        import aiogram.types  # noqa: F401

        raise Refused(failure)
    _bind_missing_names(namespaces[0])


def _imported_as_expected(namespaces: list[Mapping[str, Any]]) -> str | None:
    if len(namespaces) != 1:
        return (
            f"{_REBUILDING_MODULE} no longer rebuilds its models with one shared namespace "
            f"({len(namespaces)} seen)"
        )
    from aiogram.types.base import TelegramObject

    if TelegramObject.model_config.get("defer_build") is not True:
        return "aiogram's TelegramObject is no longer declared with defer_build=True"
    return None


def _bind_missing_names(namespace: Mapping[str, Any]) -> None:
    for name, module in list(sys.modules.items()):
        if isinstance(module, ModuleType) and name.startswith(_MODULE_PREFIXES):
            module_globals = vars(module)
            for key, value in namespace.items():
                module_globals.setdefault(key, value)


PATCH = Patch(
    name="lazy_aiogram",
    relies_on=("aiogram", "pydantic"),
    check=check,
    install=install,
)
