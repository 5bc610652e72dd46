"""GAN variants on CIFAR-10 32×32 (METHODS.md §4): DCGAN-style nets, any loss and regularizers, paper defaults
per variant; sample grids every epoch, loss curves, FID/IS/KID over training, export of the generator.

Scores use Keras' InceptionV3 by default (weights fetched by Keras on first use; labeled
"FID-KerasInceptionV3", not comparable with published FIDs); pass --fid-network inception2015
--inception-graph classify_image_graph_def.pb for numbers comparable with papers (protocols still differ:
state sample counts). Reference CIFAR-10 FIDs: DCGAN ≈ 28–48, WGAN-GP ≈ 22–54, SN-GAN ≈ 17–23.

    python -m recipes.gan_cifar10 --quick                 # built-in objects, small classifier as feature network
    python -m recipes.gan_cifar10 --variant sngan
    python -m recipes.gan_cifar10 --variant wgan_gp --fid-network inception2015 \\
        --inception-graph ~/classify_image_graph_def.pb
"""

import dataclasses
import sys

from recipes import _gan_common as common
from recipes._data_help import data_help

DATASETS = data_help(("image",))


@dataclasses.dataclass
class Config(common.ImageConfig):
    data: str = dataclasses.field(default="cifar10", metadata={"help": DATASETS})
    gan_epochs: int = dataclasses.field(default=100, metadata={
        "help": "epochs (generator steps: examples / batch / n_critic each)"})
    fid_network: str = dataclasses.field(default="inception_v3", metadata={
        "help": "feature network of FID/IS/KID: inception_v3 (Keras; weights fetched on first use) | "
                "inception2015 (--inception-graph; comparable with papers) | classifier (trained here) | none"})
    fid_every: int = dataclasses.field(default=10, metadata={"help": "score every N epochs (and at the end)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in objects, 2000 examples, 2 epochs, narrow nets, a small classifier as feature network."""
        return {**common.ImageConfig.quick_overrides(), "data": "builtin_objects", "fid_every": 1}


main = common.ImageGan(recipe="gan_cifar10", config=Config, description=__doc__,
                      image_shape=(32, 32, 3)).main


if __name__ == "__main__":
    sys.exit(main())
