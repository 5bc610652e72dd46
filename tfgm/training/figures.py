"""Labelled figures for people (matplotlib, no display): image rows with row titles, grouped bar charts.

Every function writes one PNG atomically and returns its path. matplotlib is imported on first use with the
Agg backend, so importing this module costs nothing and runs headless.
"""

from __future__ import annotations

import os

import numpy as np

from .atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | os.PathLike) -> str:
    """Write a matplotlib figure as PNG atomically (parent folders created) and close it."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return str(path)


def labelled_image_rows(path, rows, row_labels, title="", column_labels=None, image_inches=0.9):
    """Rows of images, each row titled on its left (e.g. original / plain VAE / discreg VAE).

    rows: [R, K, H, W, C] float in [0, 1] (C = 1 or 3); row_labels: R strings; column_labels: K strings or None.
    """
    rows = np.clip(np.asarray(rows, np.float32), 0.0, 1.0)
    if rows.ndim != 5:
        raise ValueError(f"labelled_image_rows: rows must be [R, K, H, W, C], got shape {rows.shape}")
    num_rows, num_cols = rows.shape[:2]
    if len(row_labels) != num_rows:
        raise ValueError(f"labelled_image_rows: {num_rows} rows but {len(row_labels)} labels")
    plt = pyplot()
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(image_inches * num_cols + 1.6, image_inches * num_rows + 0.5),
                             squeeze=False)
    for r in range(num_rows):
        for k in range(num_cols):
            ax = axes[r, k]
            image = rows[r, k]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None,
                      vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and column_labels is not None:
                ax.set_title(column_labels[k], fontsize=7)
        axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.04, hspace=0.06)
    return save_figure(fig, path)


def grouped_bar_chart(path, categories, series, title="", ylabel="", reference=None, ylim=None):
    """One group of bars per category, one bar per series.

    categories: N names; series: {label: N values} (drawn in insertion order); reference: optional
    {label: N values} drawn as short black markers over each group (e.g. a ceiling or a baseline).
    """
    categories = list(categories)
    for label, values in {**series, **(reference or {})}.items():
        if len(values) != len(categories):
            raise ValueError(f"grouped_bar_chart: series {label!r} has {len(values)} values for {len(categories)} "
                             "categories")
    plt = pyplot()
    x = np.arange(len(categories))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(categories) * max(len(series), 1)), 4.2))
    for i, (label, values) in enumerate(series.items()):
        ax.bar(x - 0.4 + width * (i + 0.5), values, width, label=label)
    markers = ("_", "x", "o", "+")
    for i, (label, values) in enumerate((reference or {}).items()):
        ax.scatter(x, values, marker=markers[i % len(markers)], s=120 if markers[i % len(markers)] == "_" else 20,
                   color="black" if i == 0 else "dimgray", zorder=3, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(categories, rotation=75, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)
