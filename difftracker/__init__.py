"""DiffTracker: DETR-style grounding over two images with a Difference Enhancement Module.

This package must not import `harness`: the harness depends on it, never the other way round.
"""
