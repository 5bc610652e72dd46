"""The skeleton's check of the epoch budgets before any work: every declared epoch flag is at least 1 (unless
--epochs overrides it), and `--resume` asks no stage for fewer epochs than its newest checkpoint holds."""

import os


def _flag(field):
    return "--" + field.replace("_", "-")


def check_epoch_budgets(experiment, cfg):
    """ValueError naming the flag and the fix for a zero-epoch budget, or for a resumed stage that trained more
    epochs than it would be asked for now. `experiment`: the `Experiment` (its `recipe`, `epoch_flags` and
    `epoch_flag(stage)`)."""
    from tfgm.training.resume_changes import checkpointed_epochs

    if not cfg.epochs:
        zero = sorted({f for f in experiment.epoch_flags.values() if getattr(cfg, f) < 1})
        if zero:
            raise ValueError("flags: " + "; ".join(f"{_flag(f)} {getattr(cfg, f)}: a stage of 0 epochs trains "
                                                   "nothing; give ≥ 1" for f in zero))
    run = os.path.join(cfg.out, experiment.recipe, cfg.name)
    if not (cfg.resume and cfg.name and os.path.isdir(run)):
        return
    problems = []
    for stage, trained in checkpointed_epochs(run).items():
        field = experiment.epoch_flag(stage)
        if field is None or os.path.exists(os.path.join(run, "models", f"{stage}.keras")):
            continue
        asked = cfg.epochs or getattr(cfg, field)
        if asked < trained:
            source = f"--epochs {cfg.epochs}" if cfg.epochs else f"{_flag(field)} {asked}"
            problems.append(f"[{stage}] trained {trained} epochs before this resume, more than the {asked} asked for "
                            f"now ({source}): resume with --epochs {trained} (or more), or start a new run with "
                            "another --name")
    if problems:
        raise ValueError("; ".join(problems))
