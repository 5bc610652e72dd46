"""SERVING.md's REST examples: generated from the documented model's signatures, and runnable on a real export."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from export.rest_examples import main, markdown, markers, output_shapes, request_body, rest_predict
from export.savedmodel import describe_signatures, traced_signatures
from tfgm.models import DiscRegVAE, fortify
from tfgm.nets import discgen

SERVING_MD = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "export", "SERVING.md")


def _celeba_discreg_vae():
    """The discreg_celeba recipe's DiscRegVAE (64×64×3, 500 latent units): the model SERVING.md's examples use."""
    return DiscRegVAE(discgen.celeba_encoder(), discgen.celeba_decoder(),
                      discgen.feature_extractor(discgen.celeba_classifier()), layer_weights=None)


def _mnist_fortified():
    """A fortified classifier of 28×28×1 images into 10 classes (its signatures depend on nothing else)."""
    x_in = keras.Input((28, 28, 1), name="images")
    h = keras.layers.Conv2D(4, 3, strides=2, activation="relu", name="conv")(x_in)
    logits = keras.layers.Dense(10, name="logits")(keras.layers.Flatten()(h))
    return fortify(keras.Model(x_in, logits), ["conv"], seed=0)


@pytest.mark.parametrize("name,build", [("discreg_vae", _celeba_discreg_vae), ("fortified", _mnist_fortified)])
def test_serving_md_blocks_are_what_the_documented_models_export(name, build):
    with open(SERVING_MD, encoding="utf-8") as f:
        text = f.read()
    begin, end = markers(name)
    documented = text[text.index(begin): text.index(end) + len(end)]
    assert documented == markdown(traced_signatures(build()), name), (
        f"SERVING.md's REST examples of {name} are stale: regenerate them with python -m export.rest_examples")


def _nested_shape(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def test_generated_requests_are_answered_by_a_real_export(exported, loaded_models, capsys):
    path = os.path.join(exported[0], "export", "savedmodel", "vae", "1")
    loaded = tf.saved_model.load(path)
    signatures = describe_signatures(loaded)
    assert signatures == traced_signatures(loaded_models["vae"])
    for name, signature in signatures.items():
        body = json.loads(json.dumps(request_body(name, signature)))
        response = json.loads(json.dumps(rest_predict(loaded.signatures[name], signature, body)))
        outputs = response["outputs"] if len(signature["outputs"]) > 1 else {
            next(iter(signature["outputs"])): response["outputs"]}
        assert {k: _nested_shape(v) for k, v in outputs.items()} == output_shapes(signature), name
        assert all(np.all(np.isfinite(v)) for v in outputs.values())
    assert main([path, "--model-name", "vae"]) == 0
    assert capsys.readouterr().out.strip() == markdown(signatures, "vae")
