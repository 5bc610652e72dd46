"""ALI vs GibbsNet on SVHN 32×32 (thesis ch. 3; METHODS.md §3): ALI's SVHN architecture, latent 256,
RMSprop 1e-4, batch 64, N = 3. Writes 20-step chains, right-half inpainting chains, a 1000-step chain,
latent-probe accuracy (thesis: ALI 66.7 vs GibbsNet 79.6), IS/FID with the protocol, table 3.1, export.

    python -m recipes.gibbsnet_svhn --quick     # built-in objects (32×32×3), minutes on a CPU
    python -m recipes.gibbsnet_svhn             # TFDS svhn_cropped
"""

import dataclasses
import sys

from recipes import _gibbsnet_common as common

DATASETS = "svhn_cropped (TFDS), builtin_objects, npz (--data-path, y = labels), folder"


def _nets(latent_dim, width, noise_dim, heads):
    from tfgm.nets import ali_nets

    return ali_nets.svhn_ali(latent_dim, width, noise_dim, heads)


SPEC = common.Spec("gibbsnet_svhn", _nets, (32, 32, 3))


@dataclasses.dataclass
class Config(common.GibbsConfig):
    data: str = dataclasses.field(default="svhn_cropped", metadata={"help": DATASETS})
    latent_dim: int = dataclasses.field(default=256, metadata={"help": "latent dimension"})

    @staticmethod
    def quick_overrides():
        return {**common.GibbsConfig.quick_overrides(), "data": "builtin_objects"}


def main(argv=None):
    return common.main(SPEC, Config, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
