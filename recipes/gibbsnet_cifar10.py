"""ALI vs GibbsNet on CIFAR-10 32×32 (thesis ch. 3; METHODS.md §3): ALI's CIFAR-10 architecture (maxout
in D), latent 64, RMSprop 1e-4, batch 64, N = 3. Writes 20-step chains, right-half inpainting chains, a 1000-step chain,
latent-probe accuracy, IS/FID with the protocol, table 3.1, export.

    python -m recipes.gibbsnet_cifar10 --quick     # built-in objects (32×32×3), minutes on a CPU
    python -m recipes.gibbsnet_cifar10             # TFDS cifar10
"""

import sys

from recipes._gibbsnet_datasets import GibbsNetDataset, dataset_config

Config = dataset_config("cifar10", quick_data="builtin_objects", latent_dim=64)
EXPERIMENT = GibbsNetDataset(recipe="gibbsnet_cifar10", config=Config, description=__doc__, nets="cifar10_ali",
                             image_shape=(32, 32, 3))
main = EXPERIMENT.main

if __name__ == "__main__":
    sys.exit(main())
