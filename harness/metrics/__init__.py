"""Sample-level metrics for image difference grounding: IoU, Acc@tau, mIoU, cIoU, AP50, bootstrap CIs."""

from harness.metrics.average_precision import AP50Evaluator, average_precision_50
from harness.metrics.bootstrap import bootstrap_ci
from harness.metrics.box_iou import box_area, paired_box_iou
from harness.metrics.evaluate import UNKNOWN_STRATUM, compute_metrics, summarize_table
from harness.metrics.grounding import accuracy_at, cumulative_iou, mean_iou
from harness.metrics.iou_thresholds import DEFAULT_IOU_THRESHOLDS, acc_key, parse_iou_thresholds
from harness.metrics.sample_outcome import InvalidOutcome, OutcomeTable, SampleOutcome

__all__ = [
    "AP50Evaluator",
    "DEFAULT_IOU_THRESHOLDS",
    "InvalidOutcome",
    "OutcomeTable",
    "SampleOutcome",
    "UNKNOWN_STRATUM",
    "acc_key",
    "accuracy_at",
    "average_precision_50",
    "box_area",
    "bootstrap_ci",
    "compute_metrics",
    "cumulative_iou",
    "mean_iou",
    "paired_box_iou",
    "parse_iou_thresholds",
    "summarize_table",
]
