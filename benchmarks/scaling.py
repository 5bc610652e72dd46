"""Scaling of a tfgm train step over replicas: images/s of `model.fit` steps at one global batch size, on one
device, on N logical CPU devices (MirroredStrategy) and on N local workers (MultiWorkerMirroredStrategy over
loopback), optionally with synchronized batch norm.

    python benchmarks/scaling.py                                  # discreg VAE step, global batch 100
    python benchmarks/scaling.py --model fortified_fgsm           # fortified MNIST CNN, FGSM step, batch 128
    python benchmarks/scaling.py --configs default mirrored:2 --repeats 7 --json scaling.json

Configurations (--configs; each runs in fresh processes, because TensorFlow fixes its logical devices when
it starts):
  default          one device, no distribution strategy (the reference)
  mirrored:N       MirroredStrategy over N logical CPU devices, tfgm.training.strategy("mirrored")
                   (on CPUs it reduces to one device; see BUILD.md)
  multiworker:N    MultiWorkerMirroredStrategy, N worker processes on 127.0.0.1 started by recipes.launch,
                   tfgm.training.strategy("multiworker"); worker 0 (the chief) reports
  ...+sync         the same with every BatchNormalization synchronized (recipes' --sync-bn)

Every configuration trains the same model on the same global batch (split over the replicas) through
`model.fit`, as the recipes do (input pipeline, all-reduce of gradients, metric reduction included): one
warm-up epoch of --steps steps (tracing, first all-reduces), then --repeats timed epochs of --steps steps.
Reported: the median of the timed epochs in images/s (global batch × steps / seconds), every run, the warm-up
time, and the ratio to the first configuration. The system load average before and after each configuration
is recorded: other work on the machine skews the numbers.

CAVEAT: on one machine every replica shares the same cores. Two logical devices or two workers on a 2-core
CPU cannot be faster than one device using both cores, so there these numbers measure the overhead of
distribution (splitting batches, all-reducing gradients and BN statistics, synchronizing workers), not a
speedup. Speedup needs one replica per GPU/TPU or per host.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # `python benchmarks/scaling.py` from a checkout: tfgm and recipes next to us
    sys.path.insert(0, ROOT)
from benchmarks import _models  # noqa: E402
from tfgm.training.atomic import write_json_atomic  # noqa: E402  (no TensorFlow import)

CAVEAT = ("on one machine all replicas share its cores: these numbers measure the overhead of distribution "
          "(batch splitting, all-reduces, worker synchronization), not a speedup")
DEFAULT_CONFIGS = ("default", "mirrored:1", "mirrored:2", "mirrored:2+sync", "multiworker:1", "multiworker:2",
                   "multiworker:2+sync")
STRATEGY_LABELS = {"default": "none (one device)", "mirrored": "MirroredStrategy",
                   "multiworker": "MultiWorkerMirroredStrategy"}
DEFAULT_BATCH = {"discreg": 100, "vae": 100, "fortified_fgsm": 128, "tiny": 8}


def parse_config(text: str) -> dict:
    """'mirrored:2+sync' → {"name", "kind": "mirrored", "replicas": 2, "sync_bn": True}; raises ValueError."""
    body, sync = (text[:-5], True) if text.endswith("+sync") else (text, False)
    kind, _, count = body.partition(":")
    if kind == "default" and not count:
        return {"name": text, "kind": kind, "replicas": 1, "sync_bn": sync}
    if kind in ("mirrored", "multiworker") and count.isdigit() and int(count) >= 1:
        return {"name": text, "kind": kind, "replicas": int(count), "sync_bn": sync}
    raise ValueError(f"unknown configuration {text!r}: use default, mirrored:N or multiworker:N, "
                     "optionally followed by +sync")


# ---------------------------------------------------------------------------------------------------------------
# Models: each returns (compiled model, one global batch as a dict of numpy arrays). Built inside the scope.

def discreg(batch):
    """DiscRegVAE train step, paper CelebA 64×64 architecture (as benchmarks/train_step.py discreg)."""
    return _models.discreg_model(), {"image": _models.images(batch, (64, 64, 3))}


def vae(batch):
    """Plain VAE train step, same architecture."""
    return _models.vae_model(), {"image": _models.images(batch, (64, 64, 3))}


def fortified_fgsm(batch):
    """Fortified MNIST CNN adversarial-training step, FGSM ε = 0.3."""
    return _models.fortified_mnist_model({"name": "fgsm", "eps": 0.3}), _models.mnist_batch(batch)


def tiny(batch):
    """A toy VAE (discgen nets at 16×16, widths 4/6): for tests of this script, not a benchmark."""
    import keras

    from tfgm.models import VAE
    from tfgm.nets import discgen

    model = VAE(discgen.celeba_encoder((16, 16, 3), 4, widths=(4, 6), hidden=8),
                discgen.celeba_decoder(4, (16, 16, 3), widths=(6, 4), hidden=8))
    model.compile(keras.optimizers.Adam(1e-3))
    return model, {"image": _models.images(batch, (16, 16, 3))}


MODELS = {f.__name__: f for f in (discreg, vae, fortified_fgsm, tiny)}


# ---------------------------------------------------------------------------------------------------------------
# One configuration, in this (fresh) process.

def _measure(args) -> dict:
    config = parse_config(args.run)
    if config["kind"] == "mirrored":  # before TensorFlow initializes its devices
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(config["replicas"])])
    from tfgm.training import auto_shard_data, strategy, synchronize_batch_norm, task_info

    strat = strategy(config["kind"])
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    with strat.scope():
        model, batch = MODELS[args.model](args.batch_size)
    bn_layers = synchronize_batch_norm(model) if config["sync_bn"] else 0
    data = auto_shard_data(tf.data.Dataset.from_tensor_slices(batch).repeat()
                           .batch(args.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # logs are converted to Python numbers first: a sync point
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(data, epochs=1 + args.repeats, steps_per_epoch=args.steps, callbacks=[timer], verbose=0)
    runs = [args.batch_size * args.steps / s for s in timer.seconds[1:]]
    workers = task_info()["num_workers"] if config["kind"] == "multiworker" else 1
    return {
        "config": config["name"], "kind": config["kind"], "strategy": STRATEGY_LABELS[config["kind"]],
        "replicas": int(strat.num_replicas_in_sync), "workers": workers,
        "per_replica_batch": args.batch_size // int(strat.num_replicas_in_sync),
        "sync_bn": config["sync_bn"], "synchronized_bn_layers": bn_layers,
        "images_per_s": statistics.median(runs), "runs_images_per_s": runs,
        "seconds_per_step": statistics.median(timer.seconds[1:]) / args.steps,
        "warmup_seconds": timer.seconds[0],
    }


def _worker_main(args) -> int:
    warnings.filterwarnings("ignore")
    result = _measure(args)
    from tfgm.training import task_info

    if task_info()["is_chief"]:
        write_json_atomic(args.result, result)
    return 0


# ---------------------------------------------------------------------------------------------------------------
# The driver: one fresh process (or N workers) per configuration, then the table.

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _worker_flags(args, config, result):
    return ["--run", config, "--result", result, "--model", args.model, "--batch-size", str(args.batch_size),
            "--steps", str(args.steps), "--repeats", str(args.repeats)]


def run_config(args, config: str, scratch: str) -> dict:
    """Time `config` in fresh processes; return its result dict (raises RuntimeError on failure)."""
    parsed = parse_config(config)
    result = os.path.join(scratch, f"{len(os.listdir(scratch))}.json")
    flags = _worker_flags(args, config, result)
    env_before = dict(os.environ)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        if parsed["kind"] == "multiworker":
            from recipes import launch

            with open(os.devnull, "w") as devnull:  # the launcher's banner; failures still go to stderr
                saved, sys.stdout = sys.stdout, devnull
                try:
                    code = launch.launch(os.path.abspath(__file__), flags, workers=parsed["replicas"],
                                         timeout=args.timeout, grace=5)
                finally:
                    sys.stdout = saved
        else:
            try:
                code = subprocess.run([sys.executable, os.path.abspath(__file__), *flags],
                                      timeout=args.timeout or None).returncode
            except subprocess.TimeoutExpired:
                code = 124
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    if code != 0 or not os.path.exists(result):
        raise RuntimeError(f"configuration {config} failed (exit code {code})")
    with open(result, encoding="utf-8") as f:
        out = json.load(f)
    out.update(load_before=load_before, load_after=os.getloadavg()[0], wall_seconds=time.monotonic() - started)
    return out


def table(results: list[dict]) -> str:
    base = results[0]["images_per_s"]
    lines = ["| configuration | strategy | replicas | per-replica batch | images/s (median) | runs | "
             f"vs {results[0]['config']} | warm-up s | load before/after |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['config']} | {r['strategy']} | {r['replicas']} | {r['per_replica_batch']} | "
                     f"**{r['images_per_s']:.1f}** | {'/'.join(f'{v:.1f}' for v in r['runs_images_per_s'])} | "
                     f"{r['images_per_s'] / base:.2f}× | {r['warmup_seconds']:.1f} | "
                     f"{r['load_before']:.2f}/{r['load_after']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/scaling.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="discreg",
                        help="the train step (default: discreg; tiny is for tests)")
    parser.add_argument("--batch-size", type=int, default=0, help="global batch size (default: 100 for discreg and "
                        "vae, 128 for fortified_fgsm, 8 for tiny); must split over every configuration's replicas")
    parser.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS),
                        help=f"configurations to time, in order (default: {' '.join(DEFAULT_CONFIGS)})")
    parser.add_argument("--steps", type=int, default=5, help="train steps per timed epoch (default: 5)")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs; the median is reported (default: 5)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per configuration (default: 900)")
    parser.add_argument("--json", default="scaling.json", help="where to write the results (default: scaling.json)")
    # Internal: time one configuration in this process (the driver starts these).
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", help=argparse.SUPPRESS)  # appended by recipes.launch to worker commands
    args = parser.parse_args(argv)
    args.batch_size = args.batch_size or DEFAULT_BATCH[args.model]
    if args.run:
        return _worker_main(args)

    try:
        configs = [parse_config(c) for c in args.configs]
    except ValueError as exc:
        parser.error(str(exc))
    for c in configs:
        if args.batch_size % c["replicas"]:
            parser.error(f"global batch {args.batch_size} does not split over the {c['replicas']} replicas of "
                         f"{c['name']}")
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be >= 1")

    print(f"scaling: model {args.model}, global batch {args.batch_size}, {args.steps} steps × {args.repeats} timed "
          f"epochs per configuration; {os.cpu_count()} CPUs ({_cpu_model()}), load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    print(f"caveat: {CAVEAT}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="tfgm-scaling-") as scratch:
        for c in configs:
            try:
                r = run_config(args, c["name"], scratch)
            except RuntimeError as exc:
                print(f"scaling: {exc}", file=sys.stderr, flush=True)
                return 1
            results.append(r)
            print(f"config={r['config']} replicas={r['replicas']} images_per_s={r['images_per_s']:.1f} "
                  f"runs={'/'.join(f'{v:.1f}' for v in r['runs_images_per_s'])} warmup_s={r['warmup_seconds']:.1f} "
                  f"load={r['load_before']:.2f}/{r['load_after']:.2f}", flush=True)

    import importlib.metadata

    report = {
        "benchmark": "scaling", "model": args.model, "global_batch": args.batch_size, "steps_per_run": args.steps,
        "timed_runs": args.repeats, "statistic": "median images/s over timed runs",
        "machine": {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "platform": platform.platform()},
        "versions": {name: importlib.metadata.version(name) for name in ("tensorflow", "keras")},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "caveat": CAVEAT,
        "results": results,
    }
    write_json_atomic(args.json, report)
    print()
    print(table(results))
    print(f"\ncaveat: {CAVEAT}")
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
