"""Streaming sample-quality evaluation of a generator: FID, Inception Score and KID in one pass.

A `FeatureNetwork` maps images in [0, 1] to (features [B, D], class probabilities [B, K] or None):
`keras_inception_v3()` (Keras' InceptionV3, labeled "FID-KerasInceptionV3": a different network from the
one of published FIDs), `inception_2015_graph(path)` (the 2015-12-05 graph of published numbers, given as a
file) or `keras_classifier(model)` (any Keras classifier, e.g. one trained on MNIST; its softmax, or its sigmoid
for attribute classifiers). `GeneratorEvaluator` computes the real statistics once and then scores generators — a
Keras model, a SavedModel folder or an ONNX file — batch by batch, or images already drawn (`evaluate_images`);
every result records the network, the sample counts and the resize mode.
"""

import dataclasses
import os
import sys
from typing import Callable

import numpy as np
import tensorflow as tf

from tfgm.metrics.attribute_score import attribute_inception_score
from tfgm.metrics.frechet import StreamingStatistics, frechet_distance
from tfgm.metrics.inception_score import inception_score
from tfgm.metrics.kid import kernel_inception_distance


@dataclasses.dataclass
class FeatureNetwork:
    """A feature network and how images reach it.

    extract: float32 images [B, H, W, C] as prepared here → (features [B, D], probabilities [B, K] or None).
    input_size: (H, W) images are resized to first (None: fed at their own size). channels: 1 or 3 images are
    converted to (None: as they are). scale: multiplier applied to [0, 1] images (255 for the 2015 graph).
    resize: the resize mode, recorded with every score. comparable: scores comparable with published ones.
    probabilities: "softmax" (rows are class distributions; the Inception Score) or "sigmoid" (independent
    attribute probabilities [B, A]; the attribute Inception Score, mean over attributes, range [1, 2]).
    """

    label: str
    extract: Callable
    input_size: tuple = None
    channels: int = None
    scale: float = 1.0
    resize: str = "none"
    comparable: bool = False
    probabilities: str = "softmax"

    def prepare(self, images):
        """float32 images [B, h, w, c] in [0, 1] → the network's input (resized, channels converted, scaled)."""
        x = tf.convert_to_tensor(images, tf.float32)
        if self.channels == 3 and x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, 3])
        elif self.channels == 1 and x.shape[-1] == 3:
            x = tf.image.rgb_to_grayscale(x)
        if self.input_size is not None and tuple(x.shape[1:3]) != tuple(self.input_size):
            x = tf.image.resize(x, self.input_size, method="bilinear")
        return x * self.scale

    def __call__(self, images):
        """images [B, h, w, c] in [0, 1] → (features float64 [B, D], probabilities float64 [B, K] or None)."""
        features, probs = self.extract(self.prepare(images))
        features = np.asarray(features, np.float64).reshape(len(features), -1)
        return features, None if probs is None else np.asarray(probs, np.float64)


def keras_inception_v3(weights="imagenet"):
    """Keras' InceptionV3 (ImageNet weights fetched and cached by Keras on first use; `weights=None` builds it
    untrained, for tests): 2048-d average-pool features and its 1000-class softmax. Images are resized
    bilinearly to 299×299 (gray tiled to RGB) and mapped to [-1, 1] as `inception_v3.preprocess_input` does.
    """
    import keras

    base = keras.applications.InceptionV3(include_top=True, weights=weights)
    model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.output], name="inception_v3_fid")

    def extract(x):
        features, probs = model(x * 2.0 - 1.0, training=False)
        return features.numpy(), probs.numpy()

    label = "FID-KerasInceptionV3" if weights == "imagenet" else f"FID-KerasInceptionV3(weights={weights})"
    return FeatureNetwork(label, extract, input_size=(299, 299), channels=3,
                          resize="bilinear to 299×299 (tf.image.resize), gray tiled to RGB")


def inception_2015_graph(path):
    """The 2015-12-05 Inception graph (`classify_image_graph_def.pb` of inception-2015-12-05.tgz), the network
    of published FID / IS numbers. Images in [0, 255] are fed at their own size to `ExpandDims:0`, which the
    graph resizes bilinearly to 299×299; features are `pool_3` (2048-d) and probabilities the 1008-way softmax
    of pool_3 times the `softmax/logits/MatMul` weights (no bias, as in the reference IS code).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"no Inception graph at {path}: download inception-2015-12-05.tgz (from the TensorFlow models "
            "site) and pass the classify_image_graph_def.pb inside it")
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        graph_def.ParseFromString(f.read())

    def imported(images):
        pool3, matmul = tf.compat.v1.import_graph_def(
            graph_def, input_map={"ExpandDims:0": images}, return_elements=["pool_3:0", "softmax/logits/MatMul"],
            name="")
        features = tf.reshape(pool3, [tf.shape(pool3)[0], -1])
        return features, tf.nn.softmax(tf.matmul(features, matmul.inputs[1]))

    fn = tf.compat.v1.wrap_function(imported, [tf.TensorSpec([None, None, None, 3], tf.float32)])

    def extract(x):
        features, probs = fn(x)
        return features.numpy(), probs.numpy()

    return FeatureNetwork("FID-Inception2015", extract, channels=3, scale=255.0, comparable=True,
                          resize="none here; the graph resizes bilinearly to 299×299 (its ResizeBilinear op)")


def keras_classifier(model, feature_layer=None, label=None, probabilities="softmax"):
    """Any Keras classifier as feature network: features from `feature_layer` (name; default the input of the
    last layer), probabilities from the output: `probabilities="softmax"` (a class distribution per image) or
    "sigmoid" (independent attributes, e.g. CelebA's 40), applied unless the last layer already has it.
    Images are resized bilinearly to the model's input size when they differ.
    """
    import keras

    activations = {"softmax": (keras.activations.softmax, tf.nn.softmax),
                   "sigmoid": (keras.activations.sigmoid, tf.sigmoid)}
    if probabilities not in activations:
        raise ValueError(f"keras_classifier: probabilities must be 'softmax' or 'sigmoid', got {probabilities!r}")
    layer = model.get_layer(feature_layer).output if feature_layer else model.layers[-1].input
    extractor = keras.Model(model.inputs, [layer, model.outputs[0]])
    keras_activation, activation = activations[probabilities]
    applied = getattr(model.layers[-1], "activation", None) is keras_activation

    def extract(x):
        features, out = extractor(x, training=False)
        return features.numpy(), (out if applied else activation(out)).numpy()

    size = tuple(model.input_shape[1:3])
    name = label or f"FD-{model.name}" + (f":{feature_layer}" if feature_layer else "")
    return FeatureNetwork(name, extract, input_size=size, channels=model.input_shape[-1],
                          resize=f"bilinear to {size[0]}×{size[1]} when sizes differ", probabilities=probabilities)


def _stateless_latents(n, latent_dim, seed, index):
    return tf.random.stateless_normal([n, latent_dim], seed=[int(seed), int(index)])


def _onnx_sampler(path):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    latent_dim = int(first.shape[-1])

    def sample(n, seed, index):
        z = _stateless_latents(n, latent_dim, seed, index).numpy()
        return session.run(None, {first.name: z})[0]

    return sample, f"ONNX {path}"


def _savedmodel_sampler(path):
    loaded = tf.saved_model.load(path)
    for name in ("generate", "serving_default"):
        signature = loaded.signatures.get(name)
        inputs = signature.structured_input_signature[1] if signature is not None else {}
        if len(inputs) == 1:
            (key, spec), = inputs.items()
            latent_dim = int(spec.shape[-1])

            def sample(n, seed, index, signature=signature, key=key, latent_dim=latent_dim):
                z = _stateless_latents(n, latent_dim, seed, index)
                outputs = signature(**{key: z})
                return outputs["images"] if "images" in outputs else next(iter(outputs.values()))

            return sample, f"SavedModel {path} ({name})"
    raise ValueError(f"SavedModel {path} has no signature taking latents z (looked for 'generate', "
                     "'serving_default'); export the generator with tfgm's export")


def as_sampler(generator):
    """(fn(n, seed, index) → images [n, H, W, C] in [0, 1], description) for a generator given as a Keras
    model (one with `latent_dim` and `generate` or `decode`, such as tfgm's GAN or VAE, or a Functional
    z → images), a
    SavedModel folder or an ONNX file. Latents are N(0, I) drawn statelessly with seed [seed, index], so a
    Keras model and its exports are scored on the same samples.
    """
    if isinstance(generator, (str, os.PathLike)):
        path = os.fspath(generator)
        if path.endswith(".onnx"):
            return _onnx_sampler(path)
        if os.path.isdir(path):
            return _savedmodel_sampler(path)
        raise FileNotFoundError(f"no generator at {path}: pass a Keras model, a SavedModel folder or an .onnx file")
    if hasattr(generator, "latent_dim") and (hasattr(generator, "generate") or hasattr(generator, "decode")):
        fn = generator.generate if hasattr(generator, "generate") else generator.decode
        latent_dim, kind = int(generator.latent_dim), type(generator).__name__
    elif len(getattr(generator, "inputs", None) or ()) == 1:
        fn, latent_dim, kind = generator, int(generator.inputs[0].shape[-1]), type(generator).__name__
    else:
        raise TypeError(f"cannot sample from {type(generator).__name__}: pass a Keras model z → images, a model "
                        "with generate(z) and latent_dim, a SavedModel folder or an .onnx file")

    def sample(n, seed, index):
        return fn(_stateless_latents(n, latent_dim, seed, index))

    return sample, f"Keras {kind} '{getattr(generator, 'name', '')}'"


def _image_batches(data, batch_size, limit):
    """Yield float32 image batches [b, H, W, C] from an array or a tf.data.Dataset (dicts with "image" or
    tensors; batched or not), `limit` images in all (None: every image)."""
    limit = sys.maxsize if limit is None else int(limit)
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if isinstance(spec, dict):
            data = data.map(lambda d: d["image"])
            spec = spec["image"]
        if spec.shape.rank == 3:
            data = data.batch(batch_size)
        source = (np.asarray(b) for b in data.as_numpy_iterator())
    else:
        array = np.asarray(data, np.float32)
        source = (array[i:i + batch_size] for i in range(0, len(array), batch_size))
    seen = 0
    for batch in source:
        batch = batch[:limit - seen]
        if len(batch):
            yield batch.astype(np.float32)
        seen += len(batch)
        if seen >= limit:
            return


class _Accumulator:
    """Streaming feature statistics plus the features (for KID) and probabilities (for IS) of one side."""

    def __init__(self):
        self.stats = StreamingStatistics()
        self.features, self.probs = [], []

    def update(self, features, probs):
        self.stats.update(features)
        self.features.append(features.astype(np.float32))
        if probs is not None:
            self.probs.append(probs)

    def inception_score(self, splits, probabilities="softmax"):
        if not self.probs:
            return None
        probs = np.concatenate(self.probs)
        score = attribute_inception_score if probabilities == "sigmoid" else inception_score
        mean, std = score(probs, splits=min(splits, len(probs)))
        return {"mean": mean, "std": std, "splits": min(splits, len(probs)), "num_samples": len(probs)}


class GeneratorEvaluator:
    """Scores generators, or images already drawn, against `real_data` in the feature space of `feature_network`.

    real_data: array [N, H, W, C] or tf.data.Dataset of images in [0, 1]; the first `num_real` are used (None:
    all). evaluate(generator, num_samples, seed) streams `num_samples` generated images in batches of `batch_size`;
    evaluate_images(images) scores given images. Both return FID (Fréchet distance of the feature Gaussians,
    float64), IS over `splits` splits (the network's `probabilities` say which IS), KID (`kid_subsets` subsets of
    `kid_subset_size`; 0 subsets: none) and the protocol. Real statistics are computed on first use.
    """

    def __init__(self, feature_network, real_data, num_real=10000, batch_size=100, splits=10, kid_subsets=100,
                 kid_subset_size=1000):
        self.network = feature_network
        self.real_data = real_data
        self.num_real = None if num_real is None else int(num_real)
        self.batch_size = int(batch_size)
        self.splits = int(splits)
        self.kid_subsets = int(kid_subsets)
        self.kid_subset_size = int(kid_subset_size)
        self._real = None

    def real(self):
        """The accumulated real side (computed once); `real().stats.count` real images."""
        if self._real is None:
            self._real = self._accumulate(self.real_data, self.num_real, "the real data")
        return self._real

    def evaluate(self, generator, num_samples=10000, seed=0):
        """Scores of `generator` (see `as_sampler`) on `num_samples` samples drawn with `seed`."""
        sample, description = as_sampler(generator)
        fake = _Accumulator()
        for index, start in enumerate(range(0, int(num_samples), self.batch_size)):
            n = min(self.batch_size, int(num_samples) - start)
            fake.update(*self.network(np.asarray(sample(n, seed, index), np.float32)))
        return self._scores(fake, description, seed)

    def evaluate_images(self, images, seed=0, return_probabilities=False):
        """Scores of images already drawn: an array [N, H, W, C] in [0, 1] (N ≥ 2) or a tf.data.Dataset of
        them (as `real_data`), fed in batches of `batch_size`; `seed` draws KID's subsets. The dict of
        `evaluate` ("generator": the count of given images); with `return_probabilities`, (dict, the network's
        probabilities [N, K] float64, or None when it gives none)."""
        fake = self._accumulate(images, None, "evaluate_images' images")
        result = self._scores(fake, f"{fake.stats.count} given images", seed)
        if not return_probabilities:
            return result
        return result, np.concatenate(fake.probs) if fake.probs else None

    def _accumulate(self, images, limit, what):
        side = _Accumulator()
        for batch in _image_batches(images, self.batch_size, limit):
            side.update(*self.network(batch))
        if side.stats.count < 2:
            raise ValueError(f"{what} gave {side.stats.count} images; at least 2 are needed")
        return side

    def _scores(self, fake, description, seed):
        real = self.real()
        fid = frechet_distance(*real.stats.result(), *fake.stats.result())
        real_features, fake_features = np.concatenate(real.features), np.concatenate(fake.features)
        kid = None
        if self.kid_subsets:
            kid_mean, kid_std = kernel_inception_distance(real_features, fake_features, subsets=self.kid_subsets,
                                                          subset_size=self.kid_subset_size, seed=seed)
            kid = {"mean": kid_mean, "std": kid_std, "subsets": self.kid_subsets,
                   "subset_size": min(self.kid_subset_size, len(real_features), len(fake_features))}
        probabilities = self.network.probabilities
        return {
            "fid": fid,
            "inception_score": fake.inception_score(self.splits, probabilities),
            "inception_score_real": real.inception_score(self.splits, probabilities),
            "kid": kid,
            "network": self.network.label,
            "comparable_with_published": self.network.comparable,
            "feature_dim": int(real_features.shape[1]),
            "num_generated": fake.stats.count,
            "num_real": real.stats.count,
            "resize": self.network.resize,
            "generator": description,
            "seed": int(seed),
        }


def evaluate_generator(generator, real_data, feature_network, num_samples=10000, num_real=10000, seed=0,
                       **kwargs):
    """One-shot `GeneratorEvaluator(feature_network, real_data, num_real, **kwargs).evaluate(generator, ...)`."""
    evaluator = GeneratorEvaluator(feature_network, real_data, num_real=num_real, **kwargs)
    return evaluator.evaluate(generator, num_samples=num_samples, seed=seed)
