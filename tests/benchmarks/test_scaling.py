"""benchmarks/scaling.py end to end on a toy model: one device, two logical devices, two loopback workers with
synchronized BN; the JSON it writes and the table it prints (numbers are not checked, only that they exist)."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks import scaling

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_configuration_names_parse_and_bad_ones_are_refused():
    assert scaling.parse_config("mirrored:2+sync") == {"name": "mirrored:2+sync", "kind": "mirrored", "replicas": 2,
                                                       "sync_bn": True}
    assert scaling.parse_config("default")["replicas"] == 1
    for bad in ("mirrored", "multiworker:0", "tpu:2", "default:2"):
        with pytest.raises(ValueError, match="unknown configuration"):
            scaling.parse_config(bad)


def test_help_states_the_caveat(capsys):
    with pytest.raises(SystemExit):
        scaling.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "not a speedup" in text and "multiworker:N" in text and "mirrored:N" in text


def test_tiny_scaling_run_writes_a_result_per_configuration(tmp_path):
    out = tmp_path / "scaling.json"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    configs = ["default", "mirrored:2", "multiworker:2+sync"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=str(scratch))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "scaling.py"), "--model", "tiny",
                           "--configs", *configs, "--steps", "1", "--repeats", "2", "--timeout", "100",
                           "--json", str(out)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["model"] == "tiny" and report["global_batch"] == 8 and report["timed_runs"] == 2
    assert "not a speedup" in report["caveat"] and "not a speedup" in proc.stdout
    results = report["results"]
    assert [r["config"] for r in results] == configs
    assert [(r["replicas"], r["workers"], r["per_replica_batch"]) for r in results] == [(1, 1, 8), (2, 1, 4),
                                                                                        (2, 2, 4)]
    assert [r["strategy"] for r in results] == ["none (one device)", "MirroredStrategy", "MultiWorkerMirroredStrategy"]
    assert [r["synchronized_bn_layers"] for r in results] == [0, 0, 15]  # tiny VAE: 7 BN layers in the encoder, 8 in the decoder
    for r in results:
        assert r["images_per_s"] > 0 and len(r["runs_images_per_s"]) == 2 and min(r["runs_images_per_s"]) > 0
        assert r["seconds_per_step"] > 0 and r["warmup_seconds"] > 0
        assert f"| {r['config']} |" in proc.stdout
    assert os.listdir(scratch) == []  # the driver's and launcher's temporary folders are removed
