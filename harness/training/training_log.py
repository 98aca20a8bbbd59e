"""The per-epoch training log: CSV and JSON side by side, and a loss / val-score plot (PNG)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

LOG_CSV = "log.csv"
LOG_JSON = "log.json"
CURVE_PNG = "curve.png"


def write_log(folder: Path, rows: list[dict[str, Any]], score_name: str) -> None:
    """Rewrite log.csv, log.json and curve.png from all epoch rows so far (cheap: one row per epoch)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with (folder / LOG_CSV).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    (folder / LOG_JSON).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    plot_curve(folder / CURVE_PNG, rows, score_name)


def plot_curve(path: Path, rows: list[dict[str, Any]], score_name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    fig, loss_axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    loss_axis.plot(epochs, [row["train_loss"] for row in rows], "o-", color="tab:blue", label="train loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_axis.set_ylabel("train loss", color="tab:blue")
    score_axis = loss_axis.twinx()
    key = f"val_{score_name}"
    score_axis.plot(epochs, [row.get(key, float("nan")) for row in rows], "s-", color="tab:red", label=key)
    score_axis.set_ylabel(key, color="tab:red")
    score_axis.set_ylim(0, 1)
    fig.suptitle("training curve")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
