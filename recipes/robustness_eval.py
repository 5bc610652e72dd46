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
import sys
import time

from recipes._robustness_models import as_logits, load_data, load_keras, load_savedmodel
from recipes._robustness_targets import TargetError, output_path, resolve_target

DEFAULT_POINTS = 1000  # the AutoAttack / RobustBench protocol's


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
