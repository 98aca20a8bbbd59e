"""Position in the content stream (config `position_in_values`): what an attention layer's values,
or the referring score, see of the tokens' or boxes' positions.

  False     content only (the paper's design): position reaches the content stream only through
            the attention weights;
  True      content + position;
  "gated"   content + g * position, with a learned scalar g per layer that starts at 0, so a model
            starts exactly as without position and adds it only as far as training finds it useful.
"""

from __future__ import annotations

import torch
from torch import nn

POSITION_IN_VALUES: tuple[bool | str, ...] = (False, True, "gated")


def is_position_mode(mode: object) -> bool:
    """True for False, True or "gated" (not for 0, 1 or other values that compare equal to them)."""
    return mode is True or mode is False or mode == "gated"


class ValuePosition(nn.Module):
    def __init__(self, mode: bool | str) -> None:
        super().__init__()
        if not is_position_mode(mode):
            raise ValueError(f"position_in_values must be one of {POSITION_IN_VALUES}, got {mode!r}")
        self.mode = mode
        self.gate = nn.Parameter(torch.zeros(())) if mode == "gated" else None

    def forward(self, content: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        if self.gate is not None:
            return content + self.gate * position
        return content + position if self.mode is True else content

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
