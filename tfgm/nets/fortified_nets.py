"""Classifiers of the Fortified Networks experiments (METHODS.md §2), returning logits.

Every builder returns a built Functional model with stable layer names, so fortified layers go in by
name: `tfgm.models.fortify(net, layers=[FORTIFY_AT["mnist_cnn"]], hidden_units=256)`. Images are float32
in [0, 1]; the paper's DAE sits between the last hidden layer and the logits.
"""

import keras
from keras import layers

from tfgm.layers.fast_conv2d import FastConv2D
from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.leaky_relu import fast_leaky_relu

# Where the release put its DAE, per builder (the layer whose output is fortified).
FORTIFY_AT = {"mnist_cnn": "flatten", "mlp": "dense4", "resnet32": "global_pool", "text8_lstm": "lstm"}


def mnist_cnn(input_shape=(28, 28, 1), num_classes=10, name="mnist_cnn"):
    """conv 64 8×8 s2 same → conv 128 6×6 s2 valid → conv 128 5×5 s1 valid (leaky ReLU each) → flatten →
    logits.

    Layers: "images", "conv1", "conv2", "conv3", "flatten" ([B, 128] on 28×28), "logits" [B, num_classes].
    """
    x_in = keras.Input(input_shape, name="images")
    x = FastConv2D(64, 8, strides=2, padding="same", activation=fast_leaky_relu, name="conv1")(x_in)
    x = FastConv2D(128, 6, strides=2, padding="valid", activation=fast_leaky_relu, name="conv2")(x)
    x = FastConv2D(128, 5, strides=1, padding="valid", activation=fast_leaky_relu, name="conv3")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(x_in, layers.Dense(num_classes, name="logits")(x), name=name)


def mlp(input_shape=(28, 28, 1), hidden=(512,) * 4, num_classes=10, name="mlp"):
    """flatten → dense h_i with leaky ReLU for each h_i in `hidden` → logits (fig. 2.4: 4 × 512).

    Layers: "images", "flatten", "dense1" … "dense{len(hidden)}", "logits".
    """
    x_in = keras.Input(input_shape, name="images")
    x = layers.Flatten(name="flatten")(x_in)
    for i, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation=fast_leaky_relu, name=f"dense{i}")(x)
    return keras.Model(x_in, layers.Dense(num_classes, name="logits")(x), name=name)


def _residual_unit(x, filters, strides, name):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = FusedBatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = FusedBatchNormalization(name=f"{name}_bn2")(y)
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_proj")(x)
        shortcut = FusedBatchNormalization(name=f"{name}_proj_bn")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def resnet32(input_shape=(32, 32, 3), num_classes=10, units_per_stage=5, filters=(16, 32, 64), name="resnet32"):
    """CIFAR ResNet (He et al., 2016): 3×3 conv 16 → 3 stages × 5 basic units (16/32/64 filters, stride 2
    at stages 2 and 3, 1×1 projection shortcuts when the shape changes) → global average pool → logits.

    6·5 + 2 = 32 weighted layers. Layers: "images", "stem_conv", "stage{s}_unit{u}_*", "global_pool"
    ([B, 64]), "logits".
    """
    x_in = keras.Input(input_shape, name="images")
    x = layers.Conv2D(filters[0], 3, padding="same", use_bias=False, name="stem_conv")(x_in)
    x = FusedBatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for s, width in enumerate(filters, start=1):
        for u in range(1, units_per_stage + 1):
            x = _residual_unit(x, width, 2 if (s > 1 and u == 1) else 1, f"stage{s}_unit{u}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(x_in, layers.Dense(num_classes, name="logits")(x), name=name)


def text8_lstm(vocab=27, units=1000, embedding_dim=64, sequence_length=None, name="text8_lstm"):
    """Character LM: int tokens [B, T] → embedding → one LSTM (return_sequences) → logits [B, T, vocab].

    Layers: "tokens", "embedding", "lstm" (hidden states [B, T, units]: fortify here, a FortifiedDense
    then denoises the state of every step), "logits". The embedding width is our choice (the thesis is silent).
    """
    x_in = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab, embedding_dim, name="embedding")(x_in)
    x = layers.LSTM(units, return_sequences=True, name="lstm")(x)
    return keras.Model(x_in, layers.Dense(vocab, name="logits")(x), name=name)
