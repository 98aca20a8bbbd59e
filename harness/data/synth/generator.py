"""Generate a DiffGround-Synth dataset folder: splits, files, manifest.jsonl and dataset.json.

Each split gets pairs `<split>-00000, -00001, ...` until its query quota is met; the surplus
queries of the last pair are trimmed (counted), so every split holds exactly its quota.
Pair k of a split is drawn from SeedSequence(seed, spawn_key=(split, k)), so the bytes do not
depend on the number of worker processes. Version 2 draws camera nuisance (test-robust, robust
train pairs, `robust`) from SeedSequence(seed, spawn_key=(split, k, 1)), a stream of its own, and
train queries' paraphrases (`train_paraphrases`) from spawn_key (split, k, 2), another.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.manifest import (
    DATASET_INFO_NAME,
    MANIFEST_NAME,
    dataset_fingerprint,
    read_dataset_info,
    write_dataset_info,
    write_manifest,
)
from harness.data.schema import EDIT_TYPES, Sample
from harness.data.synth.backgrounds import PHOTO_TEXTURE_PROVENANCE
from harness.data.synth.config import (
    DATASET_NAME,
    GENERATOR_NAME,
    NOVEL_SPLIT,
    ROBUST_SPLIT,
    SPLITS_V2,
    SynthConfig,
    SynthReport,
)
from harness.data.synth.held_out import inventory, novel_frame_ids
from harness.data.synth.pair import MIN_MASK_PIXELS, SynthPair, build_pair
from harness.data.synth.pair import __doc__ as BOX_RULE
from harness.data.synth.png_encoding import FILTER_NONE, FILTER_UP, encode_png
from harness.data.synth.scene import SceneObject
from harness.errors import HarnessError

SOURCE = "diffground-synth"
# Version 1's splits keep their codes (train 0, val 1, test 2), so both versions draw the same scenes.
SPLIT_CODES = {split: code for code, split in enumerate(SPLITS_V2)}
OUTPUT_DIRS = ("images", "masks")


class DatasetExistsError(HarnessError):
    """The output folder already holds something other than this exact dataset."""


@dataclass
class EncodedPair:
    """A pair ready to write: file bytes by relative path and one Sample per accepted query."""

    pair_id: str
    images: dict[str, bytes]
    samples: list[Sample] = field(default_factory=list)
    masks: list[tuple[str, bytes]] = field(default_factory=list)  # aligned with samples
    rewritten: int = 0
    dropped: int = 0


def pair_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(SPLIT_CODES[split], index)))


def nuisance_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(SPLIT_CODES[split], index, 1)))


def paraphrase_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(SPLIT_CODES[split], index, 2)))


def _describe(obj: SceneObject | None) -> dict[str, str] | None:
    return None if obj is None else obj.attributes()


def _build(seed: int, split: str, index: int, config: SynthConfig) -> SynthPair:
    """Pair `index` of `split`: version 1 as it always was; version 2 with its phrasing and nuisance."""
    rng = pair_rng(seed, split, index)
    if config.version == 1:
        return build_pair(rng, config)
    nuisance = nuisance_rng(seed, split, index)
    # The share test draws first from the nuisance stream, so it never moves the scene's draws.
    robust = (
        config.robust
        or split == ROBUST_SPLIT
        or (split == "train" and config.robust_train_fraction > 0 and nuisance.random() < config.robust_train_fraction)
    )
    phrasing = "novel" if split == NOVEL_SPLIT else "seen"
    paraphrases = paraphrase_rng(seed, split, index) if split == "train" and config.train_paraphrases else None
    return build_pair(rng, config, nuisance if robust else None, phrasing, paraphrases)


def encode_pair(job: tuple[int, str, int, SynthConfig]) -> EncodedPair:
    """Build and encode pair `index` of `split` (top-level so worker processes can run it)."""
    seed, split, index, config = job
    pair = _build(seed, split, index, config)
    row_filter = FILTER_UP if config.version == 1 else FILTER_NONE
    pair_id = f"{split}-{index:05d}"
    image_a = f"images/{pair_id}_a.png"
    if pair.robust is not None:
        image_b = f"images/{pair_id}_b.jpg"
        buffer = io.BytesIO()
        Image.fromarray(pair.image_b).save(buffer, format="JPEG", quality=pair.robust.jpeg_quality)
        b_bytes = buffer.getvalue()
    else:
        image_b = f"images/{pair_id}_b.png"
        b_bytes = encode_png(pair.image_b, config.png_compress_level, row_filter)
    a_bytes = encode_png(pair.image_a, config.png_compress_level, row_filter)
    encoded = EncodedPair(pair_id, {image_a: a_bytes, image_b: b_bytes})
    for k, difference in enumerate(pair.differences):
        choice = difference.query
        if choice is None or choice.candidate is None:
            encoded.dropped += 1
            continue
        encoded.rewritten += int(choice.rewritten)
        sample_id = f"{pair_id}-d{k}"
        mask_path = f"masks/{sample_id}.png"
        edit = difference.edit
        if config.version == 1:
            attributes = {"template": choice.candidate.template_id, "template_family": choice.candidate.family}
        else:
            attributes = choice.candidate.attributes()
        attributes |= {
            "target_before": _describe(edit.before),
            "target_after": _describe(edit.after),
            "n_differences": len(pair.differences),
            "background": pair.background.kind,
        }
        if edit.subtype is not None:
            attributes["edit_subtype"] = edit.subtype
        if pair.robust is not None:
            attributes["robust"] = pair.robust.to_dict()
        encoded.samples.append(
            Sample(
                id=sample_id,
                pair_id=pair_id,
                split=split,
                image_a=image_a,
                image_b=image_b,
                query=choice.candidate.text,
                box=difference.box,
                edit_type=edit.edit_type,
                width=pair.width,
                height=pair.height,
                mask_b=mask_path,
                attributes=attributes,
                source=SOURCE,
            )
        )
        mask_pixels = difference.mask.view(np.uint8) * np.uint8(255)
        encoded.masks.append((mask_path, encode_png(mask_pixels, config.png_compress_level, row_filter)))
    return encoded


def _generator_identity(config: SynthConfig) -> dict:
    return {"name": GENERATOR_NAME, "version": config.version_string, "seed": config.seed, "config": config.identity()}


def _prepare_out_dir(out_dir: Path, config: SynthConfig, overwrite: bool) -> None:
    """Refuse a non-empty folder holding a different dataset; clear this generator's own outputs."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetExistsError(f"{out_dir}: exists and is not a folder; choose another output path")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        try:
            existing = read_dataset_info(out_dir).get("generator")
        except HarnessError:
            existing = None
        if existing != _generator_identity(config) and not overwrite:
            raise DatasetExistsError(
                f"{out_dir}: folder is not empty and does not hold this exact DiffGround-Synth dataset "
                "(same generator version, seed and config); choose an empty folder or pass overwrite=True "
                "(CLI: --overwrite) to replace its manifest.jsonl, dataset.json, images/ and masks/"
            )
        for name in OUTPUT_DIRS:
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in (MANIFEST_NAME, DATASET_INFO_NAME):
            (out_dir / name).unlink(missing_ok=True)
    for name in OUTPUT_DIRS:
        (out_dir / name).mkdir(parents=True, exist_ok=True)


def _encoded_pairs(
    config: SynthConfig, split: str, pool, remaining_queries: Callable[[], int]
) -> Iterator[EncodedPair]:
    """Pairs 0, 1, 2, ... of a split, in order; with a pool, batches sized to the queries still needed."""
    index = 0
    while True:
        if pool is None:
            yield encode_pair((config.seed, split, index, config))
            index += 1
            continue
        # About 3 queries a pair: ask for a little more than needed so one batch usually suffices.
        batch = min(max(2 * config.workers, math.ceil(remaining_queries() / 2.5)), 64 * config.workers)
        jobs = [(config.seed, split, i, config) for i in range(index, index + batch)]
        results = pool.imap(encode_pair, jobs, chunksize=max(1, batch // (4 * config.workers)))
        try:
            yield from results
        finally:
            # When the caller stops early (quota met), let the batch finish: a pool shut down with
            # tasks still in flight can hang in Pool.terminate (seen once in CI).
            for _ in results:
                pass
        index += batch


def _write_pair(out_dir: Path, encoded: EncodedPair, keep: int) -> None:
    for rel, data in encoded.images.items():
        (out_dir / rel).write_bytes(data)
    for rel, data in encoded.masks[:keep]:
        (out_dir / rel).write_bytes(data)


def _language_info(report: SynthReport) -> dict:
    """Version 2's phrasing facts: what each phrasing may use and which frames were used."""
    return {
        "phrasing": {"seen": "train, val, test, test-robust", "novel": NOVEL_SPLIT},
        "inventory": inventory(),
        "novel_frames": sorted(novel_frame_ids()),
        "held_out_rule": "docs/diffground-synth.md; harness/data/synth/held_out.py",
        "frames_used": dict(sorted(report.frames_used.items())),
    }


def _dataset_info(config: SynthConfig, report: SynthReport) -> dict:
    info = {
        "name": DATASET_NAME,
        "version": config.version_string,
        "licence": {
            "data": "CC0-1.0",
            "note": "Generated images, masks and queries are dedicated to the public domain (CC0-1.0). "
            + PHOTO_TEXTURE_PROVENANCE,
        },
        "generator": _generator_identity(config),
        "edit_types": list(EDIT_TYPES),
        "box_rule": " ".join(BOX_RULE.split()),
        "min_mask_pixels": MIN_MASK_PIXELS,
        "splits": {
            split: {"queries": report.queries_per_split[split], "pairs": report.pairs_per_split[split]}
            for split in config.splits
        },
        "query_check": {"rewritten": report.rewritten, "dropped": report.dropped, "trimmed": report.trimmed},
        "templates_used": dict(sorted(report.templates_used.items())),
    }
    if config.version >= 2:
        info["query_check"]["per_split"] = report.query_check_per_split
        info["language"] = _language_info(report)
    return info


def _fill_split(
    out_dir: Path,
    config: SynthConfig,
    split: str,
    pool,
    report: SynthReport,
    samples: list[Sample],
    progress: Callable[[int, int], None] | None,
    total: int,
) -> None:
    """Write pairs of `split` until its quota of queries is met exactly (the last pair trimmed)."""
    quota = config.quota(split)
    tally = report.queries_per_split
    tally[split] = pairs = 0
    check = report.query_check_per_split.setdefault(split, {"rewritten": 0, "dropped": 0, "trimmed": 0})
    encoded_pairs = _encoded_pairs(config, split, pool, lambda: quota - tally[split])
    try:
        for encoded in encoded_pairs if quota > 0 else ():
            report.rewritten += encoded.rewritten
            report.dropped += encoded.dropped
            check["rewritten"] += encoded.rewritten
            check["dropped"] += encoded.dropped
            if not encoded.samples:
                continue
            keep = min(len(encoded.samples), quota - tally[split])
            report.trimmed += len(encoded.samples) - keep
            check["trimmed"] += len(encoded.samples) - keep
            _write_pair(out_dir, encoded, keep)
            for sample in encoded.samples[:keep]:
                template_id = sample.attributes["template"]
                report.templates_used[template_id] = report.templates_used.get(template_id, 0) + 1
                frame = sample.attributes.get("frame")
                if frame is not None:
                    report.frames_used[frame] = report.frames_used.get(frame, 0) + 1
            samples.extend(encoded.samples[:keep])
            tally[split] += keep
            pairs += 1
            if progress is not None:
                progress(len(samples), total)
            if tally[split] >= quota:
                break
    finally:
        encoded_pairs.close()  # lets the pool finish its last batch (see _encoded_pairs)
    report.pairs_per_split[split] = pairs


def generate_dataset(
    out_dir: Path,
    config: SynthConfig,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> SynthReport:
    """Write the dataset into `out_dir` and return what was produced (`progress(done, total)` per pair).

    Raises DatasetExistsError when `out_dir` is non-empty and holds a different dataset, unless
    `overwrite` is set.
    """
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, config, overwrite)
    started = time.perf_counter()
    report = SynthReport(out_dir=str(out_dir))
    total = sum(config.quota(split) for split in config.splits)
    samples: list[Sample] = []
    pool = multiprocessing.get_context("spawn").Pool(config.workers) if config.workers > 1 else None
    try:
        for split in config.splits:
            _fill_split(out_dir, config, split, pool, report, samples, progress, total)
    except BaseException:
        if pool is not None:
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()  # every batch was drained, so nothing is in flight and close + join cannot hang
        pool.join()
    write_manifest(out_dir, samples)
    info = _dataset_info(config, report)
    info["fingerprint"] = dataset_fingerprint(out_dir)
    write_dataset_info(out_dir, info)
    report.elapsed_s = time.perf_counter() - started
    report.queries_per_second = report.total_queries / report.elapsed_s if report.elapsed_s > 0 else math.inf
    return report
