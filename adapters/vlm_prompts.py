"""Prompt templates of the multimodal-LLM adapters: YAML files, one default per model family.

A template file holds:

    system: optional system message (text or null)
    pair: |      the user text when A and B are sent as two images, A first; must contain {query}
    canvas: |    the user text when A|B are sent side by side on one image; must contain {query}
    convention: the box form the prompt asks for (a key of `box_text.CONVENTIONS`)
    coordinates: the scale of those numbers (one of `box_scales.SCALES`)

`{query}` is replaced by the sample's query as it is (no other placeholders, so braces in a query
are safe). The convention and the scale belong to the prompt, because the prompt is what asks for
them: an answer is read by what was asked, never by a guess. The template's text and its hash go
into the adapter's fingerprint, so editing a prompt invalidates the cached answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from idg_adapters.box_scales import SCALES
from idg_adapters.box_text import CONVENTIONS

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
"""The default templates shipped with the code, one per family (`<family>.yaml`)."""

QUERY = "{query}"
MODES = ("pair", "canvas")


class PromptError(ValueError):
    """A prompt template that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class PromptTemplate:
    source: str
    system: str | None
    pair: str
    canvas: str
    convention: str
    coordinates: str

    def user_text(self, mode: str, query: str) -> str:
        return (self.pair if mode == "pair" else self.canvas).replace(QUERY, query)

    def sha256(self) -> str:
        blob = json.dumps([self.system, self.pair, self.canvas, self.convention, self.coordinates], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def fingerprint_parts(self) -> dict[str, Any]:
        """What the adapter fingerprint keeps of the prompt: its full text and its hash."""
        return {
            "system": self.system,
            "pair": self.pair,
            "canvas": self.canvas,
            "convention": self.convention,
            "coordinates": self.coordinates,
            "sha256": self.sha256(),
        }


def resolve_prompt_path(value: str, family_default: str) -> Path:
    """`value` (a file path, or a bare name of a shipped template) or the family's default."""
    name = value.strip() or family_default
    path = Path(name).expanduser()
    if path.is_file():
        return path
    shipped = PROMPT_DIR / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if shipped.is_file():
        return shipped
    available = ", ".join(sorted(p.stem for p in PROMPT_DIR.glob("*.yaml")))
    raise PromptError(f"prompt template {name!r} not found: neither a file nor a shipped template ({available})")


def load_prompt(path: Path) -> PromptTemplate:
    """The template in `path`, checked field by field."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"prompt template {path}: cannot read ({exc})") from exc
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt template {path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise PromptError(f"prompt template {path}: must be a mapping with {', '.join(MODES)}, convention, coordinates")
    unknown = sorted(set(data) - {"system", "pair", "canvas", "convention", "coordinates", "description"})
    if unknown:
        raise PromptError(f"prompt template {path}: unknown field(s) {unknown}")
    for mode in MODES:
        text = data.get(mode)
        if not isinstance(text, str) or QUERY not in text:
            raise PromptError(f"prompt template {path}: field {mode!r} must be text containing {QUERY}")
    system = data.get("system")
    if system is not None and not isinstance(system, str):
        raise PromptError(f"prompt template {path}: field 'system' must be text or null")
    convention = data.get("convention")
    if convention not in CONVENTIONS:
        raise PromptError(
            f"prompt template {path}: field 'convention' is {convention!r}; choose from {', '.join(CONVENTIONS)}"
        )
    coordinates = data.get("coordinates")
    if coordinates not in SCALES:
        raise PromptError(
            f"prompt template {path}: field 'coordinates' is {coordinates!r}; choose from {', '.join(SCALES)}"
        )
    return PromptTemplate(
        source=str(path),
        system=system or None,
        pair=data["pair"].strip(),
        canvas=data["canvas"].strip(),
        convention=convention,
        coordinates=coordinates,
    )
