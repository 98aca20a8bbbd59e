"""`import adapters.*` for plugins written against the old top-level name, where it is free.

This folder is installed as `idg_adapters`, because a top-level `adapters` would collide with
AdapterHub's `adapters` package. Plugins that still write `from adapters.base import Adapter` keep
working through an alias: `adapters.X` is the very module `idg_adapters.X` (same classes, so
`issubclass(plugin_class, Adapter)` holds). The alias is installed only where no distribution named
`adapters` is installed; where one is, `import adapters` is that package, untouched, and such
plugins must import `idg_adapters` (docs/adding-an-adapter.md).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
import warnings
from types import ModuleType

LEGACY = "adapters"
PACKAGE = "idg_adapters"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        pass  # already executed under its own name


class LegacyNameFinder(importlib.abc.MetaPathFinder):
    """Resolves `adapters` and `adapters.X` to the modules `idg_adapters` and `idg_adapters.X`."""

    warned = False

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001 (the MetaPathFinder signature)
        if name != LEGACY and not name.startswith(LEGACY + "."):
            return None
        if not LegacyNameFinder.warned:
            LegacyNameFinder.warned = True
            warnings.warn(
                "`import adapters` is the old name of idg-harness's adapters; import `idg_adapters` instead",
                DeprecationWarning,
                stacklevel=2,
            )
        module = importlib.import_module(PACKAGE + name[len(LEGACY) :])
        return importlib.util.spec_from_loader(name, _AliasLoader(module), is_package=hasattr(module, "__path__"))


def another_adapters_distribution() -> bool:
    """Whether a distribution named `adapters` (AdapterHub) is installed."""
    try:
        importlib.metadata.distribution(LEGACY)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install() -> bool:
    """Put the alias first on sys.meta_path unless another `adapters` is installed; True if it is in place."""
    if any(isinstance(f, LegacyNameFinder) for f in sys.meta_path):
        return True
    if another_adapters_distribution():
        return False
    sys.meta_path.insert(0, LegacyNameFinder())
    return True
