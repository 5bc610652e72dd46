"""ALI vs GibbsNet on SVHN 32×32 (thesis ch. 3; METHODS.md §3): ALI's SVHN architecture, latent 256,
RMSprop 1e-4, batch 64, N = 3. Writes 20-step chains, right-half inpainting chains, a 1000-step chain,
latent-probe accuracy (thesis: ALI 66.7 vs GibbsNet 79.6), IS/FID with the protocol, table 3.1, export.

    python -m recipes.gibbsnet_svhn --quick     # built-in objects (32×32×3), minutes on a CPU
    python -m recipes.gibbsnet_svhn             # TFDS svhn_cropped
"""

import sys

from recipes._gibbsnet_datasets import GibbsNetDataset, dataset_config

Config = dataset_config("svhn_cropped", quick_data="builtin_objects", latent_dim=256)
EXPERIMENT = GibbsNetDataset(recipe="gibbsnet_svhn", config=Config, description=__doc__, nets="svhn_ali",
                             image_shape=(32, 32, 3))
main = EXPERIMENT.main

if __name__ == "__main__":
    sys.exit(main())
