"""Where a model's weights come from: a local path, or a Hugging Face hub model id when downloads are allowed.

A weights option holds either a path on this machine or a hub id, `org/name` or `org/name@revision`
(a branch, tag or commit). A value that is an existing path is always that path. Any other value
that reads as a hub id is fetched only when the user allowed downloads (`--allow-download`, which
the runner and `harness models` pass to adapters as `Adapter.allow_download`); without it the
adapter is unavailable with a message that says so.

Hub weights go through `huggingface_hub.snapshot_download`, so they land in (and are reused from)
the normal Hugging Face cache (`HF_HOME` / `HF_HUB_CACHE`); with `HF_HUB_OFFLINE=1` the cached
snapshot is used and nothing is fetched. The commit a snapshot was taken at is its folder's name:
`ResolvedWeights.revision`, which adapters put into their fingerprint and options instead of hashing
gigabytes of files.

Two entry points, one per adapter hook:
- `locate_weights` for `check()`: never downloads; None means "load() will fetch it";
- `resolve_weights_dir` for `load()`: downloads when allowed and needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from idg_adapters.base import AdapterUnavailable

_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REVISION = re.compile(r"^[A-Za-z0-9._/-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
MAX_REPO_ID = 96  # the hub's limit on a repo id's name part
SHORT_COMMIT = 12  # characters of a commit shown in notes


@dataclass(frozen=True)
class HubRef:
    """A hub model named by a weights option: repo id and optional revision (branch, tag or commit)."""

    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        return self.repo_id if self.revision is None else f"{self.repo_id}@{self.revision}"


@dataclass(frozen=True)
class ResolvedWeights:
    """Weights as a path on this machine, and the hub commit they were taken from (None when local)."""

    path: Path
    hub_id: str | None = None
    revision: str | None = None  # the 40-hex commit of the snapshot

    @property
    def from_hub(self) -> bool:
        return self.hub_id is not None

    @property
    def pinned(self) -> str:
        """The weights as an option value that names exactly these weights: `org/name@<commit>` for
        hub weights (rerunning with it evaluates the same revision), else the local path."""
        return f"{self.hub_id}@{self.revision}" if self.hub_id is not None else str(self.path)


def parse_hub_id(value: str) -> HubRef | None:
    """`org/name` or `org/name@revision` as a HubRef; None for anything else (a bare name, an
    absolute or home-relative path, a path of more than two parts, characters the hub refuses)."""
    text = value.strip()
    repo_id, _, revision = text.partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_REPO_PART.match(part) for part in parts):
        return None
    if len(parts[1]) > MAX_REPO_ID or "--" in repo_id or ".." in repo_id or repo_id.endswith(".git"):
        return None
    if "@" in text and not _REVISION.match(revision):
        return None
    return HubRef(repo_id, revision or None)


def default_how_to_enable(option: str) -> str:
    """How to give local weights for `option` (`MODEL.KEY`), when the adapter has no better hint."""
    return f"--opt {option}=/path/to/local-model-dir"


def _local_or_hub(value: str, option: str, allow_download: bool, how_to_enable: str | None) -> Path | HubRef:
    """The existing local path `value` names, or the hub model it names when downloads are allowed;
    AdapterUnavailable (naming `option`, the `MODEL.KEY` that holds it) otherwise."""
    how = how_to_enable or default_how_to_enable(option)
    text = str(value).strip()
    if not text:
        raise AdapterUnavailable("no weights given", how)
    path = Path(text).expanduser()
    if path.exists():
        return path
    hub = parse_hub_id(text)
    if hub is None:
        raise AdapterUnavailable(f"weights {path} does not exist", how)
    if not allow_download:
        raise AdapterUnavailable(
            f"`{text}` is not a local path; pass --allow-download to fetch it from the hub, or give a local directory",
            f"--allow-download, or {how}",
        )
    return hub


def _snapshot(hub: HubRef, how: str, local_only: bool) -> ResolvedWeights:
    """The hub snapshot of `hub` through the HF cache (downloaded unless `local_only`)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        folder = Path(snapshot_download(hub.repo_id, revision=hub.revision, local_files_only=local_only))
    except LocalEntryNotFoundError as exc:
        raise AdapterUnavailable(
            f"`{hub}` is not in the local Hugging Face cache and the hub cannot be reached "
            "(offline, HF_HUB_OFFLINE=1, or no connection)",
            f"connect to the internet and unset HF_HUB_OFFLINE, or {how}",
        ) from exc
    except RevisionNotFoundError as exc:
        raise AdapterUnavailable(f"`{hub}`: the hub has no revision {hub.revision!r} of {hub.repo_id}", how) from exc
    except GatedRepoError as exc:
        raise AdapterUnavailable(
            f"`{hub}` is gated on the hub: accept its terms there and log in (`hf auth login`)", how
        ) from exc
    except RepositoryNotFoundError as exc:
        raise AdapterUnavailable(
            f"`{hub}`: no such model on the hub (or it is private: log in with `hf auth login`)", how
        ) from exc
    revision = folder.name if _COMMIT.match(folder.name) else None
    return ResolvedWeights(folder, hub.repo_id, revision)


def locate_weights(
    value: str, option: str, allow_download: bool, how_to_enable: str | None = None
) -> ResolvedWeights | None:
    """The weights `value` names if they are on this machine, without downloading anything (for
    `check()`): a local path, or a hub id's snapshot already in the HF cache. None when `value` is a
    hub id that downloads are allowed for but the cache lacks: `resolve_weights_dir` will fetch it.

    AdapterUnavailable when `value` is empty, a missing path, or a hub id without `allow_download`.
    `option` is the `MODEL.KEY` that holds `value`; `how_to_enable` (how to give local weights, by
    default `--opt MODEL.KEY=/path/to/local-model-dir`) goes into the exception's hint.
    """
    source = _local_or_hub(value, option, allow_download, how_to_enable)
    if isinstance(source, Path):
        return ResolvedWeights(source)
    try:
        return _snapshot(source, how_to_enable or default_how_to_enable(option), local_only=True)
    except AdapterUnavailable:
        return None


def resolve_weights_dir(
    value: str, option: str, allow_download: bool, how_to_enable: str | None = None
) -> ResolvedWeights:
    """The weights `value` names as a path on this machine (for `load()`): an existing local path as
    is (revision None), or, with `allow_download`, a hub id (`org/name[@revision]`) resolved through
    `snapshot_download` into the HF cache (a second call finds it there; HF_HUB_OFFLINE=1 uses only
    the cache), with the commit it resolved to.

    AdapterUnavailable as for `locate_weights`, and when the hub refuses or cannot be reached and the
    cache lacks the snapshot. Other download failures (disk full, a broken transfer) propagate.
    """
    source = _local_or_hub(value, option, allow_download, how_to_enable)
    if isinstance(source, Path):
        return ResolvedWeights(source)
    return _snapshot(source, how_to_enable or default_how_to_enable(option), local_only=False)


def weights_fingerprint_parts(weights: ResolvedWeights | None, digest: str | None) -> dict[str, str]:
    """What identifies loaded weights in an adapter fingerprint: the commit of hub weights (it names
    their content), else the content hash of local ones; empty before `load()`."""
    parts: dict[str, str] = {}
    if digest is not None:
        parts["weights_sha256"] = digest
    if weights is not None and weights.revision is not None:
        parts["weights_revision"] = weights.revision
    return parts


def hub_note(value: str, located: ResolvedWeights | None) -> str | None:
    """What `harness models` says about hub weights that pass `check()`: cached (at which commit)
    or to be fetched at load; None for local weights."""
    if located is None:
        return f"weights `{value.strip()}` will be fetched from the hub at load"
    if located.from_hub:
        commit = (located.revision or "?")[:SHORT_COMMIT]
        return f"weights `{value.strip()}` from the hub, cached at commit {commit}"
    return None


__all__ = [
    "HubRef",
    "ResolvedWeights",
    "hub_note",
    "locate_weights",
    "parse_hub_id",
    "resolve_weights_dir",
    "weights_fingerprint_parts",
]
