"""Weights by local path or hub id (`adapters/weights_source.py`), offline against a hand-made HF cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from idg_adapters.base import AdapterUnavailable
from idg_adapters.weights_source import (
    HubRef,
    ResolvedWeights,
    hub_note,
    locate_weights,
    parse_hub_id,
    resolve_weights_dir,
)
from tests.adapters.fake_hub_cache import COMMIT_MAIN, COMMIT_V2, add_snapshot, use_fake_hub_cache

OPTION = "some-model.weights"
REPO = "tiny-org/tiny-model"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_fake_hub_cache(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Qwen/Qwen2.5-VL-7B-Instruct", HubRef("Qwen/Qwen2.5-VL-7B-Instruct")),
        ("google/owlv2-base-patch16-ensemble@main", HubRef("google/owlv2-base-patch16-ensemble", "main")),
        (f"org/name@{COMMIT_V2}", HubRef("org/name", COMMIT_V2)),
        ("org/name@refs/pr/3", HubRef("org/name", "refs/pr/3")),
        ("  org/name  ", HubRef("org/name")),
        ("gpt2", None),  # a bare name: the hub knows some, but here it is more likely a missing folder
        ("/abs/path", None),
        ("~/models/x", None),
        ("./x/y", None),
        ("a/b/c", None),
        ("org/na--me", None),
        ("org/name.git", None),
        ("org/name@", None),
        ("org/name@bad rev", None),
        ("C:\\models\\x", None),
    ],
)
def test_parse_hub_id(value: str, expected: HubRef | None) -> None:
    assert parse_hub_id(value) == expected


def test_hub_id_without_allow_download_is_refused(hub_cache: Path) -> None:
    add_snapshot(hub_cache, REPO, COMMIT_MAIN)  # even a cached model needs the flag
    for resolve in (locate_weights, resolve_weights_dir):
        with pytest.raises(AdapterUnavailable) as refused:
            resolve("Qwen/Qwen2.5-VL-7B-Instruct", OPTION, allow_download=False)
        assert refused.value.reason == (
            "`Qwen/Qwen2.5-VL-7B-Instruct` is not a local path; pass --allow-download to fetch it from the hub, "
            "or give a local directory"
        )
        assert refused.value.how_to_enable == f"--allow-download, or --opt {OPTION}=/path/to/local-model-dir"
        with pytest.raises(AdapterUnavailable, match=f"`{REPO}@v2` is not a local path"):
            resolve(f"{REPO}@v2", OPTION, allow_download=False, how_to_enable="HINT")


def test_local_paths_win_and_missing_ones_are_named(
    tmp_path: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "work"
    (local / REPO).mkdir(parents=True)
    monkeypatch.chdir(local)
    add_snapshot(hub_cache, REPO, COMMIT_MAIN)
    for allow in (False, True):
        # An existing relative folder that reads like a hub id is that folder.
        assert resolve_weights_dir(REPO, OPTION, allow) == ResolvedWeights(Path(REPO))
        assert locate_weights(str(local), OPTION, allow) == ResolvedWeights(local)
    with pytest.raises(AdapterUnavailable, match="no weights given") as empty:
        resolve_weights_dir("  ", OPTION, True, how_to_enable="--opt m.weights=/x")
    assert empty.value.how_to_enable == "--opt m.weights=/x"
    with pytest.raises(AdapterUnavailable, match=r"weights .*nowhere does not exist"):
        resolve_weights_dir(str(tmp_path / "nowhere"), OPTION, True)


def test_hub_id_resolves_to_the_cached_snapshot(hub_cache: Path) -> None:
    main = add_snapshot(hub_cache, REPO, COMMIT_MAIN)
    v2 = add_snapshot(hub_cache, REPO, COMMIT_V2, refs=("v2",))
    resolved = resolve_weights_dir(REPO, OPTION, allow_download=True)
    assert resolved == ResolvedWeights(main, REPO, COMMIT_MAIN)
    assert resolved.from_hub and resolved.pinned == f"{REPO}@{COMMIT_MAIN}"
    assert resolve_weights_dir(f"{REPO}@main", OPTION, True) == resolved
    assert resolve_weights_dir(f"{REPO}@v2", OPTION, True) == ResolvedWeights(v2, REPO, COMMIT_V2)
    assert resolve_weights_dir(f"{REPO}@{COMMIT_V2}", OPTION, True).path == v2
    # A pinned value resolves to itself: rerunning with run.json's options evaluates the same commit.
    assert resolve_weights_dir(resolved.pinned, OPTION, True) == resolved
    assert locate_weights(f"{REPO}@v2", OPTION, True) == ResolvedWeights(v2, REPO, COMMIT_V2)


def test_uncached_hub_id_offline(hub_cache: Path) -> None:
    # check() must not download: an uncached id is "to be fetched at load", not an error.
    assert locate_weights(REPO, OPTION, allow_download=True) is None
    with pytest.raises(AdapterUnavailable, match="not in the local Hugging Face cache") as offline:
        resolve_weights_dir(REPO, OPTION, allow_download=True)
    assert "HF_HUB_OFFLINE" in offline.value.how_to_enable
    add_snapshot(hub_cache, REPO, COMMIT_MAIN)
    with pytest.raises(AdapterUnavailable, match="not in the local Hugging Face cache"):
        resolve_weights_dir(f"{REPO}@v9", OPTION, allow_download=True)  # no such ref cached


def test_check_never_asks_the_hub(hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    calls: list[dict] = []
    real = huggingface_hub.snapshot_download

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", recording)
    add_snapshot(hub_cache, REPO, COMMIT_MAIN)
    assert locate_weights(REPO, OPTION, True) is not None
    assert locate_weights("other-org/uncached", OPTION, True) is None
    assert calls and all(call["local_files_only"] for call in calls)
    calls.clear()
    resolve_weights_dir(REPO, OPTION, True)
    assert calls == [{"revision": None, "local_files_only": False}]


def test_hub_note(tmp_path: Path) -> None:
    assert hub_note(REPO, None) == f"weights `{REPO}` will be fetched from the hub at load"
    cached = ResolvedWeights(tmp_path, REPO, COMMIT_MAIN)
    assert hub_note(REPO, cached) == f"weights `{REPO}` from the hub, cached at commit {COMMIT_MAIN[:12]}"
    assert hub_note(str(tmp_path), ResolvedWeights(tmp_path)) is None
