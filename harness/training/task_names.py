"""Trainable models by name, as "module:Class" of their TrainingTask: imported only when trained,
so `harness --help` does not import torch."""

_DIFFTRACKER = "harness.training.difftracker_task"

TASKS: dict[str, str] = {
    "cd-siamese": "harness.training.cd_siamese_task:ChangeDetectionTask",
    "difftracker": f"{_DIFFTRACKER}:DiffTrackerTask",
    "difftracker-nodem": f"{_DIFFTRACKER}:DiffTrackerNoDemTask",
    "late-fusion": f"{_DIFFTRACKER}:LateFusionTask",
    "early-fusion": f"{_DIFFTRACKER}:EarlyFusionTask",
    "concat-canvas": f"{_DIFFTRACKER}:ConcatCanvasTask",
    "mdetr-style": f"{_DIFFTRACKER}:MdetrStyleTask",
}

DIFFTRACKER_FAMILY = ("difftracker", "difftracker-nodem", "late-fusion", "early-fusion", "concat-canvas", "mdetr-style")
"""Trained from one recipe: `harness train mdetr-style --config difftracker/configs/synth-cpu.yaml`
trains the control with DiffTracker's own config (the config's `task` names any family member)."""
