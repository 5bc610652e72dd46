"""benchmarks/fast_layers.py: the variants differ in the swapped layer only, the nets are restored, and bad
arguments are refused before any work."""

import keras
import pytest

from benchmarks import _swap, fast_layers
from tfgm.layers import FastConv2DTranspose, FastLeakyReLU


def _count(fn, op_type, attr=None):
    ops = fn.get_concrete_function().graph.get_operations()
    return sum(op.type == op_type and (attr is None or op.get_attr("padding") == attr) for op in ops)


def _slopes_from_outputs(fn):
    """How many of the traced LeakyReluGrad ops read their slope from a LeakyRelu's output (FastLeakyReLU's)."""
    ops = fn.get_concrete_function().graph.get_operations()
    return sum(op.type == "LeakyReluGrad" and op.inputs[1].op.type == "LeakyRelu" for op in ops)


def test_the_leaky_relu_swap_builds_each_variant_and_restores_the_nets():
    from tfgm.nets import dcgan

    keras_step, _ = _swap.build("dcgan", 2, "FastLeakyReLU", keras.layers.LeakyReLU)
    assert dcgan.FastLeakyReLU is FastLeakyReLU
    assert {m.__name__.rsplit(".", 1)[1] for m in _swap.net_modules("FastLeakyReLU")} == {
        "ali_joint_nets", "ali_nets", "dcgan", "energy_nets"}
    fast_step, _ = _swap.build("dcgan", 2, "FastLeakyReLU", FastLeakyReLU)
    assert _slopes_from_outputs(keras_step) == 0 < _slopes_from_outputs(fast_step)


def test_the_transposed_convolution_swap_takes_the_explicit_kernel_in_dcgan_only():
    from tfgm.nets import dcgan

    keras_step, _ = _swap.build("dcgan", 2, "FastConv2DTranspose", keras.layers.Conv2DTranspose)
    assert dcgan.FastConv2DTranspose is FastConv2DTranspose
    assert {m.__name__.rsplit(".", 1)[1] for m in _swap.net_modules("FastConv2DTranspose")} == {"dcgan"}
    fast_step, _ = _swap.build("dcgan", 2, "FastConv2DTranspose", FastConv2DTranspose)
    # beside the critic's FastConv2D input gradients (in both): two generator passes (D update, G update), each
    # with one to_pixels
    explicit = [_count(step, "Conv2DBackpropInput", b"EXPLICIT") for step in (keras_step, fast_step)]
    assert explicit[1] - explicit[0] == 2


def test_the_benchmark_refuses_bad_flags_before_any_work(capsys):
    for argv, message in ((["leaky_relu", "--rounds", "0", "dcgan"], "--rounds and --calls must be >= 1"),
                          (["leaky_relu", "nope"], "unknown benchmark 'nope'"),
                          (["conv2d_transpose"], "required: BENCHMARK"),
                          (["relu", "dcgan"], "first argument: the layer"), ([], "(got nothing)")):
        with pytest.raises(SystemExit) as exit_info:
            fast_layers.main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
