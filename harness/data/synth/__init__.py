"""DiffGround-Synth: the bundled, procedurally generated (seeded, deterministic) IDG benchmark."""

from harness.data.synth.config import SynthConfig, SynthReport
from harness.data.synth.generator import DatasetExistsError, generate_dataset

__all__ = ["DatasetExistsError", "SynthConfig", "SynthReport", "generate_dataset"]
