"""Trainable models by name, as "module:Class" of their TrainingTask: imported only when trained,
so `harness --help` does not import torch. The DiffTracker family comes from difftracker/config.py's
VARIANTS, whose task classes harness/training/difftracker_task.py generates."""

from difftracker.config import VARIANTS, variant_class_name

_DIFFTRACKER = "harness.training.difftracker_task"


def task_class_name(variant: str) -> str:
    """The generated task class of a DiffTracker variant: `late-fusion` -> `LateFusionTask`."""
    return f"{variant_class_name(variant)}Task"


DIFFTRACKER_FAMILY: tuple[str, ...] = tuple(VARIANTS)
"""Trained from one recipe: `harness train mdetr-style --config difftracker/configs/v2-quick.yaml`
trains the control with DiffTracker's own config (the config's `task` names any family member)."""

TASKS: dict[str, str] = {
    "cd-siamese": "harness.training.cd_siamese_task:ChangeDetectionTask",
    **{variant: f"{_DIFFTRACKER}:{task_class_name(variant)}" for variant in DIFFTRACKER_FAMILY},
}
