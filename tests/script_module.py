"""Import a file of scripts/ or bench/ as a module, for tests of its functions (the scripts are not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
BENCH = SCRIPTS.parent / "bench"


def load_script(name: str, folder: Path = SCRIPTS) -> ModuleType:
    """<folder>/<name>.py (scripts/ by default; bench/ with BENCH) as a module named `name`."""
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
