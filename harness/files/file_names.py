"""Turning names (models, splits, sections) into safe file and folder names."""

from __future__ import annotations

SAFE_PUNCTUATION = "-_.@"


def safe_file_name(name: str, keep: str = SAFE_PUNCTUATION) -> str:
    """`name` with every character that is not alphanumeric or in `keep` replaced by `_`."""
    return "".join(c if c.isalnum() or c in keep else "_" for c in name)
