"""A grounder's weights as a hub model id: refused without --allow-download, resolved through the HF
cache with it (offline: a hand-made cache holding the tiny OWLv2), the commit in the fingerprint and
in run.json; checked through the adapter, `harness models` and `harness run`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from idg_adapters import registry
from idg_adapters.base import AdapterUnavailable
from tests.adapters.conftest import varied_pairs
from tests.adapters.fake_hub_cache import COMMIT_MAIN, COMMIT_V2, add_snapshot, use_fake_hub_cache

REPO = "tiny-org/tiny-owlv2"
NAME = "owlv2-b"
REFUSED = f"`{REPO}` is not a local path; pass --allow-download to fetch it from the hub, or give a local directory"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_fake_hub_cache(tmp_path, monkeypatch)


@pytest.fixture
def cached_owlv2(hub_cache: Path, tiny_grounder_options: Callable[[str], dict[str, Any]]) -> Path:
    """The tiny OWLv2 as `REPO` in the cache: `main` at COMMIT_MAIN, tag `v2` at COMMIT_V2."""
    source = Path(tiny_grounder_options("owlv2")["weights"])
    add_snapshot(hub_cache, REPO, COMMIT_MAIN, files_from=source)
    add_snapshot(hub_cache, REPO, COMMIT_V2, refs=("v2",), files_from=source)
    return hub_cache


def _adapter(weights: str, allow_download: bool) -> Any:
    adapter = registry.create_adapter(NAME, weights=weights)
    adapter.allow_download = allow_download
    return adapter


def test_hub_id_needs_allow_download(cached_owlv2: Path) -> None:
    adapter = _adapter(REPO, allow_download=False)
    for step in (adapter.check, lambda: adapter.load("cpu")):
        with pytest.raises(AdapterUnavailable) as refused:
            step()
        assert refused.value.reason == REFUSED
        assert refused.value.how_to_enable.startswith(f"--allow-download, or --opt {NAME}.weights=")


def test_check_does_not_download(hub_cache: Path) -> None:
    adapter = _adapter(REPO, allow_download=True)
    adapter.check()  # not cached, offline: still available, fetched at load
    assert adapter.check_note() == f"weights `{REPO}` will be fetched from the hub at load"
    with pytest.raises(AdapterUnavailable, match="not in the local Hugging Face cache"):
        adapter.load("cpu")


def test_hub_weights_load_with_their_commit_in_the_fingerprint(cached_owlv2: Path) -> None:
    main_branch = _adapter(REPO, allow_download=True)
    main_branch.check()
    assert main_branch.check_note() == f"weights `{REPO}` from the hub, cached at commit {COMMIT_MAIN[:12]}"
    main_branch.load("cpu")
    assert main_branch.options["weights"] == f"{REPO}@{COMMIT_MAIN}"
    parts = main_branch.fingerprint_parts()
    assert parts["weights_revision"] == COMMIT_MAIN and "weights_sha256" not in parts
    (prediction,) = main_branch.predict(varied_pairs()[:1])
    assert prediction.error is None and len(prediction.boxes) >= 1

    same = _adapter(f"{REPO}@main", allow_download=True)
    same.load("cpu")
    assert same.fingerprint() == main_branch.fingerprint()
    tagged = _adapter(f"{REPO}@v2", allow_download=True)
    tagged.load("cpu")
    assert tagged.options["weights"] == f"{REPO}@{COMMIT_V2}"
    assert tagged.fingerprint() != main_branch.fingerprint()


def test_local_weights_keep_the_content_hash(cached_owlv2: Path) -> None:
    local = cached_owlv2 / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT_MAIN
    adapter = _adapter(str(local), allow_download=True)
    adapter.load("cpu")
    assert adapter.options["weights"] == str(local)
    parts = adapter.fingerprint_parts()
    assert "weights_revision" not in parts and len(parts["weights_sha256"]) == 64
    assert adapter.check_note() is None


def test_harness_models_says_why_and_what_happens(cached_owlv2: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = f"--opt={NAME}.weights={REPO}"
    assert main(["models", NAME, weights]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "runs here: no" in out and f"why not: {REFUSED}" in out
    assert "to enable: --allow-download, or --opt" in out
    assert main(["models", NAME, weights, "--allow-download"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "runs here: yes" in out and f"from the hub, cached at commit {COMMIT_MAIN[:12]}" in out
    assert main(["models", NAME, f"--opt={NAME}.weights=other-org/uncached", "--allow-download"]) == 0
    assert "will be fetched from the hub at load" in capsys.readouterr().out


def test_harness_run_skips_then_runs_the_hub_model(
    cached_owlv2: Path, tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    argv = ["run", "--models", NAME, "--dataset", str(tiny_dataset), "--output-dir", str(results)]
    argv += ["--opt", f"{NAME}.weights={REPO}", "--loader-workers", "0"]
    assert main([*argv, "--run-id", "refused"]) == 1
    entry = json.loads((results / "refused" / "run.json").read_text())["models"][NAME]
    assert entry["status"] == "skipped" and entry["reason"] == REFUSED
    assert REFUSED in " ".join(capsys.readouterr().out.split())

    assert main([*argv, "--run-id", "fetched", "--allow-download"]) == 0
    entry = json.loads((results / "fetched" / "run.json").read_text())["models"][NAME]
    assert entry["status"] == "done"
    assert entry["options"]["weights"] == f"{REPO}@{COMMIT_MAIN}"
