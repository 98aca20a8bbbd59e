"""Datasets: the DiffGround manifest schema, its I/O and validation, the synthetic generator."""
