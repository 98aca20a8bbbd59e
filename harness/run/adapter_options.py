"""Per-model adapter options from `--model-config FILE.yaml` and `--opt MODEL.KEY=VALUE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError


def parse_option(text: str) -> tuple[str, str, Any]:
    """`pixel-diff.min_area=50` -> ("pixel-diff", "min_area", 50); values parse as YAML scalars."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise HarnessError(f"--opt {text!r}: expected MODEL.KEY=VALUE, e.g. --opt pixel-diff.min_area=50")
    target, raw = text.split("=", 1)
    model, key = target.rsplit(".", 1)
    if not model or not key:
        raise HarnessError(f"--opt {text!r}: expected MODEL.KEY=VALUE")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return model, key, value


def load_adapter_options(config_file: Path | None, opts: list[str]) -> dict[str, dict[str, Any]]:
    """Options per model: the YAML file's mapping, then each --opt on top."""
    options: dict[str, dict[str, Any]] = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise HarnessError(f"--model-config {path}: cannot read ({exc})") from exc
        except yaml.YAMLError as exc:
            raise HarnessError(f"--model-config {path}: not valid YAML ({exc})") from exc
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise HarnessError(f"--model-config {path}: must map model names to option mappings")
        options = {str(k): dict(v) for k, v in loaded.items()}
    for text in opts:
        model, key, value = parse_option(text)
        options.setdefault(model, {})[key] = value
    return options
