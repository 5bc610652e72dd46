"""Flags of the Fortified Networks image recipes (thesis ch. 2; METHODS.md §2), what differs per dataset, and the
names of the two models they train."""

import dataclasses

from recipes._cli import CommonConfig

BASELINE, FORTIFIED = "adversarial_training", "fortified"
MODEL_LABELS = {BASELINE: "adv. training", FORTIFIED: "fortified"}


@dataclasses.dataclass
class FortifiedConfig(CommonConfig):
    """Flags of the image recipes; defaults are the release's (METHODS.md §2). Subclasses set data/ε."""

    attack: str = dataclasses.field(default="fgsm", metadata={
        "help": "training attack, fgsm | pgd (the baseline and the fortified net use the same one)"})
    eps: float = dataclasses.field(default=0.0, metadata={
        "help": "L∞ radius of the training attack in [0, 1] pixel units (0: the thesis' ε for --attack)"})
    fgsm_eps: tuple[float, ...] = dataclasses.field(default=(0.3,), metadata={"help": "FGSM ε of the table"})
    pgd_eps: tuple[float, ...] = dataclasses.field(default=(0.1,), metadata={"help": "PGD ε of the table"})
    pgd_step_size: float = dataclasses.field(default=0.01, metadata={"help": "PGD step (training and table)"})
    pgd_steps: int = dataclasses.field(default=40, metadata={"help": "PGD iterations (training, table, sweep)"})
    pgd_restarts: int = dataclasses.field(default=1, metadata={"help": "PGD random restarts in the table"})
    learning_rate: float = dataclasses.field(default=1e-3, metadata={"help": "Adam learning rate"})
    batch_size: int = dataclasses.field(default=128, metadata={"help": "global batch size"})
    train_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of each model"})
    dae_units: int = dataclasses.field(default=256, metadata={"help": "hidden units of the fortified layer's DAE"})
    dae_activation: str = dataclasses.field(default="leaky_relu", metadata={"help": "DAE encoder activation"})
    noise_stddev: float = dataclasses.field(default=0.1, metadata={"help": "σ of the DAE's training noise"})
    lambda_rec: float = dataclasses.field(default=1.0, metadata={"help": "weight of the clean reconstruction loss"})
    lambda_adv: float = dataclasses.field(default=1.0, metadata={
        "help": "weight of the adversarial reconstruction loss"})
    rec_reduction: str = dataclasses.field(default="mean", metadata={
        "help": "L_rec per example: mean over the fortified state's units (the release) or sum (the thesis' "
                "‖·‖²); the model applies it (FortifiedClassifier rec_reduction)"})
    score: str = dataclasses.field(default="cosine_confidence", metadata={
        "help": "off-manifold score of the threshold, the export and the report: cosine_confidence | cosine | "
                "relative | raw (tfgm.metrics.off_manifold; raw is the thesis' summed error, always reported "
                "alongside; cosine_confidence is cosine plus the classifier's doubt, 1 − max softmax, both "
                "standardized on the clean validation data the threshold is calibrated on)"})
    ood_examples: int = dataclasses.field(default=0, metadata={
        "help": "out-of-distribution inputs per set (another built-in dataset, uniform noise); 0: as many as "
                "test examples"})
    label_smoothing: float = dataclasses.field(default=0.1, metadata={"help": "ε of the smoothed labels"})
    false_alarm_rate: float = dataclasses.field(default=0.05, metadata={
        "help": "off-manifold threshold: fraction of clean validation inputs flagged"})
    blackbox: bool = dataclasses.field(default=False, metadata={
        "help": "Papernot black-box attack (substitute from label queries, FGSM at --eps transferred)"})
    blackbox_holdout: int = dataclasses.field(default=150, metadata={"help": "test points the adversary holds"})
    blackbox_rounds: int = dataclasses.field(default=6, metadata={"help": "Jacobian augmentation rounds"})
    blackbox_lambda: float = dataclasses.field(default=0.1, metadata={"help": "augmentation step λ"})
    blackbox_epochs: int = dataclasses.field(default=10, metadata={"help": "substitute epochs per round"})
    sweep_eps: tuple[float, ...] = dataclasses.field(default=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0),
                                                     metadata={"help": "ε grid of the sweep (fig. 2.5)"})
    sweep_examples: int = dataclasses.field(default=1000, metadata={
        "help": "test examples of the ε-sweep and gradient-masking checks"})
    train_examples: int = dataclasses.field(default=0, metadata={
        "help": "use only this many training examples (0: all)"})
    validation_examples: int = dataclasses.field(default=0, metadata={
        "help": "validation examples (threshold calibration, monitoring; 0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples of the table (0: all)"})
    autoattack: bool = dataclasses.field(default=True, metadata={
        "help": "AutoAttack row of the table at the training ε (tfgm.attacks.autoattack; --no-autoattack skips it)"})
    autoattack_version: str = dataclasses.field(default="standard", metadata={
        "help": "AutoAttack version: standard (APGD-CE, APGD-T, FAB-T, Square) | plus | rand"})
    autoattack_points: int = dataclasses.field(default=1000, metadata={
        "help": "first test points AutoAttack runs on (and PGD again, for the AutoAttack ≤ PGD check); the paper "
                "protocol's 1000, or all when fewer"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in images, a small budget; proves the whole path in minutes on a 2-core CPU."""
        return {"train_examples": 3000, "validation_examples": 500, "eval_examples": 500, "train_epochs": 3,
                "sweep_examples": 200, "blackbox_epochs": 3, "blackbox_rounds": 4, "autoattack_points": 100,
                "sweep_eps": (0.0, 0.1, 0.3, 0.6, 1.0)}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What differs between the image recipes besides flag defaults."""

    recipe: str
    net: str  # builder in tfgm.nets.fortified_nets (its FORTIFY_AT slot is fortified)
    input_shape: tuple
    thesis_eps: dict  # attack → the thesis' training ε
    thesis: dict  # (attack, ε) → (adv. training %, fortified %, source)
    net_kwargs: object = None  # callable cfg → extra builder arguments, or None
    ood_data: str = "builtin_objects"  # a built-in dataset the model never sees, scored as out-of-distribution


def resolve_eps(cfg, spec):
    """The training ε: --eps, or the thesis' value for --attack."""
    return float(cfg.eps) if cfg.eps > 0 else float(spec.thesis_eps[cfg.attack])


AUTOATTACK_VERSIONS = ("standard", "plus", "rand")  # tfgm.attacks.autoattack.VERSIONS (checked by a test)
# tfgm.metrics.off_manifold.SCORES and CALIBRATED_SCORES (checked by a test)
SCORE_CHOICES = ("cosine", "relative", "raw", "cosine_confidence")


def check_objective(cfg):
    """Raise ValueError for a bad --rec-reduction, --score or --attack (the fortified classifier's flags)."""
    if cfg.rec_reduction not in ("mean", "sum"):
        raise ValueError(f"flags: --rec-reduction must be mean or sum, got {cfg.rec_reduction!r}")
    if cfg.score not in SCORE_CHOICES:
        raise ValueError(f"flags: --score must be one of {' | '.join(SCORE_CHOICES)}, got {cfg.score!r}")
    if cfg.attack not in ("fgsm", "pgd"):
        raise ValueError(f"flags: --attack must be fgsm or pgd, got {cfg.attack!r}")


def check_config(cfg):
    """Raise ValueError for an invalid combination of the image recipes' flags."""
    check_objective(cfg)
    if cfg.ood_examples < 0:
        raise ValueError(f"flags: --ood-examples must be >= 0, got {cfg.ood_examples}")
    if not 0.0 <= cfg.eps <= 1.0 or any(not 0.0 <= e <= 1.0 for e in (*cfg.fgsm_eps, *cfg.pgd_eps, *cfg.sweep_eps)):
        raise ValueError("flags: every ε must be in [0, 1] (pixel units)")
    if cfg.autoattack_version not in AUTOATTACK_VERSIONS:
        raise ValueError(f"flags: --autoattack-version must be one of {' | '.join(AUTOATTACK_VERSIONS)}, got "
                         f"{cfg.autoattack_version!r}")
    if cfg.autoattack_points < 1:
        raise ValueError(f"flags: --autoattack-points must be >= 1, got {cfg.autoattack_points} (--no-autoattack "
                         "skips AutoAttack)")
    if not 0.0 <= cfg.false_alarm_rate < 1.0:
        raise ValueError(f"flags: --false-alarm-rate must be in [0, 1), got {cfg.false_alarm_rate}")
