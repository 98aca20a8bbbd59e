"""Whether mmdet can run here: mmdet installed, and mmcv with its compiled ops (`mmcv._ext`).

Checked without importing either package, so `harness models` stays fast. PyPI has mmcv 2.1.0 only
as source; `make mmdet` builds it with its ops (about 35 minutes on 2 cores) and installs mmdet.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

INSTALL_COMMAND = "make mmdet"
INSTALL_HINT = (
    f"run `{INSTALL_COMMAND}` in an idg-harness checkout (builds mmcv 2.1.0 with its compiled ops, about "
    "35 min on 2 cores, caches the wheel, then runs pip install -e '.[mmdet]'); "
    "pip install 'idg-harness[mmdet]' alone installs mmdet without mmcv's ops"
)


def package_dir(name: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def mmcv_has_compiled_ops() -> bool:
    """True when mmcv is installed with `mmcv._ext` (mmcv-lite and pure-Python builds lack it)."""
    mmcv = package_dir("mmcv")
    if mmcv is None:
        return False
    return any(mmcv.glob("_ext*.so")) or any(mmcv.glob("_ext*.pyd"))


def missing_mmdet_parts() -> str | None:
    """What stops mmdet from running here, in words; None when it can run."""
    if package_dir("mmcv") is None:
        return "mmcv is not installed"
    if not mmcv_has_compiled_ops():
        return "mmcv is installed without its compiled ops (no module mmcv._ext)"
    if package_dir("mmdet") is None:
        return "mmdet is not installed"
    return None


def mmdet_configs_dir() -> Path | None:
    """mmdet's packaged configs (`mmdet/.mim/configs`), or None without mmdet."""
    mmdet = package_dir("mmdet")
    return mmdet / ".mim" / "configs" if mmdet is not None else None
