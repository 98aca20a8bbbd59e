"""Trainable models by name, as "module:Class" of their TrainingTask: imported only when trained,
so `harness --help` does not import torch. DiffTracker adds its entry here."""

TASKS: dict[str, str] = {
    "cd-siamese": "harness.training.cd_siamese_task:ChangeDetectionTask",
}
