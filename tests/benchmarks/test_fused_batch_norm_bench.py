"""benchmarks/fused_batch_norm.py: the two variants differ only in the batch-norm kernel, and the nets are restored."""

import keras
import pytest

from benchmarks import _swap, fused_batch_norm
from tfgm.layers import FusedBatchNormalization
from tfgm.nets import dcgan


def _op_types(fn):
    return {op.type for op in fn.get_concrete_function().graph.get_operations()}


def test_keras_variant_has_no_fused_kernel_and_the_nets_are_restored():
    keras_step, items = fused_batch_norm.build("dcgan", 2, keras.layers.BatchNormalization)
    fused_step, _ = fused_batch_norm.build("dcgan", 2, FusedBatchNormalization)
    assert items == 2
    assert "FusedBatchNormV3" not in _op_types(keras_step)
    assert "FusedBatchNormV3" in _op_types(fused_step)
    assert dcgan.FusedBatchNormalization is FusedBatchNormalization
    swapped = {m.__name__.rsplit(".", 1)[1] for m in _swap.net_modules("FusedBatchNormalization")}
    assert swapped == {"dcgan", "discgen", "ali_nets", "ali_joint_nets", "fortified_nets"}


def test_bad_flags_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as exit_info:
        fused_batch_norm.main(["dcgan", "--rounds", "0"])
    assert exit_info.value.code == 2 and "--rounds and --calls must be >= 1" in capsys.readouterr().err
