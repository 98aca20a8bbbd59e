"""Packaging: every package folder is installed, and the adapters' import name `idg_adapters` never
collides with another top-level `adapters` (AdapterHub's), while old plugins' `import adapters.*`
still works where that name is free."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_pyproject_lists_every_package_folder() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package_dir = config["package-dir"]
    expected = set()
    for top in ("harness", "difftracker", "adapters"):
        for init in (REPO / top).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO).parts
            if "__pycache__" in parts:
                continue
            name = ".".join(parts)
            expected.add("idg_adapters" + name[len("adapters") :] if top == "adapters" else name)
    assert set(config["packages"]) == expected
    assert package_dir == {"idg_adapters": "adapters"}


def _python(code: str, cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    """A fresh interpreter outside the checkout, so only installed packages are importable."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning:__main__", "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_another_adapters_package_is_left_alone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "adapters").mkdir(parents=True)
    (site / "adapters" / "__init__.py").write_text("HUB = 'adapterhub'\n")
    dist = site / "adapters-1.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: adapters\nVersion: 1.0.0\n")
    result = _python(
        """
        from idg_adapters.registry import available_names, get_adapter_class
        assert "pixel-diff" in available_names()
        import adapters
        assert adapters.HUB == "adapterhub", adapters
        assert get_adapter_class("pixel-diff").__module__ == "idg_adapters.pixel_diff"
        print("ok")
        """,
        cwd=tmp_path,
        extra_path=site,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_old_plugins_importing_adapters_get_the_same_modules(tmp_path: Path) -> None:
    result = _python(
        """
        import warnings
        import idg_adapters.base
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from adapters.base import Adapter
            from adapters.registry import register
        assert Adapter is idg_adapters.base.Adapter
        assert any("idg_adapters" in str(w.message) for w in caught), caught

        @register("legacy-plugin")
        class Legacy(Adapter):
            def predict(self, batch):
                return []

        from idg_adapters.registry import get_adapter_class
        assert get_adapter_class("legacy-plugin") is Legacy
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
