"""Fortified Networks on CIFAR-10 (thesis ch. 2, table 2.4, fig. 2.5; METHODS.md §2).

ResNet-32 (5 units per stage, 16/32/64 filters) → global pool → DAE(512, tanh) → 10, adversarial-training
baseline vs fortified with the same attack and budget: clean / FGSM ε=0.03 and 0.3 / PGD ε=0.03,
detection, gradient-masking checks, ε-sweep, metrics.json with the thesis numbers alongside, exports.

    python -m recipes.fortified_cifar10 --quick               # built-in objects, ResNet-8, minutes on a CPU
    python -m recipes.fortified_cifar10                       # TFDS cifar10, FGSM ε=0.03 (table 2.4)
    python -m recipes.fortified_cifar10 --data npz --data-path images.npz
"""

import dataclasses
import sys

from recipes._data_help import NPZ_32, data_help
from recipes._fortified_common import FortifiedImages
from recipes._fortified_config import DatasetSpec, FortifiedConfig

SPEC = DatasetSpec(
    recipe="fortified_cifar10", net="resnet32", input_shape=(32, 32, 3),
    thesis_eps={"fgsm": 0.03, "pgd": 0.03},
    thesis={("fgsm", 0.03): (79.34, 81.80, "table 2.4")},
    net_kwargs=lambda cfg: {"units_per_stage": cfg.resnet_units},
    ood_data="builtin_digits",
)


@dataclasses.dataclass
class Config(FortifiedConfig):
    data: str = dataclasses.field(default="cifar10", metadata={
        "help": data_help(("image", "label"), notes={"npz": NPZ_32})})
    resnet_units: int = dataclasses.field(default=5, metadata={
        "help": "residual units per stage (5: ResNet-32; 1: ResNet-8 for quick runs)"})
    dae_units: int = dataclasses.field(default=512, metadata={"help": "hidden units of the fortified layer's DAE"})
    dae_activation: str = dataclasses.field(default="tanh", metadata={"help": "DAE encoder activation"})
    fgsm_eps: tuple[float, ...] = dataclasses.field(default=(0.03, 0.3), metadata={"help": "FGSM ε of the table"})
    pgd_eps: tuple[float, ...] = dataclasses.field(default=(0.03,), metadata={"help": "PGD ε of the table"})
    sweep_eps: tuple[float, ...] = dataclasses.field(default=(0.0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.6, 1.0),
                                                     metadata={"help": "ε grid of the sweep (fig. 2.5)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in objects, ResNet-8, batch 32 (enough steps for BatchNorm's moving statistics)."""
        return {**FortifiedConfig.quick_overrides(), "data": "builtin_objects", "resnet_units": 1,
                "train_examples": 1500, "batch_size": 32, "train_epochs": 5, "eval_examples": 300, "pgd_steps": 10,
                "sweep_examples": 100, "sweep_eps": (0.0, 0.03, 0.1, 0.3, 1.0)}


main = FortifiedImages(config=Config, spec=SPEC, description=__doc__).main


if __name__ == "__main__":
    sys.exit(main())
