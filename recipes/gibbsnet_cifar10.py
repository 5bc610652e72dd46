"""ALI vs GibbsNet on CIFAR-10 32×32 (thesis ch. 3; METHODS.md §3): ALI's CIFAR-10 architecture (maxout
in D), latent 64, RMSprop 1e-4, batch 64, N = 3. Writes 20-step chains, right-half inpainting chains, a 1000-step chain,
latent-probe accuracy, IS/FID with the protocol, table 3.1, export.

    python -m recipes.gibbsnet_cifar10 --quick     # built-in objects (32×32×3), minutes on a CPU
    python -m recipes.gibbsnet_cifar10             # TFDS cifar10
"""

import dataclasses
import sys

from recipes import _gibbsnet_common as common

DATASETS = "cifar10 (TFDS), builtin_objects, npz (--data-path, y = labels), folder"


def _nets(latent_dim, width, noise_dim, heads):
    from tfgm.nets import ali_nets

    return ali_nets.cifar10_ali(latent_dim, width, noise_dim, heads)


SPEC = common.Spec("gibbsnet_cifar10", _nets, (32, 32, 3))


@dataclasses.dataclass
class Config(common.GibbsConfig):
    data: str = dataclasses.field(default="cifar10", metadata={"help": DATASETS})
    latent_dim: int = dataclasses.field(default=64, metadata={"help": "latent dimension"})

    @staticmethod
    def quick_overrides():
        return {**common.GibbsConfig.quick_overrides(), "data": "builtin_objects"}


def main(argv=None):
    return common.main(SPEC, Config, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
