"""ALI vs GibbsNet on permutation-invariant MNIST (thesis §3.6.1; METHODS.md §3): MLP encoder, decoder and
joint discriminator, latent 64, N = 3; the headline number is the latent-probe accuracy (a (512, 512) MLP on
ẑ = E(x), no gradient into E; thesis: ALI 91 vs GibbsNet 97.7). Also chains, inpainting, a long chain, IS/FID.

    python -m recipes.gibbsnet_mnist --quick    # built-in digits (28×28×1), minutes on a CPU
    python -m recipes.gibbsnet_mnist            # TFDS mnist
"""

import sys

from recipes._gibbsnet_datasets import GibbsNetDataset, dataset_config

Config = dataset_config("mnist", quick_data="builtin_digits", latent_dim=64)
EXPERIMENT = GibbsNetDataset(recipe="gibbsnet_mnist", config=Config, description=__doc__, nets="mnist_ali",
                             image_shape=(28, 28, 1))
main = EXPERIMENT.main

if __name__ == "__main__":
    sys.exit(main())
