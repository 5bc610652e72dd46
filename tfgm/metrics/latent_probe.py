"""Latent classifier probe (thesis §3.6.1): how linearly-or-not separable the classes are in ẑ = E(x)."""

import numpy as np


def _features(encode_fn, dataset):
    feats, labels = [], []
    for batch in dataset:
        feats.append(np.asarray(encode_fn(batch["image"]), np.float32).reshape(len(batch["label"]), -1))
        labels.append(np.asarray(batch["label"]).reshape(-1))
    if not feats:
        raise ValueError("latent probe: a dataset is empty")
    return np.concatenate(feats), np.concatenate(labels).astype(np.int64)


def _standardized(x_train, x_test):
    """Both feature arrays standardized with the training set's per-dimension mean and std."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    return (x_train - mean) / std, (x_test - mean) / std


def _mlp(inputs_dim, hidden, outputs, seed, name):
    """A seeded ReLU MLP `inputs_dim` → hidden… → `outputs` logits."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((inputs_dim,))
    h = inputs
    for units in hidden:
        h = keras.layers.Dense(int(units), activation="relu")(h)
    return keras.Model(inputs, keras.layers.Dense(outputs)(h), name=name)


def latent_probe_accuracy(encode_fn, train_ds, test_ds, hidden=(512, 512), epochs=50, batch_size=100,
                          learning_rate=1e-3, seed=0):
    """Test accuracy of an MLP classifier trained on frozen latent features.

    encode_fn: images [B, H, W, C] → features [B, D] (e.g. `GibbsNet.infer`); it is only called forward, its
        outputs are stored as arrays, so no gradient ever reaches the encoder.
    train_ds, test_ds: batched datasets of dicts with "image" and int "label" [B].
    hidden: ReLU layer sizes of the probe (thesis: 2 layers of 512); Adam(`learning_rate`), softmax CE;
        features are standardized with the training set's per-dimension mean and std.
    Returns {"accuracy", "train_accuracy" in [0, 1], "num_train", "num_test", "num_classes", "hidden", "epochs"}.
    """
    import keras

    x_train, y_train = _features(encode_fn, train_ds)
    x_test, y_test = _features(encode_fn, test_ds)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    x_train, x_test = _standardized(x_train, x_test)
    probe = _mlp(x_train.shape[1], hidden, num_classes, seed, "latent_probe")
    probe.compile(keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    probe.fit(x_train, y_train, batch_size=batch_size, epochs=int(epochs), verbose=0, shuffle=True)

    def accuracy(x, y):
        predicted = np.argmax(probe.predict(x, batch_size=1000, verbose=0), axis=1)
        return float(np.mean(predicted == y))

    return {"accuracy": accuracy(x_test, y_test), "train_accuracy": accuracy(x_train, y_train),
            "num_train": int(len(y_train)), "num_test": int(len(y_test)), "num_classes": num_classes,
            "hidden": [int(u) for u in hidden], "epochs": int(epochs)}


def attribute_probe_accuracy(features_fn, train_ds, test_ds, hidden=(512, 512), epochs=50, batch_size=100,
                             learning_rate=1e-3, seed=0):
    """Mean per-attribute test accuracy of an MLP predicting binary attributes from frozen features.

    features_fn: images [B, H, W, C] → features [B, D] (only called forward; arrays are stored, so no gradient
        reaches the model). train_ds, test_ds: batched dicts with "image" and "attributes" [B, A] in {0, 1}.
    The probe: ReLU layers `hidden`, A sigmoid outputs, binary cross-entropy, Adam; features standardized with
    the training set's statistics. Returns {"accuracy" (mean over attributes), "majority_accuracy" (predicting
    each attribute's training majority), "per_attribute" [A] list, "num_train", "num_test", "hidden", "epochs"}.
    """
    import keras

    def arrays(dataset):
        feats, attrs = [], []
        for batch in dataset:
            feats.append(np.asarray(features_fn(batch["image"]), np.float32).reshape(len(batch["attributes"]), -1))
            attrs.append(np.asarray(batch["attributes"], np.float32))
        if not feats:
            raise ValueError("attribute probe: a dataset is empty")
        return np.concatenate(feats), np.concatenate(attrs) > 0.5

    x_train, y_train = arrays(train_ds)
    x_test, y_test = arrays(test_ds)
    x_train, x_test = _standardized(x_train, x_test)
    probe = _mlp(x_train.shape[1], hidden, y_train.shape[1], seed, "attribute_probe")
    probe.compile(keras.optimizers.Adam(learning_rate), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    probe.fit(x_train, y_train.astype(np.float32), batch_size=batch_size, epochs=int(epochs), verbose=0, shuffle=True)
    per_attribute = np.mean((probe.predict(x_test, batch_size=1000, verbose=0) > 0) == y_test, axis=0)
    majority = np.mean((y_train.mean(0) > 0.5)[None] == y_test, axis=0)
    return {"accuracy": float(per_attribute.mean()), "majority_accuracy": float(majority.mean()),
            "per_attribute": [float(a) for a in per_attribute], "num_train": int(len(y_train)),
            "num_test": int(len(y_test)), "hidden": [int(u) for u in hidden], "epochs": int(epochs)}
