"""Callbacks and figures of the GAN recipes: loss curves and scores over training (line plots), samples over the
25-Gaussian grid. Imports Keras: import this module after `quiet_tensorflow` (inside a recipe's stages)."""

import math
import os

import keras
import tensorflow as tf

from tfgm.data import gaussian_grid
from tfgm.training import pyplot, save_figure


class LossCurves(keras.callbacks.Callback):
    """Records the running logs about `points_per_epoch` times per epoch (and at its end) and draws them to
    `path` (PNG) at each epoch end: d_loss / g_loss together, one panel per other value."""

    def __init__(self, path, points_per_epoch=50):
        super().__init__()
        self.path, self.points_per_epoch = path, points_per_epoch
        self.series = {}
        self._step = 0

    def _record(self, logs):
        for key, value in (logs or {}).items():
            points = self.series.setdefault(key, [])
            if not points or points[-1][0] != self._step:
                points.append((self._step, float(value)))

    def on_epoch_begin(self, epoch, logs=None):
        self._step = epoch * (self.params.get("steps") or 0)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if (batch + 1) % max(1, (self.params.get("steps") or 0) // self.points_per_epoch) == 0:
            self._record(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record({k: v for k, v in (logs or {}).items() if not k.startswith("val_")})
        plot_series(self.path, self.series, xlabel="train step (generator updates)")


class Scores(keras.callbacks.Callback):
    """FID / KID / IS of the model every `cfg.fid_every` epochs (and at the last) by `evaluator`
    (`tfgm.metrics.GeneratorEvaluator`): appended to `history` (a list, kept across a resume), written to the
    run's metrics.json, logs/scores (TensorBoard) and images/scores.png. `last`: (epoch, scores) of the latest."""

    def __init__(self, run, evaluator, cfg, history):
        super().__init__()
        self.run, self.evaluator, self.cfg, self.history = run, evaluator, cfg, history
        self.writer = tf.summary.create_file_writer(os.path.join(run.logs_dir, "scores"))
        self.last = (None, None)

    def on_epoch_end(self, epoch, logs=None):
        cfg, history = self.cfg, self.history
        last = (self.params or {}).get("epochs") == epoch + 1
        if (epoch + 1) % cfg.fid_every and not last:
            return
        scores = self.evaluator.evaluate(self.model, cfg.fid_samples, seed=cfg.seed)
        self.last = (epoch + 1, scores)
        history.append({"epoch": epoch + 1, "fid": scores["fid"], "kid": scores["kid"]["mean"],
                        "inception_score": (scores["inception_score"] or {}).get("mean")})
        self.run.write_metrics({"scores_over_training": history, "scores_protocol": protocol(scores)})
        with self.writer.as_default():
            for key in ("fid", "kid", "inception_score"):
                if history[-1][key] is not None:
                    tf.summary.scalar(key, history[-1][key], step=epoch + 1)
        self.writer.flush()
        series = {k: [(h["epoch"], h[k]) for h in history if h[k] is not None]
                  for k in ("fid", "kid", "inception_score")}
        plot_series(os.path.join(self.run.images_dir, "scores.png"), {k: v for k, v in series.items() if v},
                    xlabel="epoch", title=f"{scores['network'].split(' (')[0]}, {cfg.fid_samples} samples")
        print(f"  epoch {epoch + 1}: FID {scores['fid']:.3f}, KID {scores['kid']['mean']:.4f}, "
              f"IS {history[-1]['inception_score'] or float('nan'):.3f}  [{scores['network'].split(' ')[0]}]")


def protocol(scores):
    """The protocol part of a `GeneratorEvaluator` result: network, comparability, feature size, counts, resize."""
    keys = ("network", "comparable_with_published", "feature_dim", "num_generated", "num_real", "resize")
    return {k: scores[k] for k in keys}


def plot_series(path, series, xlabel, title=""):
    """Line plots of {name: [(x, y), ...]}: d_loss and g_loss together, every other name in its own panel."""
    if not series:
        return
    plt = pyplot()
    groups = [[k for k in ("d_loss", "g_loss") if k in series]]
    groups = [g for g in groups if g] + [[k] for k in series if k not in ("d_loss", "g_loss")]
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 2.4 * len(groups)), squeeze=False, sharex=True)
    for ax, names in zip(axes[:, 0], groups):
        for name in names:
            xs, ys = zip(*series[name])
            ax.plot(xs, ys, label=name, lw=1)
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


def mode_scatter(path, panels, std, seed):
    """panels: [(title, samples [N, 2])] → one PNG, a scatter per panel over 2000 points of the 25-Gaussian grid
    (σ = `std`, drawn with `seed` + 1) and circles of 3σ around its modes."""
    plt = pyplot()
    real = gaussian_grid.sample(2000, std, seed + 1)
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (title, samples) in zip(axes.ravel(), panels):
        ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75", label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", alpha=0.5, label="samples")
        for cx, cy in gaussian_grid.centers():
            ax.add_patch(plt.Circle((cx, cy), 3 * std, fill=False, lw=0.5, color="tab:red"))
        ax.set(xlim=(-6, 6), ylim=(-6, 6), aspect="equal")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
