"""IDG model adapters: one file per model family, all implementing `adapters.base.Adapter`."""

from adapters.base import Adapter, AdapterInputError, AdapterUnavailable, PairInput, Prediction
from adapters.registry import available_names, create_adapter, get_adapter_class, register

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
