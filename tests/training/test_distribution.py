import glob
import os

import pytest
import tensorflow as tf

from tfgm.training import global_batch_size, strategy


def test_default_is_current_strategy():
    s = strategy()
    assert s is tf.distribute.get_strategy()
    assert s.num_replicas_in_sync == 1


def test_mirrored_uses_both_logical_cpus(mirrored):
    assert isinstance(mirrored, tf.distribute.MirroredStrategy)
    assert mirrored.num_replicas_in_sync == 2


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="default, mirrored, multiworker, tpu"):
        strategy("mirorred")


def test_multiworker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(RuntimeError, match="TF_CONFIG"):
        strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(RuntimeError, match="not valid JSON"):
        strategy("multiworker")


@pytest.mark.skipif(bool(glob.glob("/dev/accel*")) or "TPU_NAME" in os.environ, reason="a TPU may be present")
def test_tpu_without_tpu_fails_fast(monkeypatch):
    monkeypatch.delenv("COLAB_TPU_ADDR", raising=False)
    with pytest.raises(RuntimeError, match="no TPU"):
        strategy("tpu")


def test_global_batch_size(mirrored):
    assert global_batch_size(mirrored, 6) == 6
    assert global_batch_size(mirrored, 3, per_replica=True) == 6
    with pytest.raises(ValueError, match="does not split over 2 replicas"):
        global_batch_size(mirrored, 5)
    with pytest.raises(ValueError, match="positive integer"):
        global_batch_size(mirrored, 0)
