"""Leaderboard plots with matplotlib (Agg), returned as PNG data URIs to inline in the page."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 100
# Hits green, "saw the wrong change" orange, "saw no change" grey, boxing problems blue/purple, failures red.
CLASS_COLOURS = {
    "hit": "#2ca02c",
    "wrong-difference": "#ff7f0e",
    "unchanged-region": "#8c8c8c",
    "loose-box": "#1f77b4",
    "off-target": "#9467bd",
    "no-prediction": "#8c564b",
    "error": "#d62728",
}
MAX_MODELS_PLOTTED = 12  # more curves or bars than this are unreadable; the tables list every model


def _png_data_uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def edit_type_heatmap(models: Sequence[str], edit_types: Sequence[str], acc: np.ndarray) -> str:
    """Acc@0.5 (percent) as a models x edit types heat map; `acc` is (models, edit types), NaN = missing."""
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(edit_types), 0.9 + 0.45 * len(models)))
    shown = np.ma.masked_invalid(acc)
    image = ax.imshow(shown, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(edit_types)), labels=list(edit_types))
    ax.set_yticks(range(len(models)), labels=list(models))
    for i in range(len(models)):
        for j in range(len(edit_types)):
            value = acc[i, j]
            text = "—" if np.isnan(value) else f"{value:.1f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if np.isnan(value) or value < 60 else "black")
    fig.colorbar(image, ax=ax, label="Acc@0.5 (%)")
    ax.set_title("Acc@0.5 by edit type")
    return _png_data_uri(fig)


def accuracy_vs_threshold(ious: dict[str, np.ndarray]) -> str:
    """Share of samples with IoU >= tau, for tau from 0 to 1, one curve per model."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    taus = np.linspace(0.0, 1.0, 101)
    for name, values in list(ious.items())[:MAX_MODELS_PLOTTED]:
        values = np.sort(np.asarray(values))
        acc = 1.0 - np.searchsorted(values, taus, side="left") / max(len(values), 1)
        ax.plot(taus[1:], 100 * acc[1:], label=name, linewidth=1.6)
    ax.axvline(0.5, color="#999", linestyle=":", linewidth=1)
    ax.set_xlabel("IoU threshold τ")
    ax.set_ylabel("Acc@τ (%)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("Accuracy vs IoU threshold")
    return _png_data_uri(fig)


def iou_distribution(ious: dict[str, np.ndarray]) -> str:
    """Histogram of top-1 IoU per model (outline only, so overlapping models stay visible)."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    bins = np.linspace(0.0, 1.0, 21)
    for name, values in list(ious.items())[:MAX_MODELS_PLOTTED]:
        values = np.asarray(values)
        weights = np.full(len(values), 100.0 / max(len(values), 1))
        ax.hist(values, bins=bins, weights=weights, histtype="step", linewidth=1.6, label=name)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("top-1 IoU with the target")
    ax.set_ylabel("samples (%)")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    ax.set_title("IoU distribution")
    return _png_data_uri(fig)


def grouped_bars(
    groups: Sequence[str],
    series: dict[str, list[tuple[float | None, float | None, float | None]]],
    title: str,
    ylabel: str,
) -> str:
    """Bars per group, one colour per series, with CI error bars; values are (value, low, high) in percent."""
    series = dict(list(series.items())[:MAX_MODELS_PLOTTED])
    fig, ax = plt.subplots(figsize=(max(5.6, 1.2 + 0.5 * len(groups) * max(len(series), 1)), 3.8))
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for k, (name, values) in enumerate(series.items()):
        heights = np.array([np.nan if v is None else v for v, _, _ in values], dtype=float)
        low = np.array([np.nan if lo is None or v is None else v - lo for v, lo, _ in values], dtype=float)
        high = np.array([np.nan if hi is None or v is None else hi - v for v, _, hi in values], dtype=float)
        ax.bar(x + (k - (len(series) - 1) / 2) * width, np.nan_to_num(heights), width, label=name)
        ax.errorbar(
            x + (k - (len(series) - 1) / 2) * width,
            np.nan_to_num(heights),
            yerr=np.nan_to_num(np.vstack([low, high])),
            fmt="none",
            ecolor="#333",
            capsize=2,
            linewidth=0.8,
        )
    ax.set_xticks(x, labels=list(groups))
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    return _png_data_uri(fig)


def failure_class_bars(models: Sequence[str], classes: Sequence[str], counts: np.ndarray) -> str:
    """Stacked horizontal bars: the share of each failure class among a model's samples."""
    models = list(models)[:MAX_MODELS_PLOTTED]
    counts = np.asarray(counts, dtype=float)[: len(models)]
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.45 * len(models)))
    totals = counts.sum(axis=1, keepdims=True)
    shares = 100 * np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    left = np.zeros(len(models))
    fallback = plt.get_cmap("tab10").colors
    for j, name in enumerate(classes):
        colour = CLASS_COLOURS.get(name, fallback[j % len(fallback)])
        ax.barh(range(len(models)), shares[:, j], left=left, label=name, color=colour)
        left += shares[:, j]
    ax.set_yticks(range(len(models)), labels=models)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("samples (%)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Outcome classes (failure taxonomy)")
    return _png_data_uri(fig)
