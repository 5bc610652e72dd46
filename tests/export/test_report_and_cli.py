import json
import os
import subprocess
import sys

import keras
import numpy as np
import onnx
import pytest
import tensorflow as tf

from export.__main__ import main, parse_args
from export.run import export_model, float32_copy
from tests.export.conftest import BATCH_SIZES, ENDPOINTS, make_run_dir
from tests.models._tiny import plain_decoder, plain_encoder, tiny_decoder, tiny_encoder
from tfgm.models import VAE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def small_vae():
    """A VAE without batch norm, one layer deep: the CLI's behaviour does not depend on the nets, its exports'
    cost does."""
    return VAE(plain_encoder(), plain_decoder())


def test_report_file_describes_the_export(exported):
    run_dir, returned = exported
    with open(os.path.join(run_dir, "export", "export_report.json"), encoding="utf-8") as f:
        report = json.load(f)
    assert report["passed"] is True and returned["passed"] is True
    assert set(report["tools"]) == {"tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime"}
    assert report["tools"]["onnx"] == onnx.__version__ and report["tools"]["tensorflow"] == tf.__version__
    assert report["settings"]["batch_sizes"] == list(BATCH_SIZES) and report["settings"]["opset"] == 17
    assert set(report["models"]) == {"vae", "discreg_vae"}
    entry = report["models"]["discreg_vae"]
    assert entry["class"] == "tfgm>DiscRegVAE" and entry["passed"] is True and entry["error"] is None
    assert entry["precision"]["compute_dtypes"] == ["float32"] and entry["precision"]["note"] is None
    saved = entry["savedmodel"]
    assert saved["path"] == os.path.join("export", "savedmodel", "discreg_vae", "1")
    assert saved["serving_default"] == "decode" and set(saved["signatures"]) == ENDPOINTS
    assert saved["signatures"]["sample"]["inputs"] == {"n": {"shape": [], "dtype": "int32"},
                                                        "seed": {"shape": [], "dtype": "int64"}}
    assert saved["signatures"]["decode"]["outputs"]["images"] == {"shape": [None, 32, 32, 3], "dtype": "float32"}
    assert set(saved["parity"]) == ENDPOINTS
    assert all(len(rows) == len(BATCH_SIZES) and all(r["max_abs_error"] <= 1e-4 for r in rows)
               for rows in saved["parity"].values())
    graph = entry["onnx"]["decoder"]
    assert graph["path"] == os.path.join("export", "onnx", "discreg_vae_decoder.onnx") and graph["opset"] == 17
    assert graph["inputs"] == {"z": {"shape": [None, 6], "dtype": "float32"}}
    assert graph["op_types"]["ConvTranspose"] >= 1 and sum(graph["op_types"].values()) > 5
    assert not any(name.startswith(".") for name in os.listdir(os.path.join(run_dir, "export", "savedmodel", "vae")))


def test_mixed_precision_model_exports_float32_signatures_and_says_so(tmp_path):
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = VAE(tiny_encoder(), tiny_decoder())
    finally:
        keras.config.set_dtype_policy("float32")
    bias = [v for v in model.decoder.weights if v.path.endswith("bias")][-1]
    bias.assign(np.full(bias.shape, 0.1, "float32"))
    entry = export_model(model, "vae", str(tmp_path), batch_sizes=(2,), atol=1e-5)
    assert entry["passed"], entry.get("error")
    assert "float16" in entry["precision"]["compute_dtypes"] and "float32 copy" in entry["precision"]["note"]
    copy = float32_copy(model)
    assert {layer.dtype_policy.compute_dtype for layer in copy.decoder.layers} == {"float32"}
    np.testing.assert_array_equal([v for v in copy.decoder.weights if v.path.endswith("bias")][-1].numpy(), bias.numpy())
    loaded = tf.saved_model.load(os.path.join(tmp_path, "savedmodel", "vae", "1"))
    z = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    np.testing.assert_allclose(loaded.signatures["decode"](z=tf.constant(z))["images"], copy.decode(z), atol=1e-6)
    for signature in entry["savedmodel"]["signatures"].values():
        assert all(s["dtype"] in ("float32", "int32", "int64") for s in signature["inputs"].values())
        assert all(s["dtype"] == "float32" for s in signature["outputs"].values())
    assert entry["onnx"]["decoder"]["outputs"]["images"]["dtype"] == "float32"


def test_cli_help_and_exit_codes(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as info:
        parse_args(["--help"])
    assert info.value.code == 0
    help_text = capsys.readouterr().out
    assert "--batch-sizes" in help_text and "savedmodel/<model>/<version>/" in help_text
    assert main([str(tmp_path)]) == 2
    assert "no models/*.keras" in capsys.readouterr().err
    run_dir = make_run_dir(tmp_path / "ok", {"vae": small_vae()})
    assert main([run_dir, "--models", "gan"]) == 2
    err = capsys.readouterr().err
    assert "no model gan" in err and "available: vae" in err
    monkeypatch.setattr("export.savedmodel.check_parity",
                        lambda *args: [{"batch_size": 1, "max_abs_error": 0.5, "passed": False}])
    assert main([run_dir, "--no-onnx", "--batch-sizes", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL parity" in out and "FAILED; report:" in out
    assert not os.path.exists(os.path.join(run_dir, "export", "savedmodel", "vae", "1"))
    with open(os.path.join(run_dir, "models", "vae.keras"), "rb") as f:
        head = f.read(2000)
    with open(os.path.join(run_dir, "models", "broken.keras"), "wb") as f:
        f.write(head)  # a truncated archive: Keras itself calls it "File not found"
    assert main([run_dir]) == 2
    err = capsys.readouterr().err
    assert "broken.keras: it is not a complete .keras file" in err and "File not found" not in err


def test_cli_exports_a_run_and_prints_the_table(tmp_path):
    run_dir = make_run_dir(tmp_path, {"vae": small_vae()})
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "export", run_dir, "--batch-sizes", "1", "7"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["model", "format", "endpoint", "max|err|", "status"]
    rows = [line.split() for line in lines[1:-1]]
    assert {(r[0], r[1], r[2]) for r in rows} == (
        {("vae", "savedmodel", e) for e in ENDPOINTS} | {("vae", "onnx", "decoder")})
    assert all(r[-1] == "ok" for r in rows)
    assert lines[-1] == f"passed; report: {os.path.join(run_dir, 'export', 'export_report.json')}"
    assert os.path.isdir(os.path.join(run_dir, "export", "savedmodel", "vae", "1"))


def _plain_classifier():
    x_in = keras.Input((4,))
    return keras.Model(x_in, keras.layers.Dense(3)(x_in), name="classifier")


def _read_report(run_dir):
    with open(os.path.join(run_dir, "export", "export_report.json"), encoding="utf-8") as f:
        return json.load(f)


def test_model_with_nothing_to_serve_is_skipped_and_a_reexport_keeps_the_passing_report(tmp_path, capsys,
                                                                                       monkeypatch):
    run_dir = make_run_dir(tmp_path, {"vae": small_vae(), "classifier": _plain_classifier()})
    assert main([run_dir, "--no-onnx", "--batch-sizes", "1"]) == 0
    out = capsys.readouterr().out
    assert "note (classifier): skipped: Functional declares no serving endpoints" in out
    assert ["classifier", "-", "-", "-", "skipped", "(nothing", "to", "serve)"] in [line.split() for line in
                                                                                 out.splitlines()]
    first = _read_report(run_dir)
    assert first["passed"] and first["models"]["classifier"]["skipped"] and first["models"]["vae"]["passed"]

    monkeypatch.setattr("export.savedmodel.check_parity",
                        lambda *args: [{"batch_size": 1, "max_abs_error": 0.5, "passed": False}])
    assert main([run_dir, "--no-onnx", "--batch-sizes", "1", "--models", "vae"]) == 1
    out = capsys.readouterr().out
    failed_file = out.splitlines()[-1].split("report: ")[1]
    assert os.path.basename(failed_file).startswith("export_report.failed-") and "keeps the previous passing" in out
    with open(failed_file, encoding="utf-8") as f:
        assert json.load(f)["models"]["vae"]["passed"] is False
    kept = _read_report(run_dir)
    assert kept["passed"] and set(kept["models"]) == {"vae", "classifier"}
    assert kept["models"]["vae"]["savedmodel"] == first["models"]["vae"]["savedmodel"]
    assert kept["models"]["vae"]["failed_reexport"]["report_file"] == os.path.basename(failed_file)
    assert os.path.isdir(os.path.join(run_dir, "export", "savedmodel", "vae", "1"))

    monkeypatch.undo()
    assert main([run_dir, "--no-onnx", "--batch-sizes", "1", "--models", "vae", "--max-n", "5"]) == 0
    merged = _read_report(run_dir)
    assert set(merged["models"]) == {"vae", "classifier"} and "failed_reexport" not in merged["models"]["vae"]
    assert merged["models"]["vae"]["savedmodel"]["limits"]["sample"] == {"max_n": 5}
    assert merged["settings"]["limit_overrides"] == {"max_n": 5}


def test_bad_limit_flags_exit_2_naming_the_flag(tmp_path, capsys):
    run_dir = make_run_dir(tmp_path, {"vae": small_vae()})
    assert main([run_dir, "--max-batch", "0"]) == 2
    assert "max_batch must be a positive integer" in capsys.readouterr().err
    assert main([run_dir, "--batch-sizes", "1", "7", "--max-batch", "4"]) == 2
    assert "--batch-sizes 7 exceeds --max-batch 4" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(run_dir, "export"))
