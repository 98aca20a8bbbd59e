"""Training machinery shared by the harness's trainable models: config, loop, schedule, checkpoints, logs.

A model plugs in as a `TrainingTask` (harness/training/task.py); `harness train NAME` runs it.
"""
