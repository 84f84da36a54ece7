"""Import aiogram without building all of its pydantic models at once.

`aiogram.types` ends its import by calling `model_rebuild()` on every one of its ~440 types,
each with one namespace holding all of them, because the types refer to each other through
names imported only under `TYPE_CHECKING`. Each rebuild compiles a validator covering the
type and everything it can contain, so the import costs about 160 MB and 3 s, and this
service uses perhaps twenty of those types. That was most of the process's start-up time
and memory.

`import_aiogram()` imports aiogram with that loop skipped and instead puts the missing names
into the globals of each `aiogram.types` and `aiogram.methods` module: exactly what the
`TYPE_CHECKING` imports would have bound. Every aiogram model is declared with
`defer_build=True`, so pydantic builds a model's validator the first time it is used and
resolves its names from its module's globals, from whichever model or generic
(`Response[Message]`) it is first reached through. The validators are the same ones; only
their time of building moves. `tests/test_lazy_aiogram.py` builds every type and method this
way and compares their schemas with an eager import.

It must run before anything imports aiogram, so `app/__init__.py` calls it. If aiogram is
already imported (a tool imported it first), nothing happens and the models stay eager.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from pydantic import BaseModel

_MODULE_PREFIXES = ("aiogram.types.", "aiogram.methods.")


def import_aiogram() -> bool:
    """Import aiogram with its models deferred; False if it was already imported."""
    if "aiogram" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    namespaces: list[Mapping[str, Any]] = []

    def record_instead(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
        types_namespace = kwargs.get("_types_namespace")
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller == "aiogram.types" and types_namespace is not None:
            if not namespaces or namespaces[-1] is not types_namespace:
                namespaces.append(types_namespace)
            return None
        depth = kwargs.pop("_parent_namespace_depth", 2) + 1
        result: bool | None = original.__func__(cls, _parent_namespace_depth=depth, **kwargs)
        return result

    BaseModel.model_rebuild = classmethod(record_instead)  # type: ignore[method-assign,assignment]
    try:
        import aiogram
        import aiogram.methods
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    if len(namespaces) != 1:
        raise RuntimeError(
            "aiogram.types no longer rebuilds its models with one shared namespace "
            f"({len(namespaces)} seen); review app/lazy_aiogram.py for this aiogram version"
        )
    _bind_missing_names(namespaces[0])
    return True


def _bind_missing_names(namespace: Mapping[str, Any]) -> None:
    for name, module in list(sys.modules.items()):
        if isinstance(module, ModuleType) and name.startswith(_MODULE_PREFIXES):
            module_globals = vars(module)
            for key, value in namespace.items():
                module_globals.setdefault(key, value)
