"""benchmarks/train_step.py hands `rbm_mnist` to benchmarks/rbm_step.py (RBM CD-1 and AIS against NumPy / PyTorch)
with its own flags, and refuses it after other flags."""

import pytest

from benchmarks import train_step


def test_train_step_hands_rbm_mnist_to_the_rbm_benchmark(capsys):
    with pytest.raises(SystemExit):
        train_step.main(["rbm_mnist", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "CD-1 updates per second" in text and "--ais-betas" in text and "--hidden" in text


def test_a_delegated_benchmark_after_other_flags_is_one_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_step.main(["--repeats", "2", "rbm_mnist"])
    assert exit_info.value.code == 2
    assert "rbm_mnist takes its own flags: put it first" in capsys.readouterr().err
