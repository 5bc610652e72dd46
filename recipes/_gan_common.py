"""Shared pieces of the GAN recipes: repeatable flags, variant settings, stage training, curves, export."""

import os
import sys

REPEATABLE = ("--regularizer", "--variant")


def merge_repeated(argv, flags=REPEATABLE):
    """Fold repeated `--flag a --flag b` (or `--flag=a`) into one `--flag a b` for argparse's nargs='+'."""
    values, rest, current = {}, [], None
    for arg in argv:
        name, eq, value = arg.partition("=")
        if name in flags:
            current = name
            values.setdefault(name, [])
            if eq:
                values[name].append(value)
            continue
        if current is not None and not arg.startswith("--"):
            values[current].append(arg)
            continue
        current = None
        rest.append(arg)
    for name, items in values.items():
        rest += [name, *items]
    return rest


def parse_regularizers(specs, base=None):
    """`["gradient_penalty=5", "r1"]` on top of `base` ({name: params}) → {name: value or None}.

    "name" keeps the defaults (or the variant's value), "name=value" sets the main parameter, "none" drops
    everything given before it (the variant's regularizers included).
    """
    result = dict(base or {})
    for spec in specs:
        name, eq, value = spec.partition("=")
        if name == "none":
            result = {}
            continue
        result[name] = float(value) if eq else result.get(name)
    return result


def gan_settings(cfg, variant_name):
    """Loss, regularizers, n_critic and critic architecture of `variant_name` with the flags applied;
    "make_optimizers" returns a fresh (d_optimizer, g_optimizer) pair per call."""
    from tfgm.models.gan import get_variant

    variant = get_variant(variant_name)
    regularizers = parse_regularizers(cfg.regularizer, variant.regularizers)
    penalized = bool({"gradient_penalty", "roth", "r1"} & set(regularizers))
    return {
        "variant": variant_name,
        "loss": cfg.loss or variant.loss,
        "regularizers": regularizers,
        "n_critic": cfg.n_critic or variant.n_critic,
        "spectral_norm": bool(cfg.sn or variant.spectral_norm),
        "critic_batch_norm": variant.critic_batch_norm and not penalized,
        "make_optimizers": lambda: variant.optimizers(cfg.learning_rate or None),
        "optimizers": {"d": variant.d_optimizer, "g": variant.g_optimizer,
                       "learning_rate_override": cfg.learning_rate or None},
        "reference": variant.reference,
    }


def describe(settings):
    """One line: loss, regularizers, n_critic, SN."""
    regs = ", ".join(f"{k}={v}" if v is not None else k for k, v in settings["regularizers"].items()) or "none"
    return (f"loss {settings['loss']}, regularizers {regs}, n_critic {settings['n_critic']}, "
            f"SN {'on' if settings['spectral_norm'] else 'off'}, critic BN {'on' if settings['critic_batch_norm'] else 'off'}")


def train_stage(run, strategy, name, build, fit_kwargs, callbacks=()):
    """Train the model `build()` makes (in the strategy scope) unless models/<name>.keras exists; resumable."""
    import keras

    from tfgm.training import NaNGuard, ResumableCheckpoint

    path = run.model_path(name)
    if os.path.exists(path):
        print(f"[{name}] finished earlier: loading {path}")
        with strategy.scope():
            return keras.saving.load_model(path)
    with strategy.scope():
        model = build()
    checkpoint = ResumableCheckpoint(os.path.join(run.checkpoints_dir, name), model=model)
    initial_epoch = checkpoint.restore()
    if initial_epoch:
        print(f"[{name}] resuming after epoch {initial_epoch}")
    all_callbacks = [checkpoint, NaNGuard(checkpoint), keras.callbacks.TensorBoard(os.path.join(run.logs_dir, name)),
                     *callbacks]
    model.fit(initial_epoch=initial_epoch, callbacks=all_callbacks, verbose=1 if sys.stdout.isatty() else 2,
              **fit_kwargs)
    run.save_model(model, name)
    return model


def loss_curves_callback(path, every=10):
    """A callback recording the running logs every `every` train steps and drawing them to `path` (PNG) at
    each epoch end: one panel for d_loss / g_loss, one per other logged value."""
    import keras

    class LossCurves(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.series = {}
            self._step = 0

        def on_epoch_begin(self, epoch, logs=None):
            self._step = epoch * (self.params.get("steps") or 0)

        def on_train_batch_end(self, batch, logs=None):
            self._step += 1
            if self._step % every == 0:
                for key, value in (logs or {}).items():
                    self.series.setdefault(key, []).append((self._step, float(value)))

        def on_epoch_end(self, epoch, logs=None):
            plot_series(path, self.series, xlabel="train step (generator updates)")

    return LossCurves()


def plot_series(path, series, xlabel, title=""):
    """Line plots of {name: [(x, y), ...]}: d_loss and g_loss together, every other name in its own panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfgm.training.atomic import atomic_path

    if not series:
        return
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
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def export_models(run, models):
    """Export `models` (SavedModel endpoints generate/sample + ONNX generator); 0 if every check passed."""
    from export import export_run

    report = export_run(run.path, models=models)
    ok = bool(report["passed"])
    print(f"export: {'ok' if ok else 'FAILED'} → {os.path.join(run.export_dir, 'export_report.json')}")
    return 0 if ok else 2
