"""resume_changes: a changed flag is accepted only when no trained stage depends on it, and says why."""

import json

import pytest

from tfgm.training.resume_changes import record_stage, resume_changes, started_stages

SAVED = {"epochs": 0, "layers": ["a", "b"], "sn": False, "fd_samples": 10, "out": "runs"}


def _run(tmp_path, files=()):
    (tmp_path / "config.json").write_text(json.dumps(SAVED))
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return str(tmp_path)


def test_stages_are_found_by_their_checkpoints_models_and_record(tmp_path):
    run = _run(tmp_path, ["checkpoints/vae/ckpt-2.index", "checkpoints/empty/ckpt-2_temp/x", "models/clf.keras"])
    record_stage(run, "first", 3)
    assert started_stages(run) == {"vae", "clf", "first"}


def test_a_legacy_complete_run_refuses_more_epochs_and_changed_flags_name_the_saved_value(tmp_path):
    run = _run(tmp_path, ["summary.txt", "models/vae.keras"])
    with pytest.raises(ValueError) as err:
        resume_changes(run, {**SAVED, "epochs": 3, "layers": ["c"], "sn": True, "out": "elsewhere"},
                       {"layers": ("vae",)})
    text = str(err.value)
    assert "--epochs: saved 0, now 3: every stage of this run finished" in text
    assert "rerun with --layers a b, or start a new run" in text and "rerun with --no-sn, or" in text
    assert "--out" not in text
    assert resume_changes(run, {**SAVED, "fd_samples": 20}, {"fd_samples": ()}) == {
        "fd_samples": "--fd-samples: saved 10, now 20: accepted, it affects only the evaluation, which this resume "
                      "runs again"}
