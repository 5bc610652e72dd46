import keras
import pytest

from tfgm.layers import SpectralNorm
from tfgm.layers.walk import sublayers


class _Holder(keras.Model):
    """A subclassed model holding one Functional net under two attributes, and a BN of its own."""

    def __init__(self, net):
        super().__init__()
        self.first, self.second = net, net
        self.own_bn = keras.layers.BatchNormalization()


def test_sublayers_finds_nested_wrapped_and_attribute_layers_each_once():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
    x_in = keras.Input((3,))
    wrapped = keras.layers.Dense(2, name="wrapped")
    net = keras.Model(x_in, SpectralNorm(wrapped)(inner(x_in)))
    model = _Holder(net)
    every = sublayers(model)
    assert every[0] is model and len(every) == len({id(layer) for layer in every})
    bns = sublayers(model, keras.layers.BatchNormalization)
    assert {id(layer) for layer in bns} == {id(inner.layers[-1]), id(model.own_bn)} and len(bns) == 2
    assert wrapped in sublayers(model, keras.layers.Dense) and sublayers(net, SpectralNorm)[0].layer is wrapped
    assert sublayers(inner, SpectralNorm) == [] and len(sublayers(net, (SpectralNorm, keras.layers.Dense))) == 3
    with pytest.raises(TypeError, match="Keras layer"):
        sublayers([inner])
