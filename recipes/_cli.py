"""Command-line plumbing shared by recipes: a flag per config field, the common flags, quiet start-up."""

import argparse
import dataclasses
import os
import sys
import textwrap
import typing


@dataclasses.dataclass
class CommonConfig:
    """Flags every recipe takes (DESIGN.md, Recipes)."""

    data: str = dataclasses.field(default="", metadata={"help": "dataset name (see --help of the recipe)"})
    data_dir: str = dataclasses.field(default="", metadata={"help": "TFDS data directory (default: TFDS' own)"})
    data_path: str = dataclasses.field(default="", metadata={"help": "file or folder for --data npz|folder"})
    out: str = dataclasses.field(default="runs", metadata={"help": "root folder of run directories"})
    name: str = dataclasses.field(default="", metadata={"help": "run name (default: a timestamp)"})
    epochs: int = dataclasses.field(default=0, metadata={"help": "override every training stage's epochs"})
    batch_size: int = dataclasses.field(default=0, metadata={"help": "global batch size (default: the paper's)"})
    strategy: str = dataclasses.field(default="default", metadata={
        "help": "default | mirrored | multiworker (reads TF_CONFIG; see python -m recipes.launch --help) | tpu"})
    precision: str = dataclasses.field(default="float32", metadata={
        "help": "float32 | mixed_float16 (GPUs; with loss scaling) | mixed_bfloat16 (TPUs, CPUs with AVX512_BF16; "
                "1.2-1.4x the float32 speed on Zen 4/5 CPUs, float16 0.15x) | auto (mixed_bfloat16 on a CPU-only "
                "machine with AVX512_BF16 or AMX-BF16, else float32; the run prints its pick and environment.json "
                "records it); exports stay float32"})
    sync_bn: bool = dataclasses.field(default=False, metadata={
        "help": "synchronized batch normalization: every BatchNormalization layer averages its batch mean and "
                "variance over all replicas (the global batch) instead of each replica's share. Default: off, since "
                "with one replica it changes nothing, and with several it costs three small all-reduces per BN "
                "layer in every training step (sum, sum of squares, count; their gradients too), while "
                "per-replica statistics (the TF/Keras default) are fine for per-replica batches of 16 or more. "
                "Turn it on for small per-replica batches or when results must not depend on the replica count"})
    seed: int = dataclasses.field(default=0, metadata={"help": "seed of weights, data order and noise"})
    resume: bool = dataclasses.field(default=False, metadata={"help": "continue the run --name where it stopped"})
    quick: bool = dataclasses.field(default=False, metadata={"help": "built-in data, a few steps: proves the path"})
    deterministic: bool = dataclasses.field(default=False, metadata={"help": "enable TF op determinism"})
    verbose: bool = dataclasses.field(default=False, metadata={"help": "show TensorFlow's log output"})
    export: bool = dataclasses.field(default=True, metadata={"help": "export SavedModel + ONNX at the end"})

    def stage_epochs(self, stage_default):
        """A training stage's epochs: --epochs when given, else the stage's own default."""
        return self.epochs or stage_default


def _flag(name):
    return "--" + name.replace("_", "-")


def build_parser(config_cls, description, epilog=""):
    """An argparse parser with one flag per field of `config_cls` (a dataclass) plus CommonConfig's."""
    quick = getattr(config_cls, "quick_overrides", None)
    if quick is not None and quick():
        settings = " ".join(f"{_flag(k)} {' '.join(map(str, v)) if isinstance(v, tuple) else v}"
                            for k, v in quick().items())
        line = textwrap.fill(f"--quick sets (unless given explicitly): {settings}", 100, break_on_hyphens=False)
        epilog = "\n\n".join(filter(None, [epilog, line]))
    parser = argparse.ArgumentParser(description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    hints = typing.get_type_hints(config_cls)
    groups = {"recipe": parser.add_argument_group("recipe settings (defaults: the paper's)"),
              "common": parser.add_argument_group("common flags")}
    common_names = {f.name for f in dataclasses.fields(CommonConfig)}
    for field in dataclasses.fields(config_cls):
        group = groups["common" if field.name in common_names else "recipe"]
        kind = hints[field.name]
        help_text = field.metadata.get("help", "")
        if kind is bool:
            group.add_argument(_flag(field.name), action=argparse.BooleanOptionalAction, default=field.default,
                               help=help_text)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(_flag(field.name), nargs="+", type=typing.get_args(kind)[0], default=field.default,
                               help=f"{help_text} (default: {' '.join(map(str, field.default))})")
        else:
            group.add_argument(_flag(field.name), type=kind, default=field.default,
                               help=f"{help_text} (default: {field.default!r})")
    return parser


def parse_config(config_cls, description, argv=None, epilog=""):
    """Parse `argv` into a `config_cls` instance, with `quick_overrides()` of the class applied under
    --quick for every field the user did not set explicitly, and --epochs/--batch-size folded in."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(config_cls, description, epilog)
    args = parser.parse_args(argv)
    values = vars(args)
    if values["quick"]:
        given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in argv if a.startswith("--")}
        for key, value in config_cls.quick_overrides().items():
            if key not in given:
                values[key] = value
    return config_cls(**values)


def check_common(cfg):
    """ValueError naming the flag and the fix for a common flag no run can use, or a recipe flag below the least
    value its field declares (`metadata={"min": 1}`), before any work is spent."""
    from tfgm.training.distribution import STRATEGIES
    from tfgm.training.precision import PRECISIONS

    problems = []
    if cfg.epochs < 0:
        problems.append(f"--epochs {cfg.epochs}: must be ≥ 0 (0: each stage's paper default)")
    if cfg.batch_size < 0:
        problems.append(f"--batch-size {cfg.batch_size}: must be ≥ 1 (or 0 for the paper's)")
    if cfg.seed < 0:
        problems.append(f"--seed {cfg.seed}: must be ≥ 0")
    if cfg.precision not in PRECISIONS:
        problems.append(f"--precision {cfg.precision}: choose one of {', '.join(PRECISIONS)}")
    if cfg.strategy not in STRATEGIES:
        problems.append(f"--strategy {cfg.strategy}: choose one of {', '.join(STRATEGIES)}")
    for field in dataclasses.fields(cfg):  # a recipe's field declares its least value with metadata {"min": m}
        least, value = field.metadata.get("min"), getattr(cfg, field.name)
        values = value if isinstance(value, tuple) else (value,)
        if least is not None and any(v < least for v in values):
            problems.append(f"{_flag(field.name)} {' '.join(map(str, values))}: must be ≥ {least}")
    out = os.path.abspath(cfg.out)
    existing = out
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if os.path.exists(out) and not os.path.isdir(out):
        problems.append(f"--out {cfg.out}: is a file; give a folder for the run directories")
    elif not os.access(existing, os.W_OK):
        problems.append(f"--out {cfg.out}: {existing} is not writable; choose a folder you can write to")
    if problems:
        raise ValueError("flags: " + "; ".join(problems))


_RUN_FLAGS = {"data_dir", "data_path", "out", "name", "strategy", "sync_bn", "seed", "resume", "quick",
              "deterministic", "verbose", "export"}


def paper_differences(cfg):
    """[(flag, value, paper default)] for every setting of `cfg` (a recipe config) that differs from the
    paper's defaults, leaving out flags that do not change the experiment (--out, --name, --seed, ...).
    --precision auto is shown with the policy it picked on this machine: "auto (mixed_bfloat16)"."""
    defaults = type(cfg)()
    return [(_flag(f.name), _shown(f.name, getattr(cfg, f.name)), getattr(defaults, f.name))
            for f in dataclasses.fields(cfg)
            if f.name not in _RUN_FLAGS and getattr(cfg, f.name) != getattr(defaults, f.name)]


def _shown(name, value):
    if name == "precision" and value == "auto":
        from tfgm.training.precision import resolve_precision

        return f"auto ({resolve_precision(value)[0]})"
    return value
