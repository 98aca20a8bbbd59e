"""The prediction cache contract: a cached answer is the answer the adapter would give now.

The cache keys a prediction on (adapter fingerprint, sample fingerprint), and the sample
fingerprint covers only the sample's content (query, image A, image B). Under `query-shuffle` a
sample takes another sample's query, so its fingerprint equals that other sample's, and the run
is served that sample's cached prediction. That is right only if every adapter's output is a
function of what the key covers, never of the sample id, the batch or the call order.

For every built-in adapter that runs without weights, a run whose controls share the cache with
the normal run must give exactly the predictions of a fresh `--no-cache` run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.run.controls import CONTROL_KINDS
from idg_adapters import registry
from idg_adapters.base import AdapterUnavailable


def _runs_without_weights(name: str) -> bool:
    try:
        registry.create_adapter(name).check()
    except AdapterUnavailable:
        return False  # the grounder families and cd-rerank-clip need weights
    return True


WEIGHTLESS = [name for name in registry.available_names() if _runs_without_weights(name)]


def _run(dataset: Path, output_dir: Path, run_id: str, model: str, *extra: str) -> dict:
    argv = ["run", "--models", model, "--dataset", str(dataset), "--output-dir", str(output_dir)]
    argv += ["--run-id", run_id, "--control", ",".join(CONTROL_KINDS), "--loader-workers", "0", "--device", "cpu"]
    assert main([*argv, *extra]) == 0
    return json.loads((output_dir / run_id / "run.json").read_text(encoding="utf-8"))["models"]


def _predictions(run_dir: Path, record_name: str) -> dict[str, dict]:
    lines = (run_dir / record_name / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The learned adapters are tiny here; on a busy 2-core machine OpenMP's waiting threads make
    them several times slower. Restored afterwards for the rest of the suite."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_weightless_adapters_are_found() -> None:
    assert {"pixel-diff", "center-prior", "random-box", "cd-siamese", "difftracker"} <= set(WEIGHTLESS)


@pytest.mark.parametrize("name", WEIGHTLESS)
def test_controls_served_from_the_cache_equal_a_fresh_run(name: str, tiny_dataset: Path, tmp_path: Path) -> None:
    shared, fresh = tmp_path / "shared", tmp_path / "fresh"
    # The normal run comes first and fills the cache; the controls then read it.
    models = _run(tiny_dataset, shared, "cached", name)
    shuffled = models[f"{name}@query-shuffle"]
    # Every shuffled query is another sample's, so every shuffled sample must be a cache hit;
    # otherwise this test would not exercise the cache at all.
    assert shuffled["shuffled"] > 0
    assert shuffled["cached"] == shuffled["shuffled"], shuffled
    _run(tiny_dataset, fresh, "fresh", name, "--no-cache")
    for record_name in (name, *(f"{name}@{kind}" for kind in CONTROL_KINDS)):
        served = _predictions(shared / "cached", record_name)
        recomputed = _predictions(fresh / "fresh", record_name)
        assert served.keys() == recomputed.keys()
        differing = sorted(i for i in served if served[i] != recomputed[i])
        assert not differing, (
            f"{record_name}: cached predictions differ from a --no-cache run on {differing}; "
            f"the output must depend only on what the cache key covers.\n"
            f"cached:     {[served[i] for i in differing[:2]]}\nrecomputed: {[recomputed[i] for i in differing[:2]]}"
        )
