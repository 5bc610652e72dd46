"""Attacks of the Fortified Networks recipes: the training attack, the thesis-style table's attacks, black-box."""

import functools


def train_attack(cfg, eps):
    """The FortifiedClassifier attack config of the training attack."""
    if cfg.attack == "fgsm":
        return {"name": "fgsm", "eps": eps}
    return {"name": "pgd", "eps": eps, "step_size": cfg.pgd_step_size, "steps": cfg.pgd_steps}


def table_attacks(cfg, eps, blackbox=None):
    """{row name: attack callable} of the thesis-style table: white-box FGSM/PGD at the table's ε plus the
    training attack at its ε, then the black-box attack if given."""
    from tfgm.attacks import fgsm

    fgsm_eps, pgd_eps = list(dict.fromkeys(cfg.fgsm_eps)), list(dict.fromkeys(cfg.pgd_eps))
    for attack, grid in (("fgsm", fgsm_eps), ("pgd", pgd_eps)):
        if cfg.attack == attack and eps not in grid:
            grid.append(eps)
    attacks = {f"fgsm@{e:g}": functools.partial(fgsm, eps=e) for e in fgsm_eps}
    for e in pgd_eps:
        attacks[f"pgd@{e:g}"] = table_pgd(cfg, e)
    if blackbox is not None:
        attacks[f"blackbox_fgsm@{eps:g}"] = blackbox
    return attacks


def table_pgd(cfg, eps):
    """The table's PGD at `eps`: (model, x, y) → x̃ with --pgd-step-size, --pgd-steps, --pgd-restarts, --seed."""
    from tfgm.attacks import pgd

    return functools.partial(pgd, eps=eps, step_size=cfg.pgd_step_size, steps=cfg.pgd_steps,
                             restarts=cfg.pgd_restarts, seed=cfg.seed)


def autoattack_entry(cfg):
    """The `tfgm.metrics.robust_accuracy` entry of the AutoAttack row (its ε is robust_accuracy's `eps`)."""
    return {"name": "autoattack", "version": cfg.autoattack_version, "batch_size": cfg.batch_size}


def blackbox_attack(cfg, input_shape, model, holdout, num_classes, eps):
    """FGSM at `eps` crafted on a Papernot substitute of `model` (trained from its labels on `holdout`)."""
    import keras

    from tfgm.attacks import blackbox_substitute, fgsm, transfer
    from tfgm.nets import fortified_nets

    def substitute():
        keras.utils.set_random_seed(cfg.seed + 1)
        return fortified_nets.mlp(input_shape, hidden=(200, 200), num_classes=num_classes, name="substitute")

    sub = blackbox_substitute(model, substitute, holdout, rounds=cfg.blackbox_rounds, lmbda=cfg.blackbox_lambda,
                              epochs_per_round=cfg.blackbox_epochs)
    return transfer(sub, fgsm, eps=eps)
