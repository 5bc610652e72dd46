"""Start of every recipe's run: the precision policy and the run directory (chief-only on multi-worker)."""


def start_run(cfg, recipe, strategy):
    """Set `--precision` (before any model is built) and return the run directory: the real one on the chief,
    a temporary self-removing one on other workers of a multi-worker run."""
    from tfgm.training import chief_run_dir, set_precision

    set_precision(cfg.precision)
    return chief_run_dir(strategy, cfg.out, recipe, cfg.name or None, resume=cfg.resume)
