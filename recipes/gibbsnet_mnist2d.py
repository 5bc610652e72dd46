"""ALI vs GibbsNet with a 2-D latent on MNIST digits 0, 1 and 9 (thesis fig. 3.3): MLP nets, N = 3. Writes a
scatter plot PNG of the inferred z per class for each model (GibbsNet's is non-Gaussian and separates the
classes), plus chains, inpainting, a long chain, the latent probe and IS/FID.

    python -m recipes.gibbsnet_mnist2d --quick  # built-in digits, minutes on a CPU
    python -m recipes.gibbsnet_mnist2d          # TFDS mnist
"""

import dataclasses
import sys

from recipes import _gibbsnet_common as common

DATASETS = "mnist (TFDS), builtin_digits, npz (--data-path, y = labels), folder"


def _nets(latent_dim, width, noise_dim, heads):
    from tfgm.nets import ali_nets

    if latent_dim != 2:
        raise ValueError(f"gibbsnet_mnist2d is the 2-D-latent model; got --latent-dim {latent_dim}")
    return ali_nets.mnist2d_ali(width, noise_dim, heads)


SPEC = common.Spec("gibbsnet_mnist2d", _nets, (28, 28, 1), classes=(0, 1, 9), scatter=True)


@dataclasses.dataclass
class Config(common.GibbsConfig):
    data: str = dataclasses.field(default="mnist", metadata={"help": DATASETS})
    latent_dim: int = dataclasses.field(default=2, metadata={"help": "latent dimension (2 for the scatter plot)"})

    @staticmethod
    def quick_overrides():
        return {**common.GibbsConfig.quick_overrides(), "data": "builtin_digits"}


def main(argv=None):
    return common.main(SPEC, Config, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
