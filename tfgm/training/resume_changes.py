"""Which changed flags a ``--resume`` may accept: those whose stages have not trained yet.

A run records its finished stages (and their epochs) in ``stages.json``, and ``"complete": true`` once every
stage has trained. A flag changed on resume is accepted, with the reason, when it cannot make the run disagree
with itself: it only affects stages that have not started (declared by the recipe), only the evaluation
(declared with no stage), or nothing has trained yet. ``--epochs`` sets the epochs of the stages not finished;
on a complete run it would train nothing, so it is refused. Any other change is refused, naming the fix.
"""

from __future__ import annotations

import json
import os
import re

from .atomic import write_json_atomic

class ResumeConflict(ValueError):
    """A resumed run asked for something its saved state contradicts (e.g. fewer epochs than a stage trained)."""


IGNORED = frozenset({"resume", "verbose", "out", "name", "export", "strategy"})
"""Flags that never change what a run computes (where it is written, how it is shown or distributed)."""


def read_stages(run_path: str) -> dict:
    """``stages.json`` of a run folder: ``{"finished": {stage: {"epochs": n}}, "complete": bool}``."""
    path = os.path.join(run_path, "stages.json")
    if not os.path.exists(path):
        return {"finished": {}, "complete": False}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def record_stage(run_path: str, name: str | None = None, epochs: int | None = None, complete: bool = False) -> None:
    """Record in ``stages.json`` that stage ``name`` finished with ``epochs`` epochs, or that all are done."""
    stages = read_stages(run_path)
    if name is not None:
        stages["finished"].setdefault(name, {"epochs": epochs})
    stages["complete"] = stages["complete"] or complete
    write_json_atomic(os.path.join(run_path, "stages.json"), stages)


def checkpointed_epochs(run_path: str) -> dict[str, int]:
    """{stage: epochs of its newest checkpoint} of a run folder (``checkpoints/<stage>/ckpt-N.index``)."""
    found, checkpoints = {}, os.path.join(run_path, "checkpoints")
    for stage in sorted(os.listdir(checkpoints)) if os.path.isdir(checkpoints) else ():
        folder = os.path.join(checkpoints, stage)
        numbers = [int(m.group(1)) for m in (re.fullmatch(r"ckpt-(\d+)\.index", f) for f in
                                             (os.listdir(folder) if os.path.isdir(folder) else ())) if m]
        if numbers:
            found[stage] = max(numbers)
    return found


def started_stages(run_path: str) -> set[str]:
    """Stages of a run folder that trained at least one epoch (a checkpoint) or finished (a saved model)."""
    found = set(read_stages(run_path)["finished"]) | set(checkpointed_epochs(run_path))
    models = os.path.join(run_path, "models")
    if os.path.isdir(models):
        found |= {f[:-len(".keras")] for f in os.listdir(models) if f.endswith(".keras")}
    return found


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _as_flags(key: str, value) -> str:
    """``value`` of field ``key`` as it is typed on a command line."""
    if isinstance(value, bool):
        return _flag(key) if value else "--no-" + _flag(key)[2:]
    if isinstance(value, list):
        return " ".join([_flag(key), *map(str, value)])
    return f"{_flag(key)} {value}"


def resume_changes(run_path: str, new: dict, stage_flags: dict | None = None) -> dict[str, str]:
    """{field: why it is accepted} for every field of ``new`` (the resumed run's config) that differs from the
    saved ``config.json`` of ``run_path``; ``ValueError`` naming each refused change and its fix.

    ``stage_flags``: {field: stages it affects} declared by the recipe (``()``: only the evaluation); a field
    not declared affects every stage.
    """
    path = os.path.join(run_path, "config.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    stage_flags = stage_flags or {}
    stages = read_stages(run_path)
    started = started_stages(run_path)  # summary.txt: a complete run from before stages.json
    complete = stages["complete"] or os.path.exists(os.path.join(run_path, "summary.txt"))
    accepted, refused = {}, []
    for key in sorted(set(saved) | set(new)):
        if key in IGNORED or saved.get(key) == new.get(key):
            continue
        was, now = saved.get(key, "(absent)"), new.get(key, "(absent)")
        change = f"{_flag(key)}: saved {was!r}, now {now!r}"
        if key == "epochs":
            if complete:
                refused.append(f"{change}: every stage of this run finished, so --resume would train nothing; to "
                               f"train longer start a new run (another --name) with {_as_flags(key, now)}; to "
                               f"re-evaluate this run, --resume with {_as_flags(key, was)}")
                continue
            models = os.path.join(run_path, "models")
            beyond = {s: n for s, n in checkpointed_epochs(run_path).items() if isinstance(now, int)
                      and 0 < now < n and not os.path.exists(os.path.join(models, f"{s}.keras"))}
            if beyond:
                refused.append(f"{change}: stage(s) {', '.join(f'{s} ({n} epochs)' for s, n in beyond.items())} "
                               f"trained more epochs already; resume with {_flag(key)} {max(beyond.values())} "
                               "(or more), or start a new run with another --name")
                continue
            done = ", ".join(f"{s} ({v['epochs'] or 'unrecorded'} epochs)" for s, v in stages["finished"].items())
            accepted[key] = ("it sets the epochs of the stages not finished yet"
                             + (f"; the finished ones keep theirs: {done}" if done else ""))
        elif key in stage_flags:
            hit = sorted(set(stage_flags[key]) & started)
            if hit:
                refused.append(f"{change}: it affects stage(s) {', '.join(hit)}, which already trained with "
                               f"{was!r}; rerun with {_as_flags(key, was)}, or start a new run with another --name")
            else:
                affected = ", ".join(stage_flags[key])
                accepted[key] = (f"it affects only stage(s) not started yet ({affected})" if affected
                                 else "it affects only the evaluation, which this resume runs again")
        elif not started and not complete:
            accepted[key] = "no stage has trained yet"
        else:
            refused.append(f"{change}: the stages trained so far ({', '.join(sorted(started)) or 'all'}) used "
                           f"{was!r}; rerun with {_as_flags(key, was)}, or start a new run with another --name")
    if refused:
        raise ValueError(f"cannot resume {run_path} with these changes:\n  " + "\n  ".join(refused))
    return {key: f"{_flag(key)}: saved {saved.get(key)!r}, now {new.get(key)!r}: accepted, {why}"
            for key, why in accepted.items()}
