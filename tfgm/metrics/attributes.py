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


def _constant_agreement(prediction, dataset, attribute_names=None):
    """attribute_agreement of a classifier that answers `prediction` (bool [K]) for every image, plus
    "prediction" (the K values as 0/1)."""
    prediction = np.asarray(prediction, bool)
    logits = tf.constant(np.where(prediction, 1.0, -1.0)[None], tf.float32)

    def constant(images, training=False):
        return tf.tile(logits, [tf.shape(images)[0], 1])

    result = attribute_agreement(constant, dataset, attribute_names=attribute_names)
    return {**result, "prediction": [int(p) for p in prediction]}


def majority_baseline(train_attributes, dataset, attribute_names=None):
    """Agreement of a blind guess: every attribute predicted as its majority value on the training split.

    train_attributes: [N, K] in {0, 1} (the training split's labels). dataset: batched dicts with
    "attributes" [B, K] (the split scored). Ties (rate exactly ½) predict 1. Returns attribute_agreement's
    dict plus "prediction" (the K constant values).
    """
    rates = np.mean(np.asarray(train_attributes, np.float64) > 0.5, axis=0)
    return _constant_agreement(rates >= 0.5, dataset, attribute_names)


def mean_image_baseline(classifier, mean_image, dataset, attribute_names=None):
    """Agreement of a blind reconstruction: the classifier's attributes of the mean training image, for every
    example (what a model that returns the average face for any input would score).

    mean_image: [H, W, C] in [0, 1]. Returns attribute_agreement's dict plus "prediction".
    """
    logits = classifier(np.asarray(mean_image, np.float32)[None], training=False)
    return _constant_agreement(np.asarray(logits)[0] > 0.0, dataset, attribute_names)


def blind_baselines(classifier, train, test, attribute_names=None, max_train=10000, drawn=None):
    """Both blind baselines of attribute agreement on `test`: "majority" (each attribute's majority value over
    the first `max_train` training examples) and "mean_image" (the classifier's attributes of their mean image),
    each with "drawn" (its mean over the attribute names `drawn`, or None), and "protocol".

    train, test: batched dicts with "image" [B, H, W, C] and "attributes" [B, K]."""
    attributes, image_sum, count = [], 0.0, 0
    for batch in train.unbatch().take(max_train).batch(500):
        attributes.append(batch["attributes"].numpy())
        image_sum = image_sum + batch["image"].numpy().astype(np.float64).sum(axis=0)
        count += len(attributes[-1])
    results = {"majority": majority_baseline(np.concatenate(attributes), test, attribute_names),
               "mean_image": mean_image_baseline(classifier, image_sum / count, test, attribute_names)}
    for result in results.values():
        result["drawn"] = subset_mean(result["per_attribute"], drawn) if drawn else None
    results["protocol"] = {"training_examples": count, "drawn_attributes": list(drawn) if drawn else None}
    return results


def subset_mean(per_attribute, names):
    """Mean of `per_attribute` ({name: value}) over `names` (e.g. the drawn attributes of the built-in faces)."""
    missing = [n for n in names if n not in per_attribute]
    if missing:
        raise ValueError(f"subset_mean: {missing} are not among the scored attributes")
    return float(np.mean([per_attribute[n] for n in names]))
