"""Every recipe's run: its start (precision policy, run directory: chief-only on multi-worker), its resumable
training stages (with --sync-bn applied) and its export."""


def start_run(cfg, recipe, strategy, lock=None):
    """Set `--precision` (before any model is built) and return the run directory: the real one on the chief,
    a temporary self-removing one on other workers of a multi-worker run. `lock(run)`, when given, runs before
    anything is written (the skeleton takes the run folder's lock there). Writes config.json and
    environment.json into it and prints where it is."""
    from tfgm.training import chief_run_dir, set_precision

    set_precision(cfg.precision)
    run = chief_run_dir(strategy, cfg.out, recipe, cfg.name or None, resume=cfg.resume)
    if lock is not None:
        lock(run)
    run.write_config(cfg)
    run.write_environment(cfg.seed, strategy)
    print(f"run directory: {run.path}")
    return run


def train_stage(run, strategy, name, build, fit_kwargs, callbacks=(), sync_bn=False):
    """Train the model `build()` makes (inside the strategy scope) with `model.fit(**fit_kwargs)`, resumable
    from `checkpoints/<name>/`, with a NaN guard and TensorBoard logs; saves `models/<name>.keras`. A stage
    that finished earlier (its .keras file exists) is loaded instead of trained. Returns the model.

    `sync_bn` (a recipe's `--sync-bn`): set `synchronized=True` on every BatchNormalization layer of the built
    model (`tfgm.training.synchronize_batch_norm`)."""
    import os
    import sys

    import keras

    from tfgm.training import NaNGuard, ResumableCheckpoint, synchronize_batch_norm

    path = run.model_path(name)
    if os.path.exists(path):
        print(f"[{name}] finished earlier: loading {path}")
        with strategy.scope():
            return keras.saving.load_model(path)
    with strategy.scope():
        model = build()
    if sync_bn:
        count = synchronize_batch_norm(model)
        replicas = strategy.num_replicas_in_sync
        print(f"[{name}] synchronized batch norm: {count} BatchNormalization layer{'s' * (count != 1)}, "
              f"statistics over {replicas} replica{'s' * (replicas != 1)}"
              + (" (no effect with one replica)" if replicas == 1 and count else ""))
    checkpoint = ResumableCheckpoint(os.path.join(run.checkpoints_dir, name), model=model)
    initial_epoch = checkpoint.restore()
    if initial_epoch:
        print(f"[{name}] resuming after epoch {initial_epoch}")
    print(f"[{name}] training {fit_kwargs.get('epochs', 1)} epochs")
    all_callbacks = [checkpoint, NaNGuard(checkpoint), keras.callbacks.TensorBoard(os.path.join(run.logs_dir, name)),
                     *callbacks]
    model.fit(initial_epoch=initial_epoch, callbacks=all_callbacks, shuffle=False,
              verbose=1 if sys.stdout.isatty() else 2, **fit_kwargs)
    run.save_model(model, name)
    return model


def export_models(run, models):
    """`export.export_run` over `models` (SavedModel + ONNX with parity); prints where the report is and
    returns the exit status: 0 when every check passed, 2 otherwise."""
    import os

    from export import export_run

    report = export_run(run.path, models=models)
    ok = bool(report["passed"])
    print(f"export: {'ok' if ok else 'FAILED'} → {os.path.join(run.export_dir, 'export_report.json')}")
    return 0 if ok else 2
