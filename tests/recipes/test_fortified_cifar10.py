"""fortified_cifar10 end to end on built-in objects (ResNet-8 via --resnet-units 1), plus its npz data step."""

import json
import os

import numpy as np
import tensorflow as tf

from recipes import fortified_cifar10

# --no-autoattack: the AutoAttack row and check are tested end to end in test_fortified_mnist and _fashion_mnist
TINY = ["--quick", "--train-examples", "128", "--validation-examples", "64", "--eval-examples", "64",
        "--epochs", "1", "--batch-size", "64", "--pgd-steps", "3", "--sweep-eps", "0", "0.03", "1",
        "--sweep-examples", "32", "--no-autoattack"]


def test_quick_run_trains_both_resnets_and_writes_a_complete_run_directory(tmp_path):
    status = fortified_cifar10.main(TINY + ["--out", str(tmp_path), "--name", "t"])
    run = tmp_path / "fortified_cifar10" / "t"
    assert status == 0
    config = json.load(open(run / "config.json"))
    assert config["data"] == "builtin_objects" and config["resnet_units"] == 1 and config["dae_activation"] == "tanh"
    metrics = json.load(open(run / "metrics.json"))
    assert metrics["data"] == "builtin_objects" and metrics["num_classes"] == 10
    assert [r["row"] for r in metrics["table"]] == ["clean", "fgsm@0.03", "fgsm@0.3", "pgd@0.03"]
    assert metrics["autoattack"] is None
    assert "autoattack_vs_pgd" not in metrics["gradient_masking"]["fortified"]["checks"]
    assert metrics["table"][1]["thesis_reference_percent"]["source"] == "table 2.4"
    assert metrics["protocol"]["reconstruction_loss"] == {"reduction": "mean", "lambda_rec": 1.0, "lambda_adv": 1.0}
    assert set(metrics["detection"]["out_of_distribution"]) == {"builtin_digits", "uniform_noise"}
    assert metrics["eps_sweep"]["eps"] == [0.0, 0.03, 1.0]
    assert {"eps_sweep.png", "detection_histogram.png", "detection_roc.png"} <= set(os.listdir(run / "images"))
    assert json.load(open(run / "export" / "export_report.json"))["passed"]


def test_npz_data_larger_than_the_net_is_resized(tmp_path):
    """The recipe's data step on an npz of 40×40 images: resized to the net's 32×32, split by index, labelled."""
    from recipes._cli import parse_config
    from recipes._fortified_data import load_image_data

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (300, 40, 40, 3), dtype=np.uint8), np.arange(300) % 10
    np.savez(tmp_path / "d.npz", x=x, y=y)
    cfg = parse_config(fortified_cifar10.Config, "", ["--data", "npz", "--data-path", str(tmp_path / "d.npz")])
    data = load_image_data(cfg, "fortified_cifar10", fortified_cifar10.SPEC.input_shape)
    assert data["num_classes"] == 10
    train = [(b["image"].numpy(), b["label"].numpy()) for b in data["train"].batch(1000)]
    assert len(train) == 1 and train[0][0].shape == (240, 32, 32, 3) and train[0][0].dtype == np.float32
    np.testing.assert_array_equal(np.sort(train[0][1]), np.sort(y[y < 8]))
    for split, index in (("validation", 8), ("test", 9)):  # the npz source: i % 10 == 8 validation, 9 test
        images, labels = data[split]
        np.testing.assert_array_equal(labels, y[index::10])
        expected = tf.image.resize(x[index::10] / 255.0, (32, 32), method="bilinear", antialias=True).numpy()
        assert images.shape == (30, 32, 32, 3) and 0.0 <= images.min() and images.max() <= 1.0
        np.testing.assert_allclose(images, expected, atol=1e-5)
