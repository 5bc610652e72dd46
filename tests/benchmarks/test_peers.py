"""benchmarks/peers and benchmarks/compare.py: every PyTorch peer net has exactly the parameter counts (trainable, and
BN statistics / frozen layers) of the tfgm net it stands for, a wrong port is refused by name, and
`compare.py --only pgd40_mnist --quick --batch-size 8` runs its children and prints the table row.

Skipped only when torch is not installed (pytest.importorskip("torch")): torch is a peer of the benchmark, never a
dependency of tfgm. CleverHans is optional here too (its row says "skipped" when it is missing).
"""

import os
import platform
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from benchmarks import compare  # noqa: E402
from benchmarks.peers import torch_nets, torch_steps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("row", sorted(compare.ROWS))
def test_each_torch_peer_has_the_tfgm_nets_parameter_counts(row):
    _, _, nets = torch_steps.STEPS[row](2)
    peer, tfgm = torch_steps.param_counts(nets), compare.tfgm_param_counts(row)
    assert set(peer) == set(tfgm)
    assert all(c["trainable"] > 0 or c["state"] > 0 for c in tfgm.values())
    assert peer == tfgm
    compare.check_param_counts(row, tfgm, peer)  # does not raise


def test_a_peer_with_a_wrong_channel_count_is_refused_by_name():
    tfgm = compare.tfgm_param_counts("dcgan")
    wrong = torch_nets.DcganDiscriminator(width=48)  # 48 channels where tfgm's first conv has 64
    peer = {"generator": torch_nets.param_counts(torch_nets.DcganGenerator()),
            "discriminator": torch_nets.param_counts(wrong)}
    with pytest.raises(compare.ParamMismatch, match="discriminator") as error:
        compare.check_param_counts("dcgan", tfgm, peer)
    assert "generator" not in str(error.value).split("for ")[1].split(" —")[0]


def test_compare_quick_prints_a_row():
    command = [sys.executable, os.path.join(ROOT, "benchmarks", "compare.py"), "--only", "pgd40_mnist", "--quick",
               "--batch-size", "8"]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "fp32 matmul peak" in out, out
    assert "TensorFlow's oneDNN kernels on" in out or platform.machine() not in ("x86_64", "AMD64"), out
    assert ("params pgd40_mnist/mnist_cnn: tfgm 710,218 trainable + 0 state | torch 710,218 trainable + 0 state same"
            in out), out
    rows = [line for line in out.splitlines() if line.startswith("| pgd40_mnist")]
    assert len(rows) == 2, out  # torch and cleverhans (timed, or skipped with a reason)
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] == "8" and cells[3] == "torch", out
    tfgm_rate, torch_rate, ratio = float(cells[2]), float(cells[4]), float(cells[5])
    assert tfgm_rate > 0 and torch_rate > 0, out
    # the rates are printed to 0.1: the ratio of the unrounded rates lies within their rounding
    assert tfgm_rate / (torch_rate + 0.05) - 0.01 <= ratio <= tfgm_rate / max(torch_rate - 0.05, 1e-3) + 0.01, out
    assert all(float(x) > 0 for x in cells[6].split(" / ")), out  # both sides counted their FLOPs
