"""IDG model adapters, installed as `idg_adapters` (the folder is adapters/): one file per model
family, all implementing `idg_adapters.base.Adapter`. Plugins that import the old name `adapters`
get these same modules where no other `adapters` package is installed (legacy_name.py)."""

from idg_adapters.base import Adapter, AdapterInputError, AdapterUnavailable, PairInput, Prediction
from idg_adapters.legacy_name import install as _install_legacy_name
from idg_adapters.registry import available_names, create_adapter, get_adapter_class, register

_install_legacy_name()

__all__ = [
    "Adapter",
    "AdapterInputError",
    "AdapterUnavailable",
    "PairInput",
    "Prediction",
    "available_names",
    "create_adapter",
    "get_adapter_class",
    "register",
]
