"""The IDG failure taxonomy: why a top-1 box missed its target, as one class per sample.

The checks run in this order; the first that applies names the class:

1. `error`: the adapter failed on the sample.
2. `no-box-in-reply`: a model that answers in text replied, but no box could be read from the
   reply (another form than the prompt asked for, a refusal, prose): a parsing or prompting
   problem to look at in the gallery's raw replies, not a model crash.
3. `no-prediction`: no error and no reply, and no box.
4. `hit`: IoU >= 0.5 with the target. Not a failure; galleries leave hits out.
5. `wrong-difference`: IoU >= 0.5 with another difference of the same pair: the model saw a
   change but misread the query.
6. `loose-box`: 0.1 <= IoU < 0.5 with the target: it found the difference and boxed it badly.
7. `unchanged-region`: the box touches no changed pixel: the model did not see the change.
8. `off-target`: the rest: the box touches changed pixels but matches no difference (e.g. a box
   spanning two differences, or a sliver of a changed object).

"Changed pixel" is the union of the pair's `mask_b` change masks when every difference of the
pair has a mask, else the union of the pair's target boxes (coarser: a box's corners count as
changed).
"""

from __future__ import annotations

from harness.metrics.box_iou import HIT_IOU, LOOSE_IOU

HIT = "hit"
ERROR = "error"
NO_PREDICTION = "no-prediction"
NO_BOX_IN_REPLY = "no-box-in-reply"
WRONG_DIFFERENCE = "wrong-difference"
LOOSE_BOX = "loose-box"
UNCHANGED_REGION = "unchanged-region"
OFF_TARGET = "off-target"

OTHER_DIFFERENCE_IOU = HIT_IOU  # the box would be a hit for that other difference

FAILURE_CLASSES: tuple[str, ...] = (
    WRONG_DIFFERENCE,
    UNCHANGED_REGION,
    LOOSE_BOX,
    OFF_TARGET,
    NO_PREDICTION,
    NO_BOX_IN_REPLY,
    ERROR,
)
"""Every failure class, in the order reports list them."""

FAILURE_DESCRIPTIONS: dict[str, str] = {
    WRONG_DIFFERENCE: "the box matches another difference of the pair (IoU ≥ 0.5): saw a change, misread the query",
    UNCHANGED_REGION: "the box touches no changed pixel: did not see the change",
    LOOSE_BOX: "0.1 ≤ IoU < 0.5 with the target: found it, boxed it badly",
    OFF_TARGET: "touches changed pixels but matches no difference (e.g. spans several)",
    NO_PREDICTION: "the model returned no box",
    NO_BOX_IN_REPLY: "the model replied in text, but no box could be read from its reply (see the raw reply)",
    ERROR: "the adapter failed on this sample",
}


def classify_outcome(
    *,
    error: bool,
    has_box: bool,
    iou: float,
    best_other_iou: float,
    touches_change: bool,
    has_reply: bool = False,
) -> str:
    """The taxonomy class of one sample (`hit` when it is not a failure); see the module docstring."""
    if error:
        return ERROR
    if not has_box:
        return NO_BOX_IN_REPLY if has_reply else NO_PREDICTION
    if iou >= HIT_IOU:
        return HIT
    if best_other_iou >= OTHER_DIFFERENCE_IOU:
        return WRONG_DIFFERENCE
    if iou >= LOOSE_IOU:
        return LOOSE_BOX
    if not touches_change:
        return UNCHANGED_REGION
    return OFF_TARGET
