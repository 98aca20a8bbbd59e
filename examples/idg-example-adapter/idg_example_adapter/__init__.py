"""Example idg-harness plugin: one adapter, exposed through the `idg_harness.adapters` entry point."""

from idg_example_adapter.brightest_change import BrightestChangeAdapter

__all__ = ["BrightestChangeAdapter"]
