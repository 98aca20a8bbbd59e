"""DiffTracker: DETR-style grounding over two images with a Difference Enhancement Module.

The model lands with its own issue; this package must not import `harness` (DESIGN.md).
"""
