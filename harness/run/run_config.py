"""What one `harness run` was asked to do: the settings every step of the run reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunConfig:
    models: list[str]
    split: str
    dataset: Path
    output_dir: Path = Path("results")
    limit: int | None = None
    batch_size: int = 8
    device: str = "auto"
    skip_invalid: bool = False
    use_cache: bool = True
    run_id: str | None = None
    adapter_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_strata: list[str] = field(default_factory=list)  # manifest attributes to stratify by
    loader_workers: int = 0  # processes decoding images ahead of the model
    controls: list[str] = field(default_factory=list)  # query-shuffle, a-blind, swap (harness.run.controls)
    force: bool = False  # reuse a run id whose folder holds a run of another dataset or split
    argv: list[str] = field(default_factory=list)
