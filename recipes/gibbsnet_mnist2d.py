"""ALI vs GibbsNet with a 2-D latent on MNIST digits 0, 1 and 9 (thesis fig. 3.3): MLP nets, N = 3. Writes a
scatter plot PNG of the inferred z per class for each model (GibbsNet's is non-Gaussian and separates the
classes), plus chains, inpainting, a long chain, the latent probe and IS/FID.

    python -m recipes.gibbsnet_mnist2d --quick  # built-in digits, minutes on a CPU
    python -m recipes.gibbsnet_mnist2d          # TFDS mnist
"""

import sys

from recipes._gibbsnet_datasets import GibbsNetDataset, dataset_config

Config = dataset_config("mnist", quick_data="builtin_digits", latent_dim=2,
                        latent_help="latent dimension (2 for the scatter plot)")
EXPERIMENT = GibbsNetDataset(recipe="gibbsnet_mnist2d", config=Config, description=__doc__, nets="mnist2d_ali",
                             image_shape=(28, 28, 1), classes=(0, 1, 9), scatter=True)
main = EXPERIMENT.main

if __name__ == "__main__":
    sys.exit(main())
