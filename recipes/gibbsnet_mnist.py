"""ALI vs GibbsNet on permutation-invariant MNIST (thesis §3.6.1; METHODS.md §3): MLP encoder, decoder and
joint discriminator, latent 64, N = 3; the headline number is the latent-probe accuracy (a (512, 512) MLP on
ẑ = E(x), no gradient into E; thesis: ALI 91 vs GibbsNet 97.7). Also chains, inpainting, a long chain, IS/FID.

    python -m recipes.gibbsnet_mnist --quick    # built-in digits (28×28×1), minutes on a CPU
    python -m recipes.gibbsnet_mnist            # TFDS mnist
"""

import dataclasses
import sys

from recipes import _gibbsnet_common as common

DATASETS = "mnist (TFDS), builtin_digits, npz (--data-path, y = labels), folder"


def _nets(latent_dim, width, noise_dim, heads):
    from tfgm.nets import ali_nets

    return ali_nets.mnist_ali(latent_dim, width, noise_dim, heads)


SPEC = common.Spec("gibbsnet_mnist", _nets, (28, 28, 1))


@dataclasses.dataclass
class Config(common.GibbsConfig):
    data: str = dataclasses.field(default="mnist", metadata={"help": DATASETS})
    latent_dim: int = dataclasses.field(default=64, metadata={"help": "latent dimension"})

    @staticmethod
    def quick_overrides():
        return {**common.GibbsConfig.quick_overrides(), "data": "builtin_digits"}


def main(argv=None):
    return common.main(SPEC, Config, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
