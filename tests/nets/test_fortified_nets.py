import numpy as np

import keras
from tfgm.layers.fortified_conv2d import FortifiedConv2D
from tfgm.layers.fortified_dense import FortifiedDense
from tfgm.models.fortify import fortify
from tfgm.nets import fortified_nets


def test_mnist_cnn_shapes_names_and_fortify_point():
    net = fortified_nets.mnist_cnn()
    assert net.get_layer("flatten").output.shape == (None, 128)
    assert [l.kernel.shape[:2] for l in net.layers if isinstance(l, keras.layers.Conv2D)] == [(8, 8), (6, 6), (5, 5)]
    fortified = fortify(net, [fortified_nets.FORTIFY_AT["mnist_cnn"]], hidden_units=256)
    dae = fortified.network.get_layer("fortified_flatten")
    assert isinstance(dae, FortifiedDense) and dae.kernel.shape == (128, 256)
    assert fortified(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 10)


def test_mlp_default_is_four_512_layers():
    net = fortified_nets.mlp()
    assert [l.units for l in net.layers if isinstance(l, keras.layers.Dense)] == [512] * 4 + [10]
    assert net.get_layer(fortified_nets.FORTIFY_AT["mlp"]).output.shape == (None, 512)


def test_resnet32_has_32_weighted_layers_and_a_64_wide_pool():
    net = fortified_nets.resnet32()
    convs3 = [l for l in net.layers if isinstance(l, keras.layers.Conv2D) and l.kernel_size == (3, 3)]
    assert len(convs3) == 31 and len([l for l in net.layers if isinstance(l, keras.layers.Dense)]) == 1
    assert net.get_layer("global_pool").output.shape == (None, 64)
    assert net(np.zeros((2, 32, 32, 3), "float32")).shape == (2, 10)
    conv_fortified = fortify(net, ["stage3_unit5_out"], hidden_units=8)
    assert isinstance(conv_fortified.network.get_layer("fortified_stage3_unit5_out"), FortifiedConv2D)


def test_text8_lstm_fortifies_every_step():
    net = fortified_nets.text8_lstm(units=12, embedding_dim=4)
    fortified = fortify(net, ["lstm"], hidden_units=6, input_key="tokens")
    tokens = np.random.default_rng(0).integers(0, 27, size=(3, 5)).astype("int32")
    assert fortified(tokens).shape == (3, 5, 27)
    probs, errors = fortified.predict_with_score(tokens)
    assert probs.shape == (3, 5, 27) and errors.shape == (3,)
