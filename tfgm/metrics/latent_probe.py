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
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((x_train.shape[1],))
    h = inputs
    for units in hidden:
        h = keras.layers.Dense(int(units), activation="relu")(h)
    probe = keras.Model(inputs, keras.layers.Dense(num_classes)(h), name="latent_probe")
    probe.compile(keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    probe.fit(x_train, y_train, batch_size=batch_size, epochs=int(epochs), verbose=0, shuffle=True)

    def accuracy(x, y):
        predicted = np.argmax(probe.predict(x, batch_size=1000, verbose=0), axis=1)
        return float(np.mean(predicted == y))

    return {"accuracy": accuracy(x_test, y_test), "train_accuracy": accuracy(x_train, y_train),
            "num_train": int(len(y_train)), "num_test": int(len(y_test)), "num_classes": num_classes,
            "hidden": [int(u) for u in hidden], "epochs": int(epochs)}
