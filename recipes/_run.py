"""Every recipe's run: its start (precision policy, run directory: chief-only on multi-worker), its resumable
training stages (with --sync-bn applied) and its export."""


def start_run(cfg, recipe, strategy, lock=None, stage_flags=None):
    """Set `--precision` (before any model is built) and return the run directory: the real one on the chief,
    a temporary self-removing one on other workers of a multi-worker run. `lock(run)`, when given, runs before
    anything is written (the skeleton takes the run folder's lock there). On `--resume`, flags changed since
    the run's config.json are accepted only when no trained stage depends on them (`stage_flags`: {field:
    stages it affects}; see `tfgm.training.resume_changes`): each accepted change is printed with its reason and
    recorded in environment.json, a refused one raises ValueError before anything is written. Writes
    config.json and environment.json into it and prints where it is."""
    import dataclasses

    from tfgm.training import chief_run_dir, resolve_precision, set_precision
    from tfgm.training.atomic import to_jsonable
    from tfgm.training.resume_changes import resume_changes

    policy, reason = resolve_precision(cfg.precision)
    set_precision(policy)
    if cfg.precision == "auto":
        print(f"precision: {policy} (--precision auto: {reason})")
    run = chief_run_dir(strategy, cfg.out, recipe, cfg.name or None, resume=cfg.resume)
    if lock is not None:
        lock(run)
    changes = resume_changes(run.path, to_jsonable(dataclasses.asdict(cfg)), stage_flags) if (
        cfg.resume and run.is_chief) else {}
    for text in changes.values():
        print(f"resume: {text}")
    run.write_config(cfg, mutable=changes)
    run.write_environment(cfg.seed, strategy, changes=list(changes.values()))
    print(f"run directory: {run.path}")
    return run


def train_stage(run, strategy, name, build, fit_kwargs, callbacks=(), sync_bn=False):
    """Train the model `build()` makes (inside the strategy scope) with `model.fit(**fit_kwargs)`, resumable
    from `checkpoints/<name>/`, with a NaN guard and TensorBoard logs; saves `models/<name>.keras`. A stage
    that finished earlier (its .keras file exists) is loaded instead of trained. Returns the model.

    Training data that makes no batch raises DataError before the model is built.
    `sync_bn` (a recipe's `--sync-bn`): set `synchronized=True` on every BatchNormalization layer of the built
    model (`tfgm.training.synchronize_batch_norm`)."""
    import os
    import sys

    import keras
    import tensorflow as tf

    from tfgm.data import DataError
    from tfgm.training import DataEpoch, NaNGuard, ResumableCheckpoint, skip_consumed, synchronize_batch_norm
    from tfgm.training.resume_changes import ResumeConflict

    path = run.model_path(name)
    if os.path.exists(path):
        import tfgm.models  # noqa: F401 - registers tfgm's model classes for load_model

        print(f"[{name}] finished earlier: loading {path}")
        with strategy.scope():
            return keras.saving.load_model(path)
    x = fit_kwargs.get("x")
    if isinstance(x, tf.data.Dataset) and not fit_kwargs.get("steps_per_epoch") and int(x.cardinality()) == 0:
        raise DataError(f"[{name}] the training data makes no batch (fewer examples than one --batch-size): "
                        "lower --batch-size or give more examples")
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
    if initial_epoch > fit_kwargs.get("epochs", 1):
        raise ResumeConflict(f"[{name}] trained {initial_epoch} epochs before this resume, more than the "
                             f"{fit_kwargs.get('epochs', 1)} asked for now: resume with --epochs {initial_epoch} (or "
                             "more), or start a new run with another --name")
    if initial_epoch:
        fit_kwargs, skipped = skip_consumed(fit_kwargs, initial_epoch)
        print(f"[{name}] resuming after epoch {initial_epoch}"
              + (f" (skipping the {skipped} batches it trained on)" if skipped else ""))
    print(f"[{name}] training {fit_kwargs.get('epochs', 1)} epochs")
    all_callbacks = [DataEpoch(), checkpoint, NaNGuard(checkpoint),
                     keras.callbacks.TensorBoard(os.path.join(run.logs_dir, name)), *callbacks]
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
