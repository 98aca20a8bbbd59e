"""What one `harness run` was asked to do: the settings every step of the run reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.metrics import DEFAULT_IOU_THRESHOLDS
from harness.metrics.iou_thresholds import with_main_threshold


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
    iou_thresholds: tuple[float, ...] = DEFAULT_IOU_THRESHOLDS  # Acc@τ thresholds, 0.5 always among them
    loader_workers: int = 0  # processes decoding images ahead of the model
    controls: list[str] = field(default_factory=list)  # query-shuffle, a-blind, swap (harness.run.controls)
    force: bool = False  # reuse a run id whose folder holds a run of another dataset or split
    allow_download: bool = False  # adapters may fetch hub weights (Adapter.allow_download, --allow-download)
    check_boxes: bool = False  # the box-convention self-check of text-answering models first (box_check_in_run)
    argv: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.iou_thresholds = with_main_threshold(self.iou_thresholds)  # sorted, Acc@0.5's threshold added
