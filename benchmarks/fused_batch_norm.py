"""Keras' BatchNormalization vs tfgm's FusedBatchNormalization on the same train step, in one process.

Both variants of each benchmark of train_step.py are built (same seed, same weights) with the nets' batch norm
swapped, then timed alternately round by round, so the machine's drift hits both alike:

    python benchmarks/fused_batch_norm.py dcgan discreg wgan_gp        # --rounds 9 --calls 10
    python benchmarks/fused_batch_norm.py discreg --batch-size 50 --precision mixed_bfloat16

Prints images/s of every round and the ratio of the medians (fused / Keras).
"""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import train_step  # noqa: E402


def _net_modules():
    """The tfgm.nets modules that build with FusedBatchNormalization (each imports the name)."""
    import importlib
    import pkgutil

    import tfgm.nets

    modules = [importlib.import_module(f"tfgm.nets.{info.name}") for info in pkgutil.iter_modules(tfgm.nets.__path__)]
    return [m for m in modules if hasattr(m, "FusedBatchNormalization")]


def build(name, batch_size, layer_class):
    """(compiled step, images per call) of train_step's benchmark `name` with every net's batch norm =
    `layer_class`."""
    import keras
    import tensorflow as tf

    modules = _net_modules()
    saved = [m.FusedBatchNormalization for m in modules]
    try:
        for m in modules:
            m.FusedBatchNormalization = layer_class
        keras.utils.set_random_seed(0)
        body, items, _ = train_step.BENCHMARKS[name](batch_size)
    finally:
        for m, cls in zip(modules, saved):
            m.FusedBatchNormalization = cls
    return tf.function(body), items


def compare(name, batch_size, rounds, calls):
    """{"keras": [images/s per round], "fused": [...]} for benchmark `name`."""
    import keras

    from tfgm.layers import FusedBatchNormalization

    variants = {"keras": build(name, batch_size, keras.layers.BatchNormalization),
                "fused": build(name, batch_size, FusedBatchNormalization)}
    for fn, _ in variants.values():
        for _ in range(2):
            train_step.wait(fn())
    rates = {key: [] for key in variants}
    for _ in range(rounds):
        for key, (fn, items) in variants.items():
            start = time.perf_counter()
            for _ in range(calls):
                out = fn()
            train_step.wait(out)
            rates[key].append(calls * items / (time.perf_counter() - start))
    return rates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmarks", nargs="+", choices=sorted(train_step.BENCHMARKS), metavar="BENCHMARK",
                        help=f"train_step.py benchmarks: {', '.join(sorted(train_step.BENCHMARKS))}")
    parser.add_argument("--batch-size", type=int, default=0, help="0: each benchmark's default")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds (default 9)")
    parser.add_argument("--calls", type=int, default=10, help="train steps per round and variant (default 10)")
    parser.add_argument("--precision", default="float32", help="float32 | mixed_bfloat16 | mixed_float16 | auto")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < 1 or args.batch_size < 0:
        parser.error("--rounds and --calls must be >= 1, --batch-size >= 0")
    from tfgm.training import set_precision

    try:
        set_precision(args.precision)
    except ValueError as error:
        parser.error(str(error))
    for name in args.benchmarks:
        batch = args.batch_size or train_step.DEFAULT_BATCH[name]
        rates = compare(name, batch, args.rounds, args.calls)
        medians = {key: statistics.median(values) for key, values in rates.items()}
        for key, values in rates.items():
            runs = "/".join(f"{v:.1f}" for v in values)
            print(f"bench={name} batch={batch} precision={args.precision} bn={key} runs={runs} "
                  f"images_per_s={medians[key]:.1f}")
        print(f"bench={name} fused_over_keras={medians['fused'] / medians['keras']:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
