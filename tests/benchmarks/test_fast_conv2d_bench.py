"""benchmarks/fast_conv2d.py and the CleverHans peer's plain-Keras net: the variants differ only in the kernels
FastConv2D picks, the nets are restored, and bad flags are refused before any work."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import _swap, fast_conv2d
from benchmarks.peers import cleverhans_pgd
from tfgm.layers import FastConv2D
from tfgm.nets import dcgan, fortified_nets


def _backprop_paddings(fn):
    return sorted(op.get_attr("padding").decode() for op in fn.get_concrete_function().graph.get_operations()
                  if op.type == "Conv2DBackpropInput")


def _op_types(fn):
    return [op.type for op in fn.get_concrete_function().graph.get_operations()]


def test_variants_differ_in_the_kernels_only_and_the_nets_are_restored():
    keras_step, items = _swap.build("pgd40_mnist", 2, "FastConv2D", keras.layers.Conv2D)
    fast_step, _ = _swap.build("pgd40_mnist", 2, "FastConv2D", FastConv2D)
    assert items == 2
    assert "EXPLICIT" not in _backprop_paddings(keras_step)
    assert "EXPLICIT" in _backprop_paddings(fast_step)
    assert _op_types(keras_step).count("MatMul") < _op_types(fast_step).count("MatMul")  # conv3 as a matmul
    assert fortified_nets.FastConv2D is FastConv2D
    swapped = {m.__name__.rsplit(".", 1)[1] for m in _swap.net_modules("FastConv2D")}
    assert swapped == {"ali_nets", "dcgan", "fortified_nets"}


def test_time_shape_reports_both_kernels_and_their_agreement():
    t = fast_conv2d.time_shape(2, 9, 1, 4, 3, 2, "same")
    assert set(t) == {"own", "explicit", "forward", "max_abs_diff"}
    assert all(t[k] > 0 for k in ("own", "explicit", "forward")) and t["max_abs_diff"] < 1e-5


def test_bad_flags_are_refused_before_any_work(capsys):
    for argv, message in ((["--rounds", "0"], "--rounds and --calls must be >= 1"),
                          (["nope"], "unknown benchmark 'nope'"), ([], "nothing to do")):
        with pytest.raises(SystemExit) as exit_info:
            fast_conv2d.main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_the_cleverhans_peer_attacks_the_same_net_built_from_keras_layers():
    net = fortified_nets.mnist_cnn()
    plain = cleverhans_pgd.plain_keras(net)
    assert type(plain.get_layer("conv1")) is keras.layers.Conv2D
    assert plain.get_layer("conv1").activation is keras.activations.leaky_relu  # not tfgm's fast_leaky_relu
    critic = cleverhans_pgd.plain_keras(dcgan.discriminator())
    assert type(critic.get_layer("down0_lrelu")) is keras.layers.LeakyReLU
    assert [w.shape for w in plain.weights] == [w.shape for w in net.weights]
    x = tf.random.stateless_uniform([3, 28, 28, 1], seed=[0, 1])
    np.testing.assert_allclose(plain(x).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-6)


def test_time_whole_input_reports_both_ways_and_their_agreement():
    t = fast_conv2d.time_whole_input(2, 3, 4, 5)
    assert set(t) == {"conv", "conv_grad", "matmul", "matmul_grad", "max_abs_diff"}
    assert all(t[k] > 0 for k in ("conv", "conv_grad", "matmul", "matmul_grad")) and t["max_abs_diff"] < 1e-5
