"""Fortified Networks on MNIST (thesis ch. 2, tables 2.1, 2.2, 2.6, figs. 2.4-2.5; METHODS.md §2).

Trains the adversarial-training baseline and the fortified CNN (DAE(256, leaky ReLU) after the last conv
block) with the same attack, budget, seed and initial weights; calibrates the off-manifold threshold on
clean validation data; evaluates clean / FGSM ε=0.3 / PGD ε=0.1 and 0.3 / black-box FGSM (Papernot
substitute) accuracy, detection (AUROC, error ratio, histogram, ROC), the gradient-masking checks and the
ε-sweep of fig. 2.5; writes metrics.json (thesis numbers alongside, labeled), exports both models.

    python -m recipes.fortified_mnist --quick                 # built-in digits, a few minutes on a CPU
    python -m recipes.fortified_mnist                         # TFDS mnist, FGSM ε=0.3 (table 2.1)
    python -m recipes.fortified_mnist --attack pgd            # PGD ε=0.1 (table 2.2)
    python -m recipes.fortified_mnist --data npz --data-path digits.npz
"""

import dataclasses
import sys

from recipes._data_help import NPZ_28, data_help
from recipes._fortified_common import FortifiedImages
from recipes._fortified_config import DatasetSpec, FortifiedConfig

SPEC = DatasetSpec(
    recipe="fortified_mnist", net="mnist_cnn", input_shape=(28, 28, 1),
    thesis_eps={"fgsm": 0.3, "pgd": 0.1},
    thesis={("fgsm", 0.3): (96.36, 97.97, "table 2.1"), ("pgd", 0.1): (96.98, 98.09, "table 2.2")},
)


@dataclasses.dataclass
class Config(FortifiedConfig):
    data: str = dataclasses.field(default="mnist", metadata={
        "help": data_help(("image", "label"), notes={"npz": NPZ_28})})
    fgsm_eps: tuple[float, ...] = dataclasses.field(default=(0.3,), metadata={"help": "FGSM ε of the table"})
    pgd_eps: tuple[float, ...] = dataclasses.field(default=(0.1, 0.3), metadata={"help": "PGD ε of the table"})
    blackbox: bool = dataclasses.field(default=True, metadata={
        "help": "Papernot black-box attack (substitute from label queries, FGSM at --eps transferred)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in digits, 3000 training examples, 6 epochs (at 3 the fortified net was less robust
        to FGSM than the baseline, 28.9 vs 41.4 %; at 6 it is more robust on seeds 0 and 1: BUILD.md)."""
        return {**FortifiedConfig.quick_overrides(), "data": "builtin_digits", "train_epochs": 6}


main = FortifiedImages(config=Config, spec=SPEC, description=__doc__).main


if __name__ == "__main__":
    sys.exit(main())
