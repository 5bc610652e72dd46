"""The multi-worker patch replaces private Keras functions: it names the Keras it was written for and refuses others."""

import types

import keras
import pytest

from tfgm.training import multiworker


def test_the_installed_keras_is_one_the_patch_was_written_for():
    module = multiworker.check_patchable_keras()
    assert module.TensorFlowTrainer is keras.src.backend.tensorflow.trainer.TensorFlowTrainer
    assert ".".join(keras.__version__.split(".")[:2]) in multiworker.PATCHED_KERAS_VERSIONS


@pytest.mark.parametrize("version", ["3.16.0", "3.14.2", "4.0.0"])
def test_another_keras_version_gets_one_clear_error(version):
    with pytest.raises(RuntimeError, match=rf"written for Keras 3\.15; the installed Keras is {version}.*keras==3\.15"):
        multiworker.check_patchable_keras(version)


def test_a_trainer_without_the_replaced_functions_gets_one_clear_error():
    trainer = types.SimpleNamespace(TensorFlowTrainer=type("TensorFlowTrainer", (), {"_maybe_symbolic_build": None}),
                                    reduce_per_replica=None)
    with pytest.raises(RuntimeError, match="lacks _collective_all_reduce_multi_worker"):
        multiworker.check_patchable_keras("3.15.1", trainer)
