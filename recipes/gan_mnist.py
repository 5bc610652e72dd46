"""GAN variants on MNIST 28×28 (METHODS.md §4): DCGAN-style nets, any loss and regularizers, paper defaults per
variant; sample grids every epoch, loss curves, FID/IS/KID over training, export of the generator.

The default feature network of the scores is a small CNN trained on MNIST in the run (an MNIST classifier is
the usual feature network for MNIST; its Fréchet distance is labeled as such, not Inception).

    python -m recipes.gan_mnist --quick                                   # built-in digits, minutes on a CPU
    python -m recipes.gan_mnist --variant wgan_gp
    python -m recipes.gan_mnist --loss hinge --regularizer r1=10 --sn --n-critic 2
"""

import dataclasses
import sys

from recipes import _gan_common as common
from recipes._data_help import data_help

DATASETS = data_help(("image",))


@dataclasses.dataclass
class Config(common.ImageConfig):
    data: str = dataclasses.field(default="mnist", metadata={"help": DATASETS})

    @staticmethod
    def quick_overrides():
        """--quick: built-in digits, 2000 examples, 2 epochs, narrow nets, 500-sample scores."""
        return {**common.ImageConfig.quick_overrides(), "data": "builtin_digits"}


main = common.ImageGan(recipe="gan_mnist", config=Config, description=__doc__,
                      image_shape=(28, 28, 1)).main


if __name__ == "__main__":
    sys.exit(main())
