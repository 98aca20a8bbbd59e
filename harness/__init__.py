"""idg-harness: the benchmark and evaluation harness for Image Difference Grounding."""

__version__ = "0.1.0"
