"""What `recipes.robustness_eval` evaluates, from its flags alone (no TensorFlow): the TARGET's kind and path,
a run directory's data and ε, the JSON's path; `TargetError` for anything that cannot be evaluated."""

import os


class TargetError(ValueError):
    """A target, flag or dataset that cannot be evaluated (one message, exit status 2)."""


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
