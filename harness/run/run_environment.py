"""Where a run happened: package versions, platform, host and the harness's git SHA."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness import __version__


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _git_sha() -> str | None:
    """HEAD of the checkout; IDG_GIT_SHA stands in where the code runs from a copy without .git."""
    if os.environ.get("IDG_GIT_SHA"):
        return os.environ["IDG_GIT_SHA"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_environment() -> dict[str, Any]:
    """Versions, host and git SHA recorded in run.json so a number can be traced to its code."""
    packages = ("torch", "torchvision", "transformers", "numpy", "pillow", "scikit-image", "pycocotools")
    return {
        "harness": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "packages": {name: _package_version(name) for name in packages},
        "git_sha": _git_sha(),
    }
