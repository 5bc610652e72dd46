"""benchmarks/autoattack_peer.py (`train_step.py autoattack_mnist`): the PyTorch port of the MNIST CNN gives Keras'
logits, a broken port is refused, and the PyTorch APGD-CE loop is tfgm's apgd — the same iterates from the same
start, the same robust accuracy from independent random starts.

The whole file is skipped when torch is not installed (pytest.importorskip("torch") only): torch is a peer of the
benchmark, never a dependency of tfgm.
"""

import numpy as np
import pytest
import tensorflow as tf

torch = pytest.importorskip("torch")

import keras  # noqa: E402

from benchmarks import autoattack_peer as peer  # noqa: E402
from tfgm.attacks.apgd import _apgd_core  # noqa: E402
from tfgm.nets import fortified_nets  # noqa: E402


def _nchw(images):
    return torch.from_numpy(np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2)))


def _cnn(input_shape, seed=0):
    keras.utils.set_random_seed(seed)
    net = fortified_nets.mnist_cnn(input_shape)
    for layer in net.layers:  # larger weights than the initializer's: logits of order 1–10, not 0.1
        if layer.weights:
            layer.set_weights([3.0 * w for w in layer.get_weights()])
    return net


@pytest.mark.parametrize("shape", [(28, 28, 1), (27, 27, 1), (36, 36, 1)],
                         ids=["mnist", "asymmetric_same_padding", "flatten_3x3x128"])
def test_torch_port_gives_the_keras_logits(shape):
    net = _cnn(shape)
    images = np.random.default_rng(1).random((5,) + shape, dtype=np.float32)
    keras_logits = net(images).numpy()
    assert keras_logits.std() > 0.5  # a check that can fail
    module = peer.torch_mnist_cnn(peer.keras_weights(net), input_shape=shape)
    assert peer.check_port(module, images, keras_logits) <= peer.TOLERANCE


def test_a_port_with_other_weights_is_refused_loudly():
    net = _cnn((28, 28, 1))
    images = np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32)
    weights = peer.keras_weights(net)
    weights["conv2_kernel"] = weights["conv2_kernel"].transpose(1, 0, 2, 3)  # kernel rows and columns swapped
    with pytest.raises(RuntimeError, match="not the Keras model"):
        peer.check_port(peer.torch_mnist_cnn(weights), images, net(images).numpy())


class TanhNet:
    """logits = tanh(x·W1 + b1)·W2 + b2 on vectors, the same weights in TensorFlow and PyTorch: small and
    nonlinear, so APGD's step schedule matters."""

    def __init__(self, dims=12, hidden=16, classes=4, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [(rng.normal(size=(dims, hidden)) * 1.5).astype("float32"),
                       rng.normal(size=hidden).astype("float32"),
                       (rng.normal(size=(hidden, classes)) * 2.0).astype("float32"),
                       rng.normal(size=classes).astype("float32")]

    def __call__(self, x):
        w1, b1, w2, b2 = self.params
        return tf.matmul(tf.tanh(tf.matmul(x, w1) + b1), w2) + b2

    def torch(self, x):
        w1, b1, w2, b2 = (torch.from_numpy(p) for p in self.params)
        return torch.tanh(x @ w1 + b1) @ w2 + b2


def test_torch_apgd_ce_follows_tfgms_iterates_from_the_same_start():
    model = TanhNet(seed=4)
    x = np.random.default_rng(4).random((16, 12)).astype("float32")
    y = np.argmax(model(x).numpy(), axis=1).astype("int32")
    eps = 0.3
    args = (tf.constant(x), tf.constant(y), tf.zeros_like(y), tf.fill([16], eps), tf.constant([3, 9]), 0.0, 1.0)
    start = _apgd_core(model, *args, steps=0, loss="ce", rho=0.75, eot_samples=1)[0].numpy()
    _, robust, loss_best, _ = _apgd_core(model, *args, steps=30, loss="ce", rho=0.75, eot_samples=1)
    _, t_robust, t_loss_best, _ = peer.torch_apgd_ce(model.torch, torch.from_numpy(x), torch.from_numpy(y).long(),
                                                     eps, steps=30, start=torch.from_numpy(start))
    np.testing.assert_allclose(t_loss_best.numpy(), loss_best.numpy(), rtol=1e-4)
    np.testing.assert_array_equal(t_robust.numpy(), robust.numpy())
    clean = tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x)).numpy()
    assert np.all(loss_best.numpy() > clean + 0.05)  # the attack did something


def test_torch_apgd_ce_and_tfgm_apgd_reach_the_same_robust_accuracy():
    model = TanhNet(seed=7)
    x = np.random.default_rng(7).random((200, 12)).astype("float32")
    y = np.argmax(model(x).numpy(), axis=1).astype("int32")
    eps = 0.06
    clean, robust = peer.tfgm_apgd_robust(model, tf.constant(x), y, eps, steps=20, batch_size=100, seed=1)
    t_clean, t_robust = peer.torch_robust(model.torch, torch.from_numpy(x), torch.from_numpy(y).long(), eps,
                                          steps=20, batch_size=100, seed=1)
    assert clean.all() and t_clean.all()
    assert 0.2 < robust.mean() < 0.8  # neither attack is trivially at 0 or 100 %
    assert abs(robust.mean() - t_robust.mean()) <= 0.03


def test_train_step_hands_autoattack_mnist_to_the_peer_module(capsys):
    from benchmarks import train_step

    with pytest.raises(SystemExit):
        train_step.main(["autoattack_mnist", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "torch_apgd_ce" in text and "--points" in text and "--eps" in text
