"""`mmgdino-*`: MM-Grounding-DINO from transformers (`MMGroundingDinoForObjectDetection`), local or hub weights.

Same processor, captions and outputs as Grounding DINO, so it reuses that family's grounder.
"""

from __future__ import annotations

from typing import Any

from idg_adapters.grounder_adapter import register_grounder_family
from idg_adapters.hf_grounding_dino import HFGroundingDinoAdapter


class MMGroundingDinoAdapter(HFGroundingDinoAdapter):
    family = "mmgdino"
    family_description = "MM-Grounding-DINO (transformers), local or hub weights"
    weights_example = "/path/to/mm_grounding_dino_tiny_o365v1_goldg"

    def model_class(self) -> Any:
        from transformers import MMGroundingDinoForObjectDetection

        return MMGroundingDinoForObjectDetection


register_grounder_family(MMGroundingDinoAdapter)
