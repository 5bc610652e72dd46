"""recipes.launch: TF_CONFIG per worker, command lines, failure propagation (plain-Python workers, no TF)."""

import json

import pytest

from recipes import launch


def test_each_worker_gets_the_cluster_and_its_own_index_on_distinct_loopback_ports():
    ports = launch.free_ports(3)
    assert len(set(ports)) == 3
    addresses = [f"127.0.0.1:{p}" for p in ports]
    configs = [json.loads(launch.tf_config(addresses, i)) for i in range(3)]
    assert all(c["cluster"] == {"worker": addresses} for c in configs)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]


def test_worker_command_appends_multiworker_and_refuses_another_strategy(tmp_path):
    assert launch.worker_command("discreg_celeba", ["--quick"])[1:] == [
        "-m", "recipes.discreg_celeba", "--quick", "--strategy", "multiworker"]
    assert launch.worker_command("recipes.gan_toy", ["--strategy=multiworker"])[-1] == "--strategy=multiworker"
    with pytest.raises(ValueError, match="remove --strategy mirrored"):
        launch.worker_command("gan_toy", ["--strategy", "mirrored"])
    with pytest.raises(ValueError, match="no script"):
        launch.worker_command(str(tmp_path / "missing.py"), [])


def _script(tmp_path, body):
    path = tmp_path / "w.py"
    path.write_text("import json, os, sys, time\nindex = json.loads(os.environ['TF_CONFIG'])['task']['index']\n" + body)
    return str(path)


def test_a_failing_worker_stops_the_others_and_fails_the_job(tmp_path, capfd):
    script = _script(tmp_path, "if index == 1:\n    sys.exit(3)\ntime.sleep(60)\n")
    assert launch.launch(script, [], workers=2, timeout=30, grace=2) == 3
    assert "worker 1 exited with code 3" in capfd.readouterr().err


def test_all_workers_succeeding_succeeds_and_the_chief_output_is_streamed(tmp_path, capfd):
    script = _script(tmp_path, "print('hello from', index, sys.argv[1:])\n")
    assert launch.launch(script, ["--x", "1"], workers=2, timeout=30) == 0
    out = capfd.readouterr().out
    assert "hello from 0 ['--x', '1', '--strategy', 'multiworker']" in out and "hello from 1" not in out


def test_the_job_timeout_is_bounded(tmp_path):
    assert launch.launch(_script(tmp_path, "time.sleep(60)\n"), [], workers=2, timeout=1, grace=1) == 124


def test_help_explains_single_host_and_several_hosts(capsys):
    with pytest.raises(SystemExit):
        launch.main(["--help"])
    text = capsys.readouterr().out
    assert "TF_CONFIG" in text and "Kubernetes" in text and "Vertex" in text and "127.0.0.1" in text
