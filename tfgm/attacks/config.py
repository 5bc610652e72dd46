"""Attacks from a plain, serializable config (what a model stores to run its training attack)."""

from tfgm.attacks.fgsm import fgsm
from tfgm.attacks.pgd import pgd

_DEFAULTS = {
    "fgsm": {"eps": 0.3},
    "pgd": {"eps": 0.1, "step_size": 0.01, "steps": 40, "random_start": True, "restarts": 1, "eot_samples": 1},
}


def normalize_attack_config(config):
    """None / "fgsm" / "pgd" / {"name": ..., <settings>} → a full dict with defaults filled in, or None.

    Defaults: FGSM ε = 0.3; PGD ε = 0.1, step 0.01, 40 steps, random start, 1 restart (METHODS.md §2).
    """
    if config is None:
        return None
    if isinstance(config, str):
        config = {"name": config}
    config = dict(config)
    name = config.pop("name", None)
    if name is None:
        return None
    if name not in _DEFAULTS:
        raise ValueError(f"unknown attack {name!r}: choose one of {sorted(_DEFAULTS)} or None")
    unknown = set(config) - set(_DEFAULTS[name])
    if unknown:
        raise ValueError(f"attack {name!r} takes settings {sorted(_DEFAULTS[name])}, got unknown {sorted(unknown)}")
    full = {"name": name}
    full.update(_DEFAULTS[name])
    full.update(config)
    return full


def attack_from_config(config):
    """A callable (model, x, y, seed=None) → x̃ for a config accepted by `normalize_attack_config`, or None."""
    config = normalize_attack_config(config)
    if config is None:
        return None
    settings = {k: v for k, v in config.items() if k != "name"}
    if config["name"] == "fgsm":
        return lambda model, x, y, seed=None: fgsm(model, x, y, **settings)
    return lambda model, x, y, seed=None: pgd(model, x, y, seed=seed, **settings)
