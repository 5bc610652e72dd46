"""Attribute agreement: does an attribute classifier read the same attributes off transformed images
(e.g. a VAE's reconstructions) as the ground truth says?"""

import numpy as np
import tensorflow as tf


def attribute_agreement(classifier, dataset, transform=None, attribute_names=None, max_batches=None):
    """Per-attribute accuracy of `classifier(transform(images))` against the true attributes.

    classifier: callable images [B, H, W, C] → logits [B, K] (predicts attribute k when logit > 0).
    dataset: batched dicts with "image" and "attributes" [B, K] in {0, 1}.
    transform: callable images → images (e.g. `vae.reconstruct`); None scores the originals, which gives the
        classifier's own accuracy (the ceiling for any reconstruction).
    Returns {"mean": float in [0, 1] (mean over attributes), "per_attribute": {name: float},
    "num_examples": int}.
    """
    @tf.function
    def predict(images):
        if transform is not None:
            images = transform(images)
        return classifier(images, training=False) > 0.0

    correct, count = None, 0
    for i, batch in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        if "attributes" not in batch:
            raise ValueError("attribute_agreement: batches need an 'attributes' entry; this dataset has none")
        truth = batch["attributes"].numpy() > 0.5
        hits = (predict(batch["image"]).numpy() == truth).sum(axis=0)
        correct = hits if correct is None else correct + hits
        count += truth.shape[0]
    if count == 0:
        raise ValueError("attribute_agreement: the dataset yielded no examples")
    accuracy = correct / count
    names = attribute_names or [f"attribute_{k}" for k in range(accuracy.shape[0])]
    return {"mean": float(np.mean(accuracy)),
            "per_attribute": {n: float(a) for n, a in zip(names, accuracy)},
            "num_examples": count}
