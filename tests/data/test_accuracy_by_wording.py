"""bench/accuracy_by_wording.py: the strata it reads from a query's attributes and the figures of
its table, checked by hand on a small dataset with made-up hits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.data.manifest import read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from tests.script_module import BENCH, load_script

SCRIPT = BENCH / "accuracy_by_wording.py"


def _script():
    return load_script("accuracy_by_wording", BENCH)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wording") / "synth"
    config = SynthConfig(seed=4, n_train=0, n_val=40, n_test=0, n_test_novel=0, n_test_robust=0, max_size=256)
    generate_dataset(root, config)
    return root


def test_strata_and_points_lost(dataset: Path, tmp_path: Path) -> None:
    script = _script()
    samples = {s.id: s for s in read_manifest(dataset).samples}
    ids = sorted(samples)
    keys = {i: script.wording_keys(samples[i].attributes) for i in ids}
    assert all(k["pattern"].startswith("np.") and k["template"].startswith(k["family"] + ".") for k in keys.values())
    # Every query of the first family misses, every other query hits.
    family = keys[ids[0]]["family"]
    hits = {i: keys[i]["family"] != family for i in ids}
    n = sum(not h for h in hits.values())
    row = next(line for line in script.table(samples, hits, None, "family", 10) if line.startswith(f"| {family} |"))
    assert row == f"| {family} | {n} | 0.0 | {100 * n / len(ids):.1f} |"
    saved = tmp_path / "hits.json"
    saved.write_text(
        json.dumps({"ids": ids, "hits": {"tokens-mean": [hits[i] for i in ids], "decoder": [True] * len(ids)}})
    )
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", str(dataset), "--hits", str(saved), "--against", f"{saved}:decoder"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"{100 * (len(ids) - n) / len(ids):.1f} Acc@0.5 on {len(ids)} queries" in out
    assert f"| {family} | {n} | 0.0 | {100 * n / len(ids):.1f} | 100.0 |" in out
    assert "| pattern | n | Acc@0.5 | points lost | other |" in out


def test_an_unknown_ranking_is_named(dataset: Path, tmp_path: Path) -> None:
    saved = tmp_path / "hits.json"
    saved.write_text(json.dumps({"ids": [], "hits": {"decoder": []}}))
    with pytest.raises(SystemExit, match="no ranking 'tokens-max'"):
        _script().read_hits(f"{saved}:tokens-max")
