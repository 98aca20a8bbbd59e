"""Training on paraphrases (DiffTracker task option `paraphrases`): which wording a train query is
read as, that a resume draws the same, that validation reads the queries as written, and the
errors for a dataset that cannot serve it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from difftracker.text_encoder import TextFeatures
from harness.data.synth import SynthConfig, generate_dataset
from harness.training.config import TrainConfigError
from harness.training.difftracker_task import DiffTrackerTask
from harness.training.grounding_pairs import GroundingDataError, grounding_pairs
from tests.difftracker.conftest import tiny_model_options

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def paraphrased_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("para") / "synth"
    config = SynthConfig(
        seed=3, n_train=8, n_val=6, n_test=0, n_test_novel=0, n_test_robust=0, min_size=128, max_size=128,
        train_paraphrases=3,
    )  # fmt: skip
    generate_dataset(root, config)
    return root


def _task(dataset: Path, text_encoder: Path, seed: int = 0, **options) -> DiffTrackerTask:
    opts = {"model": tiny_model_options(text_encoder), "loader_threads": 1, "max_val_pairs": 2, **options}
    return DiffTrackerTask(opts, dataset, seed=seed)


def test_each_epoch_reads_one_wording_per_query(paraphrased_synth: Path, tiny_text_encoder: Path) -> None:
    task = _task(paraphrased_synth, tiny_text_encoder, paraphrases=True)
    task.prepare()
    queries = [q for pair in task.train_pairs for q in pair.queries]
    assert all(len(q.paraphrases) == 3 for q in queries)
    picked = Counter()
    for epoch in range(12):
        for query in queries:
            text = task._wording(query, epoch)
            assert text in (query.query, *query.paraphrases)
            picked[(query.query, text)] += 1
    assert len(picked) > 2 * len(queries)  # the wording changes from epoch to epoch
    assert any(text == query for query, text in picked)  # the recorded query is one of the wordings
    # A resumed run (a new task, same seed) reads the same wordings; another seed reads others.
    again, other = (
        _task(paraphrased_synth, tiny_text_encoder, paraphrases=True),
        _task(paraphrased_synth, tiny_text_encoder, seed=1, paraphrases=True),
    )
    assert [again._wording(q, 5) for q in queries] == [task._wording(q, 5) for q in queries]
    assert [other._wording(q, 5) for q in queries] != [task._wording(q, 5) for q in queries]


def test_train_batches_carry_the_chosen_wordings(paraphrased_synth: Path, tiny_text_encoder: Path) -> None:
    task = _task(paraphrased_synth, tiny_text_encoder, paraphrases=True)
    task.prepare()
    for epoch in (0, 1):
        batch = task.train_batch([0, 1], epoch=epoch, device=CPU)
        texts = [task._wording(q, epoch) for i in (0, 1) for q in task.train_pairs[i].queries]
        expected = TextFeatures.concat([task.text_cache[t] for t in texts])
        assert torch.equal(batch.text.tokens, expected.tokens) and torch.equal(batch.text.mask, expected.mask)


def test_validation_and_plain_training_read_the_queries_as_written(
    paraphrased_synth: Path, tiny_text_encoder: Path
) -> None:
    plain = _task(paraphrased_synth, tiny_text_encoder)
    plain.prepare()
    queries = [q for pair in plain.train_pairs for q in pair.queries]
    assert all(plain._wording(q, epoch) == q.query for q in queries for epoch in range(4))
    assert not any(t in plain.text_cache for q in queries for t in q.paraphrases)  # not encoded when off
    para = _task(paraphrased_synth, tiny_text_encoder, paraphrases=True)
    para.prepare()
    assert all(not q.paraphrases for pair in para.val_pairs for q in pair.queries)  # val has none


def test_a_dataset_without_paraphrases_is_refused(tiny_synth: Path, tiny_text_encoder: Path) -> None:
    task = _task(tiny_synth, tiny_text_encoder, paraphrases=True)
    with pytest.raises(TrainConfigError, match="--train-paraphrases"):
        task.prepare()


def test_a_malformed_paraphrase_record_names_the_sample(paraphrased_synth: Path, tmp_path: Path) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "dataset.json").write_bytes((paraphrased_synth / "dataset.json").read_bytes())
    (root / "images").symlink_to(paraphrased_synth / "images")
    lines = (paraphrased_synth / "manifest.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["attributes"]["paraphrases"] = ["fine", ""]
    (root / "manifest.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(GroundingDataError, match=f"sample {first['id']}: attributes.paraphrases"):
        grounding_pairs(root, "train")
