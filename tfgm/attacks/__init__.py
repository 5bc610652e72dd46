"""Adversarial attacks on any callable returning logits: FGSM, PGD (restarts, EOT), black-box substitute."""

from tfgm.attacks.apgd import apgd
from tfgm.attacks.autoattack import autoattack
from tfgm.attacks.blackbox import blackbox_substitute, lambda_schedule, transfer
from tfgm.attacks.config import attack_from_config, normalize_attack_config
from tfgm.attacks.fab import fab
from tfgm.attacks.fgsm import fgsm
from tfgm.attacks.pgd import pgd
from tfgm.attacks.square import square

__all__ = ["fgsm", "pgd", "blackbox_substitute", "lambda_schedule", "transfer", "attack_from_config",
           "normalize_attack_config", "apgd", "fab", "square", "autoattack"]
