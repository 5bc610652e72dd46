"""AutoAttack (Croce & Hein, 2020; tfgm.attacks) on any image classifier, written as a RobustBench-style JSON.

    python -m recipes.robustness_eval runs/fortified_mnist/NAME           # the run's classifier, its data and ε
    python -m recipes.robustness_eval model.keras --data builtin_digits --eps 0.3
    python -m recipes.robustness_eval export/savedmodel/clf/1 --data cifar10 --eps 0.031 --points 1000

TARGET is one of:
  a run directory of a tfgm fortified recipe: its --model (default fortified) as exported
      (export/savedmodel/<model>/<latest version>), else models/<model>.keras; --data, --data-path and --eps
      default to the run's (config.json; metrics.json's training ε), and its test images are converted to the
      model's input size as the recipe did;
  a SavedModel folder (saved_model.pb inside, or TF Serving's base folder of numbered versions: the latest):
      the first signature (serving_default first) with one float input [B, H, W, C] and a float output [B, K]
      (named *logit* if there are several, else *prob*; else the only one);
  a .keras file (keras.saving.load_model, safe mode) whose input is [B, H, W, C] and output [B, K].
The model gets float32 images in [0, 1] (tfgm.data's range; wrap a model that expects [0, 255] or normalized
inputs first) and must return logits, or probabilities (non-negative rows summing to 1 on the first batch):
those are attacked through log(p), which has the same softmax; saturated probabilities can mask gradients, so
export logits when you can. Anything else stops with one message before any attack (exit status 2).

The attacks run in AutoAttack's order, each on the points every earlier one left correctly classified, with
the version's fixed settings; progress is printed after each. Accuracies in the JSON are percent of the first
--points test examples.
"""

import argparse
import os
import sys
import time

DEFAULT_POINTS = 1000  # the AutoAttack / RobustBench protocol's
PROBABILITY_FLOOR = 1e-30  # log(p) of probabilities below it is log(floor)


class TargetError(ValueError):
    """A target, flag or dataset that cannot be evaluated (one message, exit status 2)."""


def parser():
    p = argparse.ArgumentParser(prog="python -m recipes.robustness_eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="run directory, SavedModel folder or .keras file")
    p.add_argument("--model", default="fortified", help="model of a run directory (default: fortified)")
    p.add_argument("--data", default="", help="tfgm.data dataset with labels (default: the run's)")
    p.add_argument("--data-path", default="", help="file or folder for --data npz|folder (default: the run's)")
    p.add_argument("--data-dir", default="", help="TFDS data directory (default: the run's, else TFDS' own)")
    p.add_argument("--eps", type=float, default=None, help="L∞ radius in [0, 1] pixel units (default: the run's)")
    p.add_argument("--points", type=int, default=DEFAULT_POINTS,
                   help=f"first test points to attack (default {DEFAULT_POINTS}, or all when fewer)")
    p.add_argument("--version", default="standard", choices=("standard", "plus", "rand"),
                   help="AutoAttack version (default standard: APGD-CE, APGD-T, FAB-T, Square)")
    p.add_argument("--batch-size", type=int, default=250, help="points per attack batch (default 250)")
    p.add_argument("--seed", type=int, default=0, help="seed of the attacks' random starts (default 0)")
    p.add_argument("--out", default="", help="JSON path (default: beside TARGET, else ./robustness_eval.json)")
    p.add_argument("--verbose", action="store_true", help="show TensorFlow's log output")
    return p


def _read_json(path):
    import json

    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from None


def _latest_version(folder):
    """A SavedModel folder: `folder` itself, or its highest numbered version (TF Serving's layout); or None."""
    if os.path.isfile(os.path.join(folder, "saved_model.pb")):
        return folder
    versions = [d for d in os.listdir(folder) if d.isdigit()
                and os.path.isfile(os.path.join(folder, d, "saved_model.pb"))]
    return os.path.join(folder, max(versions, key=int)) if versions else None


def resolve_target(args):
    """What to load and with which data/ε, from the flags alone (no TensorFlow): a dict with "kind" (run_dir |
    savedmodel | keras), "path" (what is loaded), "data", "data_path", "data_dir", "eps", "resize", "out",
    "model_name". Raises TargetError."""
    target = os.path.abspath(args.target)
    if not os.path.exists(target):
        raise TargetError(f"TARGET {args.target} does not exist: give a run directory, a SavedModel folder or a "
                          ".keras file")
    info = {"target": target, "model_name": None, "resize": False, "data": args.data, "data_path": args.data_path,
            "data_dir": args.data_dir, "eps": args.eps}
    if os.path.isfile(target):
        if not target.endswith(".keras"):
            raise TargetError(f"TARGET {args.target} is a file but not a .keras model: give a run directory, a "
                              "SavedModel folder or a .keras file")
        info.update(kind="keras", path=target, out=target[:-len(".keras")] + ".robustness_eval.json")
    elif _latest_version(target):
        info.update(kind="savedmodel", path=_latest_version(target),
                    out=target.rstrip(os.sep) + ".robustness_eval.json")
    elif os.path.isfile(os.path.join(target, "config.json")):
        _resolve_run(args, target, info)
    else:
        raise TargetError(f"TARGET {args.target} is a folder with neither saved_model.pb (a SavedModel), numbered "
                          "SavedModel versions, nor config.json (a tfgm run directory)")
    if not info["data"]:
        raise TargetError("--data is required (a tfgm.data dataset with labels, e.g. builtin_digits, mnist, npz "
                          "with --data-path) unless TARGET is a run directory")
    if info["eps"] is None:
        raise TargetError("--eps is required (the L∞ radius in [0, 1] pixel units, e.g. 0.3 for MNIST, 8/255 for "
                          "CIFAR-10) unless TARGET is a finished run directory")
    _check_numbers(args, info["eps"])
    return info


def _resolve_run(args, run, info):
    config, metrics = _read_json(os.path.join(run, "config.json")), _read_json(os.path.join(run, "metrics.json"))
    name = args.model
    exported = os.path.join(run, "export", "savedmodel", name)
    keras_file = os.path.join(run, "models", f"{name}.keras")
    path = _latest_version(exported) if os.path.isdir(exported) else None
    if path is None and not os.path.isfile(keras_file):
        models = sorted(f[:-6] for f in os.listdir(os.path.join(run, "models"))
                        if f.endswith(".keras")) if os.path.isdir(os.path.join(run, "models")) else []
        raise TargetError(f"run directory {args.target} holds no model {name!r} (export/savedmodel/{name} or "
                          f"models/{name}.keras); its models: {', '.join(models) or 'none'} (choose with --model)")
    eps = info["eps"]
    if eps is None:
        eps = (metrics.get("train_attack") or {}).get("eps") or (config.get("eps") or None)
    info.update(kind="run_dir", path=path or keras_file, model_name=name, resize=True, eps=eps,
                data=info["data"] or config.get("data", ""),
                data_path=info["data_path"] or (config.get("data_path", "") if not info["data"] else ""),
                data_dir=info["data_dir"] or config.get("data_dir", ""),
                out=os.path.join(run, f"robustness_eval_{name}.json"))


def _check_numbers(args, eps):
    if not 0.0 <= eps <= 1.0:
        raise TargetError(f"--eps must be in [0, 1] (pixel units of images in [0, 1]), got {eps}")
    for flag, value in (("--points", args.points), ("--batch-size", args.batch_size)):
        if value < 1:
            raise TargetError(f"{flag} must be >= 1, got {value}")


def output_path(args, info):
    """--out, else the TARGET-adjacent path when its folder is writable, else ./robustness_eval.json."""
    if args.out:
        return os.path.abspath(args.out)
    if os.access(os.path.dirname(info["out"]), os.W_OK):
        return info["out"]
    return os.path.abspath("robustness_eval.json")


def _image_shape(shape):
    """[B, H, W, C] (a TensorShape or list; B, H, W may be None) → (H, W, C) or None if not an image batch."""
    dims = None if shape is None else list(shape)
    if dims is None or len(dims) != 4 or dims[3] is None:
        return None
    return tuple(None if d is None else int(d) for d in dims[1:])


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _float_spec(spec):
    import tensorflow as tf

    return isinstance(spec, tf.TensorSpec) and spec.dtype.is_floating


def _pick_output(outputs):
    """The output key of a signature's {name: TensorSpec}: float [B, K]; *logit* first, then *prob*, then the only
    one; None if there is none or the choice is ambiguous."""
    candidates = [k for k, s in outputs.items() if _float_spec(s) and s.shape.rank == 2]
    for word in ("logit", "prob"):
        named = [k for k in candidates if word in k.lower()]
        if named:
            return named[0]
    return candidates[0] if len(candidates) == 1 else None


def _describe_signature(fn):
    """"(name shape, ...) -> (name shape, ...)" of a signature."""
    def text(specs):
        if not isinstance(specs, dict):
            return "?"
        return ", ".join(f"{k} {getattr(v, 'shape', '?')}" for k, v in specs.items())

    return f"({text(fn.structured_input_signature[1])}) -> ({text(fn.structured_outputs)})"


def load_savedmodel(path):
    """(images [B, H, W, C] → [B, K] callable, description) from a SavedModel's first image signature."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(path)
    except Exception as exc:  # noqa: BLE001 - any load failure is a bad target
        raise TargetError(f"cannot load the SavedModel {path}: {_first_line(exc)}") from None
    names = sorted(loaded.signatures, key=lambda n: (n != "serving_default", n))
    for name in names:
        fn = loaded.signatures[name]
        inputs, outputs = fn.structured_input_signature[1], fn.structured_outputs
        if len(inputs) != 1 or not isinstance(outputs, dict):
            continue
        (key, spec), = inputs.items()
        out = _pick_output(outputs)
        if not _float_spec(spec) or _image_shape(spec.shape) is None or out is None:
            continue

        def call(x, fn=fn, key=key, out=out, dtype=spec.dtype):
            return fn(**{key: tf.cast(x, dtype)})[out]

        call.owner = loaded  # the signature's variables live as long as the callable
        return call, {"format": "SavedModel", "signature": name, "input": key, "output": out,
                      "input_shape": list(_image_shape(spec.shape))}
    found = "; ".join(f"{n}{_describe_signature(loaded.signatures[n])}" for n in names) or "none"
    raise TargetError(f"the SavedModel {path} has no image classifier signature (one float input [B, H, W, C], a "
                      f"float output [B, K] of logits or probabilities); its signatures: {found}")


def load_keras(path):
    """(images [B, H, W, C] → [B, K] callable, description) of a .keras model."""
    import keras

    import tfgm.models  # noqa: F401 - registers tfgm's classes for safe-mode loading

    try:
        model = keras.saving.load_model(path)
    except Exception as exc:  # noqa: BLE001 - any load failure is a bad target
        raise TargetError(f"cannot load the Keras model {path}: {_first_line(exc)}") from None
    try:
        shape = _image_shape(model.inputs[0].shape) if len(model.inputs) == 1 else None
    except (AttributeError, ValueError, TypeError):
        endpoints = getattr(model, "serving_endpoints", None)
        shape = _image_shape(next(iter(endpoints().values()))[1][0].shape) if endpoints else None
    if shape is None:
        raise TargetError(f"the Keras model {path} does not take one image input [B, H, W, C]")
    return (lambda x: model(x, training=False)), {"format": "keras", "class": type(model).__name__,
                                                  "input_shape": list(shape)}


def load_data(info, shape, points):
    """(x float32 [n, H, W, C] in [0, 1], y int32 [n]): the first `points` test examples; a run directory's are
    converted to the model's (H, W, C) like the recipe did, others must already have the model's shape."""
    import numpy as np

    from tfgm.data import load

    height, width, channels = shape
    convert = info["resize"] and None not in shape
    ds = load(info["data"], "test", data_dir=info["data_dir"] or None, path=info["data_path"] or None,
              image_size=(height, width) if convert else None, channels=channels if convert else None,
              num_examples=points)
    if "label" not in ds.element_spec:
        raise TargetError(f"--data {info['data']} has no class labels: robust accuracy needs them (an npz with y)")
    xs, ys = [], []
    for batch in ds.batch(1000):
        xs.append(batch["image"].numpy())
        ys.append(batch["label"].numpy())
    if not xs:
        raise TargetError(f"--data {info['data']}: the test split yielded no examples")
    x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32).reshape(-1)
    given = x.shape[1:]
    if len(given) != 3 or any(m is not None and m != g for m, g in zip(shape, given)):
        raise TargetError(f"wrong input shape: the model takes images [B, {', '.join(map(str, shape))}] and --data "
                          f"{info['data']} gives [B, {', '.join(map(str, given))}]; give data of the model's shape")
    return x, y


def as_logits(model, x, batch_size):
    """`model` unchanged when it returns logits, else log(p) (softmax(log p) = p): (callable, "logits" |
    "probabilities"). Raises TargetError for outputs other than [B, K] with K ≥ 2."""
    import numpy as np
    import tensorflow as tf

    try:
        out = np.asarray(model(tf.constant(x[:batch_size])), np.float64)
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as exc:
        raise TargetError(f"the model fails on images {list(x.shape[1:])}: {_first_line(exc)}") from None
    if out.ndim != 2 or out.shape[1] < 2:
        raise TargetError(f"the model must return [B, K] logits or probabilities (K >= 2); it returns {out.shape}")
    if out.min() >= -1e-6 and np.allclose(out.sum(-1), 1.0, atol=1e-4):
        return (lambda z: tf.math.log(tf.maximum(tf.cast(model(z), tf.float32), PROBABILITY_FLOOR))), "probabilities"
    return model, "logits"


def run_autoattack(model, x, y, eps, version, batch_size, seed):
    """tfgm.attacks.autoattack (one call, printing a line after the clean pass and after each attack) → a dict:
    clean/robust counts, robust points after each attack, points broken per attack (and "clean": misclassified
    before any attack), seconds per stage, hyperparameters, max perturbation, warnings."""
    from tfgm.attacks import autoattack

    seconds = {}

    def progress(name, index, total, robust, n, took):
        seconds[name] = took
        step = "clean" if index == 0 else f"[{index}/{total}] {name}"
        print(f"{step:16s} robust {robust}/{n} ({100 * robust / n:.2f}%)  {took:.1f} s", flush=True)

    _, report = autoattack(model, x, y, eps=eps, version=version, seed=seed, batch_size=batch_size,
                           progress=progress)
    n = report["num_points"]
    seconds["attacks_total"] = report["seconds"]["total"]
    return {"clean": int(round(report["clean_accuracy"] * n)),
            "after": {name: int(round(acc * n)) for name, acc in report["robust_accuracy_after"].items()},
            "broken": {name: sum(b == name for b in report["broken_by"]) for name in ["clean", *report["attacks"]]},
            "seconds": seconds, "hyperparameters": report["hyperparameters"],
            "max_perturbation": report["max_perturbation"], "warnings": report["warnings"]}


def evaluate(args, info, out):
    """Load, check, attack, write the JSON; returns 0. Raises TargetError / DataError before any attack."""
    import datetime

    import keras
    import tensorflow as tf

    import tfgm
    from tfgm.training import write_json_atomic

    started = time.perf_counter()
    model, description = (load_keras if info["kind"] == "keras" or info["path"].endswith(".keras")
                          else load_savedmodel)(info["path"])
    x, y = load_data(info, tuple(description["input_shape"]), args.points)
    model, description["output_kind"] = as_logits(model, x, args.batch_size)
    loaded = time.perf_counter() - started
    print(f"AutoAttack ({args.version}, L∞ ε={info['eps']:g}) on the first {len(y)} test points of {info['data']}: "
          f"{info['path']}")
    r = run_autoattack(model, x, y, float(info["eps"]), args.version, args.batch_size, args.seed)
    n = len(y)

    def percent(count):
        return round(100.0 * count / n, 2)

    report = {
        "format": "RobustBench-style robustness evaluation (tfgm recipes.robustness_eval)",
        "model": {"target": info["target"], "kind": info["kind"], "loaded": info["path"],
                  "run_model": info["model_name"], **description},
        "dataset": info["data"], "data": {"name": info["data"], "split": "test", "path": info["data_path"] or None,
                                          "first_points": n, "image_shape": list(x.shape[1:]),
                                          "converted_to_model_shape": bool(info["resize"])},
        "threat_model": "Linf", "norm": "Linf", "eps": float(info["eps"]), "n_ex": n, "version": args.version,
        "units": "percent",
        "clean_acc": percent(r["clean"]), "autoattack_acc": percent(list(r["after"].values())[-1]),
        "robust_acc_after": {name: percent(c) for name, c in r["after"].items()},
        "broken_by": r["broken"], "attacks": list(r["after"]), "hyperparameters": r["hyperparameters"],
        "seed": args.seed, "batch_size": args.batch_size, "max_perturbation": r["max_perturbation"],
        "warnings": r["warnings"],
        "seconds": {"load": loaded, **r["seconds"], "total": time.perf_counter() - started},
        "tfgm_version": tfgm.__version__, "tensorflow_version": tf.__version__, "keras_version": keras.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json_atomic(out, report)
    print(f"\nclean {report['clean_acc']:.2f}%  AutoAttack {report['autoattack_acc']:.2f}%  (ε={info['eps']:g}, "
          f"{n} points, {args.version})\nwrote {out}")
    return 0


def main(argv=None):
    """Run from a command line (default sys.argv[1:]); returns the exit status (0 done, 2 a user error)."""
    args = parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        info = resolve_target(args)
    except TargetError as exc:
        return _user_error(exc)
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(args.verbose)
    from tfgm.data import DataError

    try:
        return evaluate(args, info, output_path(args, info))
    except TargetError as exc:
        return _user_error(exc)
    except DataError as exc:
        return _user_error(exc, "data: ")


def _user_error(exc, prefix=""):
    print(f"\nrobustness_eval: {prefix}{exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
