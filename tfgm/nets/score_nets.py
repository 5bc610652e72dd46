"""Small scoring networks: classifiers trained on a dataset whose features and class probabilities stand in
for Inception's when IS/FID are computed on data Inception was not trained for (the GibbsNet recipes)."""

import keras
from keras import layers


def score_classifier(image_shape=(28, 28, 1), num_classes=10, name="score_classifier"):
    """A small CNN: images [B, H, W, C] in [0, 1] → class logits [B, num_classes]. Two 3×3 conv (32, 64
    filters, ReLU) + 2×2 max-pool blocks, then a 128-unit ReLU layer named "features" (the FID features);
    softmax of the logits gives IS' class probabilities. Uncompiled."""
    x_in = keras.Input(image_shape)
    x = x_in
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name="features")(x)
    return keras.Model(x_in, layers.Dense(num_classes)(x), name=name)
