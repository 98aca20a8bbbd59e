"""The adapter registry: a decorator over one dict, plus the `idg_harness.adapters` entry points.

Built-in adapters register when their module is imported (`BUILTIN_MODULES`); third-party
packages declare an entry point in the group `idg_harness.adapters` whose value is either an
Adapter subclass or a module that registers adapters on import.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, TypeVar

from idg_adapters.base import Adapter

ENTRY_POINT_GROUP = "idg_harness.adapters"
BUILTIN_MODULES: tuple[str, ...] = (
    "idg_adapters.pixel_diff",
    "idg_adapters.center_prior",
    "idg_adapters.random_box",
    "idg_adapters.cd_siamese",
    "idg_adapters.difftracker",
    "idg_adapters.cd_rerank_clip",
    "idg_adapters.hf_grounding_dino",
    "idg_adapters.mm_grounding_dino",
    "idg_adapters.owlv2",
    "idg_adapters.official_grounding_dino",
    "idg_adapters.mmdet_grounding_dino",
    "idg_adapters.vlm_hf",
    "idg_adapters.vlm_api",
)

_REGISTRY: dict[str, type[Adapter]] = {}
_ORIGIN: dict[str, str] = {}
_discovered = False


class DuplicateAdapterError(ValueError):
    """Two adapters claim the same registry name."""


class UnknownAdapterError(KeyError):
    """No adapter is registered under the asked name."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class PluginFailure:
    """An entry point that could not be loaded; shown by `harness models`, never fatal."""

    entry_point: str
    error: str


_PLUGIN_FAILURES: list[PluginFailure] = []

A = TypeVar("A", bound=type[Adapter])


def register(name: str) -> Callable[[A], A]:
    """Class decorator: `@register("pixel-diff")`. Refuses a name that is already taken."""

    def decorator(cls: A) -> A:
        if not (inspect.isclass(cls) and issubclass(cls, Adapter)):
            raise TypeError(f"@register({name!r}) must decorate an Adapter subclass, got {cls!r}")
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise DuplicateAdapterError(
                f"adapter name {name!r} is already registered by {_ORIGIN[name]}; "
                f"{cls.__module__}.{cls.__qualname__} must use another name"
            )
        cls.name = name
        _REGISTRY[name] = cls
        _ORIGIN[name] = f"{cls.__module__}.{cls.__qualname__}"
        return cls

    return decorator


def register_subclass(name: str, base: A, qualname: str, attrs: dict[str, Any]) -> A:
    """Register under `name` a generated subclass of `base` (class attributes `attrs`), named
    `qualname` in `base`'s module: how one code path becomes several registered adapters (a family's
    modes, a model family table, DiffTracker's variants)."""
    attrs = {"__module__": base.__module__, "__qualname__": qualname, **attrs}
    return register(name)(type(qualname, (base,), attrs))


def discover() -> None:
    """Import built-in adapters and load plugins from entry points (once per process)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the harness
            _PLUGIN_FAILURES.append(PluginFailure(f"{ep.name} = {ep.value}", f"{type(exc).__name__}: {exc}"))
            continue
        if inspect.isclass(obj) and issubclass(obj, Adapter):
            if obj.name and obj.name in _REGISTRY and _REGISTRY[obj.name] is obj:
                continue
            try:
                register(obj.name or ep.name)(obj)
            except DuplicateAdapterError as exc:
                _PLUGIN_FAILURES.append(PluginFailure(f"{ep.name} = {ep.value}", str(exc)))
        elif not inspect.ismodule(obj):
            # Otherwise a typo in the entry point's target would make the plugin vanish silently.
            _PLUGIN_FAILURES.append(
                PluginFailure(
                    f"{ep.name} = {ep.value}",
                    f"points to {type(obj).__name__} {obj!r}, not an Adapter subclass or a module that registers one",
                )
            )


def available_names() -> list[str]:
    discover()
    return sorted(_REGISTRY)


def family_of(name: str) -> str:
    """The family an adapter belongs to (`gdino` for `gdino-b-b`); a standalone adapter is its own."""
    cls = get_adapter_class(name)
    return getattr(cls, "family", "") or name


def select_names(patterns: list[str]) -> list[str]:
    """Adapter names matched by `patterns`, in the order given, without duplicates.

    A pattern is a registered name, `all`, a glob (`gdino-*`, `difftracker*`) or a family name
    (`gdino` selects every `gdino-MODE` adapter). A pattern that matches nothing is an error, so
    a typo never selects nothing silently.
    """
    names = available_names()
    selected: list[str] = []
    for pattern in patterns:
        if pattern == "all":
            matched = names
        elif pattern in _REGISTRY:
            matched = [pattern]
        else:
            matched = [n for n in names if fnmatch.fnmatchcase(n, pattern) or family_of(n) == pattern]
        if not matched:
            raise UnknownAdapterError(
                f"no adapter matches {pattern!r} (a name, a glob such as 'gdino-*', a family, or 'all'); "
                f"registered adapters: {', '.join(names)}"
            )
        selected.extend(n for n in matched if n not in selected)
    return selected


def get_adapter_class(name: str) -> type[Adapter]:
    discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownAdapterError(f"no adapter named {name!r}; registered adapters: {known}") from None


def create_adapter(name: str, **options: Any) -> Adapter:
    return get_adapter_class(name)(**options)


def adapter_origin(name: str) -> str:
    discover()
    return _ORIGIN[name]


def plugin_failures() -> list[PluginFailure]:
    discover()
    return list(_PLUGIN_FAILURES)


def unregister(name: str) -> None:
    """Remove a registration (tests register throwaway adapters)."""
    _REGISTRY.pop(name, None)
    _ORIGIN.pop(name, None)
