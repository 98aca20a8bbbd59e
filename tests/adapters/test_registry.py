"""The adapter registry: duplicate names refused, broken plugins recorded, unknown names explained."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from idg_adapters import registry
from idg_adapters.base import Adapter, PairInput, Prediction


class PluginAdapter(Adapter):
    """Stands in for a third-party adapter reached through an entry point."""

    name = "test-plugin-adapter"

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [Prediction.failed("not a real model") for _ in batch]


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch):
    """Snapshot the registry so a test can rediscover with fake entry points and leave no trace."""
    registry.discover()
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_ORIGIN", dict(registry._ORIGIN))
    monkeypatch.setattr(registry, "_PLUGIN_FAILURES", [])
    monkeypatch.setattr(registry, "_discovered", False)

    def use_entry_points(*specs: tuple[str, str]) -> None:
        eps = [EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in specs]
        monkeypatch.setattr(registry, "entry_points", lambda group: [ep for ep in eps if ep.group == group])

    return use_entry_points


def test_builtins_are_registered() -> None:
    assert {"pixel-diff", "center-prior", "random-box"} <= set(registry.available_names())


def test_duplicate_name_is_refused(isolated_registry) -> None:
    with pytest.raises(registry.DuplicateAdapterError, match="pixel-diff"):

        @registry.register("pixel-diff")
        class Impostor(PluginAdapter):
            pass


def test_register_refuses_non_adapters(isolated_registry) -> None:
    with pytest.raises(TypeError, match="Adapter subclass"):
        registry.register("not-an-adapter")(object)  # type: ignore[arg-type]


def test_entry_point_adapter_is_registered(isolated_registry) -> None:
    isolated_registry(("test-plugin-adapter", f"{__name__}:PluginAdapter"))
    assert "test-plugin-adapter" in registry.available_names()
    assert registry.get_adapter_class("test-plugin-adapter") is PluginAdapter
    assert registry.plugin_failures() == []


def test_broken_entry_point_is_recorded_not_raised(isolated_registry) -> None:
    isolated_registry(
        ("missing-module", "idg_no_such_plugin_module:Adapter"),
        ("not-an-adapter", "json:dumps"),
        ("good", f"{__name__}:PluginAdapter"),
    )
    names = registry.available_names()  # must not raise
    assert "test-plugin-adapter" in names and "pixel-diff" in names
    failures = {f.entry_point.split(" = ")[0]: f.error for f in registry.plugin_failures()}
    assert set(failures) == {"missing-module", "not-an-adapter"}
    assert "ModuleNotFoundError" in failures["missing-module"]
    assert "not an Adapter subclass" in failures["not-an-adapter"]


def test_plugin_claiming_a_builtin_name_is_recorded(isolated_registry) -> None:
    class ClaimsPixelDiff(PluginAdapter):
        name = "pixel-diff"

    globals()["ClaimsPixelDiff"] = ClaimsPixelDiff  # reachable as module:attr for the entry point
    try:
        isolated_registry(("pixel-diff", f"{__name__}:ClaimsPixelDiff"))
        assert registry.get_adapter_class("pixel-diff") is not ClaimsPixelDiff
        (failure,) = registry.plugin_failures()
        assert "already registered" in failure.error
    finally:
        del globals()["ClaimsPixelDiff"]


def test_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(registry.UnknownAdapterError) as info:
        registry.create_adapter("no-such-model")
    message = str(info.value)
    assert "no-such-model" in message
    assert all(name in message for name in ("pixel-diff", "center-prior", "random-box"))
