"""gibbsnet_cifar10 --quick end to end on built-in data, shrunk through its flags; gibbsnet_mnist and _svhn, which
differ from it only in config, data and nets, through their data, nets and stages (one step each)."""

import json
import os
import zipfile

import pytest

from recipes import gibbsnet_cifar10, gibbsnet_mnist, gibbsnet_svhn

RECIPES = {"gibbsnet_mnist": gibbsnet_mnist, "gibbsnet_svhn": gibbsnet_svhn, "gibbsnet_cifar10": gibbsnet_cifar10}

TINY = ["--quick", "--train-examples", "128", "--eval-examples", "64", "--epochs", "1", "--long-chain-steps", "10",
        "--score-samples", "32", "--probe-epochs", "1", "--chain-steps", "3", "--width", "0.0625", "--no-export"]


def test_quick_run_trains_both_models_and_writes_table_3_1(tmp_path, capsys):
    """The code after the data and the nets is GibbsNetDataset's, the same for every recipe (28×28×1 images:
    test_gibbsnet_mnist2d's end-to-end run)."""
    assert gibbsnet_cifar10.main(TINY + ["--out", str(tmp_path), "--name", "t"]) == 0
    run = os.path.join(tmp_path, "gibbsnet_cifar10", "t")
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    for name in ("ali", "gibbsnet"):
        row = metrics["table_3_1"]["this_run"][name]
        assert set(row) == {"inception_score_samples", "inception_score_inpainting", "fid_samples", "fid_inpainting",
                            "latent_probe_accuracy"}
        assert metrics[name]["scores"]["samples"]["count"] == 32
        assert os.path.isfile(os.path.join(run, "images", f"{name}_long_chain_10_steps.png"))
        assert os.path.isfile(os.path.join(run, "images", f"{name}_inpainting_left_half_given_4_steps.png"))
        for panel in ("chain", "inpainting"):  # the per-epoch grids of training
            assert os.path.isfile(os.path.join(run, "images", f"{name}_{panel}_epoch001.png"))
    # Table 3.1's inpainting protocol by default, written and printed beside the numbers
    assert metrics["protocol"]["inpainting"].startswith("test images, left half given (clamped)")
    assert "4 chain steps; Table 3.1's protocol" in metrics["protocol"]["inpainting"]
    table = metrics["table_3_1"]
    assert set(table["this_run_protocol"]) == set(table["this_run"]["gibbsnet"])
    assert "left half given" in table["this_run_protocol"]["inception_score_inpainting"]
    assert table["thesis"]["gibbsnet"]["inception_score_inpainting"] == 6.15
    assert "left half fixed" in table["thesis"]["protocol"] and "CIFAR-10" in table["thesis"]["protocol"]
    assert table["comparable_with_thesis"] is False and metrics["gibbsnet_chain_encoder_gradient"] is True
    # the authors' encoder options are the default, for ALI and GibbsNet alike, and reach the saved models
    assert metrics["encoder_options"]["bounded_sigma"] is True and metrics["encoder_options"]["standardize_z"] is True
    for name in ("ali", "gibbsnet"):
        with zipfile.ZipFile(os.path.join(run, "models", f"{name}.keras")) as saved:
            config = json.loads(saved.read("config.json"))["config"]
        assert config["bounded_sigma"] is True and config["standardize_z"] is True
    printed = capsys.readouterr().out
    inpainting_row = next(line for line in printed.splitlines() if line.startswith("IS, inpainting"))
    assert "left half given" in inpainting_row and "4 chain steps" in inpainting_row
    thesis_line = next(line for line in printed.splitlines() if "6.15" in line)
    assert "left half given, 4 steps" in thesis_line and "not comparable" in thesis_line


@pytest.mark.parametrize("recipe,data,latent", [("gibbsnet_mnist", "builtin_digits", 64),
                                                 ("gibbsnet_svhn", "builtin_objects", 256)])
def test_quick_data_and_nets_train_each_stage_one_step(tmp_path, recipe, data, latent):
    """The recipe's --quick data and its nets through its own `train` (each stage's build, one eager step on a
    batch of that data), and the trained ALI and GibbsNet infer and sample at the recipe's shapes."""
    import copy
    import types

    import numpy as np

    from recipes._cli import parse_config

    module = RECIPES[recipe]
    cfg = parse_config(module.Config, "", TINY)
    assert (cfg.data, cfg.latent_dim) == (data, latent)
    experiment = copy.copy(module.EXPERIMENT)
    steps = {}

    def stage(name, build, fit_kwargs, callbacks=()):
        model = build()
        model.run_eagerly = True
        steps[name] = model.fit(fit_kwargs["x"].take(1), epochs=1, verbose=0).history
        return model

    experiment.cfg, experiment.stage = cfg, stage
    experiment.run = types.SimpleNamespace(images_dir=str(tmp_path), logs_dir=str(tmp_path))
    loaded = experiment.load(cfg)
    assert loaded.num_classes == 10 and loaded.fixed.shape == (8, *experiment.image_shape)
    models = experiment.train(loaded)
    assert list(steps) == ["score_classifier", "ali", "gibbsnet"]
    assert all(np.isfinite(v[0]) for logs in steps.values() for v in logs.values())
    for name in ("ali", "gibbsnet"):
        assert np.asarray(models[name].infer(loaded.fixed)).shape == (8, latent)
        assert np.asarray(models[name].sample(2, steps=2)).shape == (2, *experiment.image_shape)


def test_half_masks_and_the_protocol_text():
    import numpy as np

    from recipes import _gibbsnet_common as common
    from recipes._gibbsnet_figures import half_mask

    images = np.zeros((2, 4, 6, 3), "float32")
    left, right = half_mask(images, "left"), half_mask(images, "right")
    assert left.shape == right.shape == (2, 4, 6, 1)
    assert left[..., :3, :].all() and not left[..., 3:, :].any()
    np.testing.assert_array_equal(left + right, 1.0)
    cfg = gibbsnet_mnist.Config(inpaint_given="right", inpaint_steps=20)
    assert "right half given" in common.inpainting_protocol(cfg)
    assert "NOT Table 3.1's protocol" in common.inpainting_protocol(cfg)


@pytest.mark.parametrize("flags,message", [(["--inpaint-given", "top"], "--inpaint-given"),
                                           (["--inpaint-steps", "0"], "--inpaint-steps")])
def test_bad_inpainting_flags_fail_before_any_work(tmp_path, capsys, flags, message):
    assert gibbsnet_mnist.main(TINY + flags + ["--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_help_lists_the_recipe_flags(capsys, recipe):
    with pytest.raises(SystemExit):
        RECIPES[recipe].main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--train-steps", "--loss", "--bounded-sigma", "--no-bounded-sigma", "--standardize-z",
                 "--no-standardize-z", "--noise-dim", "--long-chain-steps",
                 "--quick", "--resume", "--seed", "--chain-encoder-gradient", "--no-chain-encoder-gradient",
                 "--inpaint-given", "--inpaint-steps"):
        assert flag in text


def test_the_scored_inpainting_clamps_the_configured_half_for_the_configured_steps_and_statistics():
    import numpy as np
    import tensorflow as tf

    from recipes._gibbsnet_common import scoring_evaluator
    from recipes._gibbsnet_datasets import scores
    from recipes._gibbsnet_figures import half_mask
    from tfgm.nets.score_nets import score_classifier

    class Recorder:
        """Stands in for a GibbsNet: records what the evaluation asks of it."""

        calls = []

        def sample(self, n, steps, seed, batch_statistics):
            self.statistics.append(batch_statistics)
            return np.zeros((n, 28, 28, 1), "float32")

        def inpaint(self, images, mask, steps, seed, batch_statistics):
            self.calls.append((np.asarray(mask), steps))
            self.statistics.append(batch_statistics)
            return images

    images = np.random.default_rng(0).random((6, 28, 28, 1)).astype("float32")
    test = tf.data.Dataset.from_tensor_slices({"image": images, "label": np.zeros(6, "int32")}).batch(3)
    classifier = score_classifier(gibbsnet_mnist.EXPERIMENT.image_shape, 10)
    evaluator = scoring_evaluator(classifier, "features", test, 2)
    for given, steps, batch_statistics in (("left", 4, True), ("right", 20, False)):
        Recorder.calls, Recorder.statistics = [], []
        cfg = gibbsnet_mnist.Config(inpaint_given=given, inpaint_steps=steps, score_samples=4, batch_size=4,
                                    score_splits=2, chain_batch_statistics=batch_statistics)
        scores(cfg, Recorder(), evaluator, test)
        assert [s for _, s in Recorder.calls] == [steps, steps]
        assert Recorder.statistics == [batch_statistics] * 3  # one sample batch, two inpainted batches
        for mask, _ in Recorder.calls:
            np.testing.assert_array_equal(mask, half_mask(images[:3], given))


@pytest.mark.parametrize("probabilities,key", [("softmax", "inception_score"), ("sigmoid", "attribute_inception_score")])
def test_scores_are_the_classifiers_inception_score_and_fid(probabilities, key):
    """The recipes' scores of a set of images: IS of the classifier's softmax (attribute IS of its sigmoid) and FID
    of its features against every test image, under metrics.json's keys."""
    import keras
    import numpy as np
    import tensorflow as tf

    from recipes._gibbsnet_common import score_entry, scoring_evaluator
    from tfgm.metrics import attribute_inception_score, feature_statistics, frechet_distance, inception_score
    from tfgm.nets.score_nets import score_classifier

    keras.utils.set_random_seed(0)
    classifier = score_classifier((8, 8, 1), 4)
    real, images = (np.random.default_rng(s).random((n, 8, 8, 1)).astype("float32") for s, n in ((1, 12), (2, 9)))
    test = tf.data.Dataset.from_tensor_slices({"image": real, "label": np.zeros(12, "int32")}).batch(5)
    entry = score_entry(scoring_evaluator(classifier, "features", test, 3, probabilities).evaluate_images(images), key)
    net = keras.Model(classifier.input, [classifier.get_layer("features").output, classifier.output])
    (real_features, _), (features, logits) = net(real), net(images)
    if probabilities == "softmax":
        mean, std = inception_score(tf.nn.softmax(logits).numpy(), splits=3)
    else:
        mean, std = attribute_inception_score(tf.sigmoid(logits).numpy(), splits=3)
    fid = frechet_distance(*feature_statistics(real_features), *feature_statistics(features))
    assert entry == {key: pytest.approx(mean, rel=1e-5), f"{key}_std": pytest.approx(std, rel=1e-4, abs=1e-9),
                     "fid": pytest.approx(fid, rel=1e-5), "count": 9, "splits": 3}
    assert list(entry) == [key, f"{key}_std", "fid", "count", "splits"]
