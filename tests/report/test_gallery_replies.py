"""Raw replies of a text-answering model in the failure gallery (escaped, long ones cut with a marker),
and a reply without a readable box counted as its own failure class."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from harness.report.build_report import write_report
from harness.report.failure_taxonomy import NO_BOX_IN_REPLY, NO_PREDICTION
from harness.report.gallery import MAX_REPLY_CHARS, shown_reply
from harness.report.per_sample import RunDataset, model_sample_results
from harness.report.runs import load_run
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from idg_adapters.registry import register, unregister
from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest
from tests.box_check_fake import write_prompt
from tests.report.conftest import XSS_QUERY
from tests.report.html_check import check_html

NAME = "test-replying-vlm"
LONG_REPLY = "I think the change is here: [0, 0, 4, 4]. " + "Let me explain at length. " * 200


class _Replying(VlmAdapter):
    """Replies by query: a hostile text without a box, or a long text with a box in a corner."""

    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:
        return [VlmAnswer(XSS_QUERY if "taken away" in r.text else LONG_REPLY) for r in requests]


@pytest.fixture
def replying_run(tiny_dataset: Path, tmp_path: Path):
    register(NAME)(_Replying)
    try:
        config = RunConfig(
            models=[NAME, "center-prior"],
            split="test",
            dataset=tiny_dataset,
            output_dir=tmp_path / "results",
            device="cpu",
            run_id="replies",
            adapter_options={NAME: {"prompt": str(write_prompt(tmp_path, "pixels"))}},
        )
        yield load_run(run_evaluation(config, Console(quiet=True)).run_dir)
    finally:
        unregister(NAME)


def test_a_reply_without_a_box_is_its_own_class(replying_run) -> None:
    dataset = RunDataset.for_run(replying_run)
    results = {r.id: r for r in model_sample_results(replying_run, NAME, dataset)}
    assert results["test-000-d0"].failure == NO_BOX_IN_REPLY and results["test-000-d0"].error is None
    assert results["test-000-d0"].reply == XSS_QUERY
    assert results["test-000-d1"].failure not in (NO_BOX_IN_REPLY, NO_PREDICTION)
    others = model_sample_results(replying_run, "center-prior", dataset)
    assert all(r.reply is None and r.failure != NO_BOX_IN_REPLY for r in others)


def test_gallery_shows_replies_escaped_and_truncated(replying_run, tmp_path: Path) -> None:
    out = tmp_path / "boards"
    write_report([replying_run], out)
    pages = list((out / "galleries" / NAME).glob("*.html"))
    texts = [p.read_text(encoding="utf-8") for p in pages]
    for text in texts:
        check_html(text)
        assert XSS_QUERY not in text
    joined = "\n".join(texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "the model replied:" in joined and f"{NO_BOX_IN_REPLY}-1.html" in {p.name for p in pages}
    assert "I think the change is here: [0, 0, 4, 4]." in joined
    assert f"[reply truncated: {len(LONG_REPLY) - MAX_REPLY_CHARS:,} more characters not shown]" in joined
    assert LONG_REPLY not in joined
    # Models without replies show none.
    center = "\n".join(p.read_text(encoding="utf-8") for p in (out / "galleries" / "center-prior").glob("*.html"))
    assert "replied:" not in center
    assert f"| {NO_BOX_IN_REPLY} |" in (out / "leaderboard.md").read_text(encoding="utf-8").replace("`", "")


def test_shown_reply_keeps_short_replies_whole() -> None:
    assert shown_reply("[1, 2, 3, 4]") == "[1, 2, 3, 4]"
    assert shown_reply("x" * 11, limit=10) == "x" * 10 + "… [reply truncated: 1 more characters not shown]"
