"""``export_run``: export every model of a run directory and write ``export/export_report.json``."""

from __future__ import annotations

import datetime
import glob
import json
import os
import traceback
import zipfile

import keras

from tfgm.layers.walk import sublayers

from .limits import DEFAULT_LIMITS, FLAGS
from .onnx_export import LAYOUTS, OPSET, export_onnx, image_generators, nchw_uint8
from .report import tool_versions, write_report
from .savedmodel import write_savedmodel


def load_models(run_dir: str, names=None) -> dict:
    """``{name: model}`` from ``run_dir/models/<name>.keras`` (all of them, or ``names``)."""
    import tfgm.models  # noqa: F401  (registers the serializable classes)

    folder = os.path.join(os.fspath(run_dir), "models")
    available = sorted(os.path.basename(p)[: -len(".keras")] for p in glob.glob(os.path.join(folder, "*.keras")))
    if not available:
        raise FileNotFoundError(f"no models/*.keras in {run_dir}: is it a run directory (runs/<recipe>/<name>)?")
    missing = sorted(set(names or ()) - set(available))
    if missing:
        raise ValueError(f"no model {', '.join(missing)} in {folder}; available: {', '.join(available)}")
    models = {}
    for name in names or available:
        path = os.path.join(folder, f"{name}.keras")
        if not zipfile.is_zipfile(path):  # Keras reports a truncated archive as "File not found"
            raise ValueError(f"cannot load {path}: it is not a complete .keras file (a zip archive): truncated or "
                             "damaged; restore it, or delete it and rerun its stage with --resume")
        try:
            models[name] = keras.saving.load_model(path, compile=False)
        except Exception as e:
            raise ValueError(f"cannot load {path}: {type(e).__name__}: {e}") from e
    return models


def _dtypes(model) -> dict:
    """Compute and variable dtypes of the model, with a note if training was not float32."""
    compute = sorted({layer.dtype_policy.compute_dtype for layer in sublayers(model) if hasattr(layer, "dtype_policy")})
    variables = sorted({str(v.dtype) for v in model.variables})
    note = None
    if {d for d in compute + variables if "float" in d} - {"float32"}:
        note = (f"trained in mixed precision (layers computed in {'/'.join(compute)}); exported as a float32 copy "
                "(same weights, every layer computing in float32)")
    return {"compute_dtypes": compute, "variable_dtypes": variables, "note": note}


def _float32_policies(config):
    """`config` (a serialized Keras object) with every mixed DTypePolicy replaced by float32."""
    if isinstance(config, list):
        return [_float32_policies(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "DTypePolicy" and str(config.get("config", {}).get("name", "")).startswith("mixed_"):
        return {**config, "config": {**config["config"], "name": "float32"}}
    return {key: _float32_policies(value) for key, value in config.items()}


def float32_copy(model):
    """`model` rebuilt with every layer computing in float32 and its weights copied (variables of a mixed
    policy are float32 already); `model` itself when it has no mixed layer. Exports use the copy, so the
    served graph is float32 throughout, not float16 inside a float32 boundary."""
    if not {d for d in _dtypes(model)["compute_dtypes"] if "float" in d} - {"float32"}:
        return model
    config = _float32_policies(keras.saving.serialize_keras_object(model))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        copy = keras.saving.deserialize_keras_object(config)
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    return copy


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def nothing_to_serve(model) -> str | None:
    """Why ``model`` has nothing to export (no ``serving_endpoints``), or None if it has endpoints."""
    if hasattr(model, "serving_endpoints"):
        return None
    return (f"skipped: {type(model).__name__} declares no serving endpoints (e.g. a classifier used in training "
            "or evaluation); nothing to serve")


def export_model(model, name: str, export_dir: str, version: int = 1, onnx: bool = True,
                 batch_sizes=(1, 7, 64), atol: float = 1e-4, limits: dict | None = None,
                 allow_nonfinite: bool = False, onnx_layout: str = "nhwc_float") -> dict:
    """Export one model (SavedModel + its ONNX graphs) under ``export_dir``; returns its report entry.

    ``limits``/``allow_nonfinite``: see ``write_savedmodel``. ``onnx_layout="nchw_uint8"`` also writes each
    z → images graph as ``<graph>_nchw_uint8`` (uint8 [B, 3, H, W]; parity within one 8-bit level). A model
    with no serving endpoints is skipped (``skipped`` holds the note; ``passed: true``). Failures are
    recorded (``error``, ``passed: false``) rather than raised, so other models still export.
    """
    entry = {"class": keras.saving.get_registered_name(type(model)), "precision": _dtypes(model), "error": None}
    skipped = nothing_to_serve(model)
    if skipped:
        return {**entry, "skipped": skipped, "passed": True}
    try:
        model = float32_copy(model)
        entry["savedmodel"] = write_savedmodel(model, os.path.join(export_dir, "savedmodel", name),
                                               version, batch_sizes, atol, limits, allow_nonfinite)
    except Exception as e:
        entry.update(error=_error(e), traceback=traceback.format_exc(), passed=False)
        return entry
    entry["onnx"] = {}
    graphs = {graph: (fn, sig, atol) for graph, (fn, sig) in
              (model.onnx_graphs() if onnx and hasattr(model, "onnx_graphs") else {}).items()}
    if onnx_layout == "nchw_uint8":
        for graph, (fn, sig) in image_generators({g: v[:2] for g, v in graphs.items()}).items():
            graphs[f"{graph}_nchw_uint8"] = (nchw_uint8(fn), sig, max(atol, 1.0))
    for graph, (fn, sig, tolerance) in graphs.items():
        path = os.path.join(export_dir, "onnx", f"{name}_{graph}.onnx")
        try:
            entry["onnx"][graph] = export_onnx(fn, sig, path, OPSET, batch_sizes, tolerance, name=f"{name}_{graph}")
        except Exception as e:
            entry["onnx"][graph] = {"path": None, "error": _error(e), "passed": False}
    entry["passed"] = entry["savedmodel"]["passed"] and all(g["passed"] for g in entry["onnx"].values())
    return entry


def _relative(entry: dict, run_dir: str) -> None:
    for section in [entry.get("savedmodel")] + list(entry.get("onnx", {}).values()):
        if section and section.get("path"):
            section["path"] = os.path.relpath(section["path"], run_dir)


def report_path(run_dir: str) -> str:
    """``<run_dir>/export/export_report.json``."""
    return os.path.join(os.fspath(run_dir), "export", "export_report.json")


def export_run(run_dir: str, models: dict | None = None, version: int = 1, onnx: bool = True,
               batch_sizes=(1, 7, 64), atol: float = 1e-4, limits: dict | None = None,
               allow_nonfinite: bool = False, onnx_layout: str = "nhwc_float") -> dict:
    """Export the models of ``run_dir`` (default: every ``models/*.keras``) and write the report.

    SavedModels go to ``export/savedmodel/<name>/<version>/``, ONNX files to
    ``export/onnx/<name>_<graph>.onnx``. ``limits`` ({max_batch, max_n, max_steps: int or None}) overrides
    every endpoint's request limits; ``allow_nonfinite`` lets NaN/inf inputs through (debugging);
    ``onnx_layout="nchw_uint8"`` adds uint8 NCHW copies of the z → images ONNX graphs. Models with
    nothing to serve are skipped with a note. The report is merged into ``export/export_report.json`` (see
    ``merge_reports``: a failed re-export never replaces a passing entry; its own report is written next to
    it, ``report["report_file"]``). Returns this export's report; check ``report["passed"]``: failures are
    recorded, not raised.
    """
    run_dir = os.fspath(run_dir)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer (TF Serving's version folder), got {version!r}")
    batch_sizes = tuple(int(b) for b in batch_sizes)
    if not batch_sizes or min(batch_sizes) < 1:
        raise ValueError(f"batch sizes must be positive integers, got {batch_sizes}")
    if not atol >= 0:
        raise ValueError(f"atol must be >= 0, got {atol}")
    if onnx_layout not in LAYOUTS:
        raise ValueError(f"onnx layout must be one of {', '.join(LAYOUTS)}, got {onnx_layout!r}")
    overrides = DEFAULT_LIMITS.updated(limits)
    for key in ("max_batch", "max_n"):
        if (limits or {}).get(key) is not None and max(batch_sizes) > getattr(overrides, key):
            raise ValueError(f"--batch-sizes {max(batch_sizes)} exceeds {FLAGS[key]} {getattr(overrides, key)}: "
                             "the parity checks send requests of each batch size; lower them or raise the limit")
    if models is None:
        models = load_models(run_dir)
    if not models:
        raise ValueError("no models to export")
    for name in models:
        if not name or name.startswith(".") or "/" in name or os.sep in name:
            raise ValueError(f"model name {name!r} cannot be a folder name; use letters, digits, '_' or '-'")
    export_dir = os.path.join(run_dir, "export")
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    report = {
        "run_dir": os.path.abspath(run_dir),
        "created": created,
        "settings": {"version": version, "onnx": bool(onnx), "opset": OPSET,
                     "batch_sizes": list(batch_sizes), "atol": float(atol),
                     "limit_overrides": {k: v for k, v in (limits or {}).items() if v is not None},
                     "allow_nonfinite": bool(allow_nonfinite), "onnx_layout": onnx_layout},
        "tools": tool_versions(),
        "models": {},
    }
    for name, model in models.items():
        entry = export_model(model, name, export_dir, version, onnx, batch_sizes, atol, limits, allow_nonfinite,
                             onnx_layout)
        _relative(entry, run_dir)
        report["models"][name] = {**entry, "created": created}
    report["passed"] = all(entry["passed"] for entry in report["models"].values())
    path = report_path(run_dir)
    report["report_file"] = path
    if not report["passed"] and os.path.exists(path):
        stamp = created.replace(":", "").replace("+0000", "Z")
        report["report_file"] = os.path.join(export_dir, f"export_report.failed-{stamp}.json")
        write_report(report["report_file"], report)
    write_report(path, merge_reports(read_report(path), report))
    return report


def read_report(path: str) -> dict | None:
    """The report at ``path``, or None if there is none or it cannot be read as a report."""
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("models"), dict) else None


def merge_reports(previous: dict | None, new: dict) -> dict:
    """``new`` with the ``previous`` report's models it did not export kept, and every previous passing
    entry kept where the new export of that model failed (the published version is still the previous
    one): that entry then points to the failed attempt (``failed_reexport``: created, error, report file)."""
    if previous is None:
        return new
    models = dict(previous["models"])
    for name, entry in new["models"].items():
        old = models.get(name)
        if not entry["passed"] and old is not None and old.get("passed"):
            models[name] = {**old, "failed_reexport": {"created": new["created"], "error": entry.get("error"),
                                                        "report_file": os.path.basename(new.get("report_file") or "")}}
        else:
            models[name] = entry
    return {**new, "models": models, "passed": all(e.get("passed") for e in models.values())}
