"""One of train_step.py's benchmarks built with a layer class of the tfgm.nets builders swapped, and variants of
a step timed alternately round by round, so the machine's drift hits them alike (fused_batch_norm.py,
fast_conv2d.py)."""

import importlib
import pkgutil
import time

from benchmarks import train_step


def net_modules(attr):
    """The tfgm.nets modules that build with the layer class named `attr` (each imports the name)."""
    import tfgm.nets

    modules = [importlib.import_module(f"tfgm.nets.{info.name}") for info in pkgutil.iter_modules(tfgm.nets.__path__)]
    return [m for m in modules if hasattr(m, attr)]


def build(name, batch_size, attr, layer_class):
    """(compiled step, images per call) of train_step's benchmark `name` with every net's `attr` = `layer_class`
    (same seed, same weights as any other variant); the modules get their class back afterwards."""
    import keras
    import tensorflow as tf

    modules = net_modules(attr)
    saved = [getattr(m, attr) for m in modules]
    try:
        for m in modules:
            setattr(m, attr, layer_class)
        keras.utils.set_random_seed(0)
        body, items, _ = train_step.BENCHMARKS[name](batch_size)
    finally:
        for m, cls in zip(modules, saved):
            setattr(m, attr, cls)
    return tf.function(body), items


def alternate(variants, rounds, calls):
    """{key: [images/s per round]} of {key: (compiled step, images per call)}: two warm-up calls each, then
    `rounds` rounds of `calls` calls of every variant in turn."""
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


def main(argv, doc, attr, classes, label, extra=None):
    """The command line of a swap benchmark: BENCHMARK... [--batch-size --rounds --calls --precision]. `classes()`
    gives {key: layer class} of the two variants (baseline first), `label` names the variant in the printed lines;
    `extra(parser)` may add flags and returns a function called with the parsed flags before the benchmarks,
    returning whether it did any work (then naming no benchmark is allowed)."""
    import argparse
    import statistics
    import sys

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmarks", nargs="*" if extra else "+", metavar="BENCHMARK",
                        help=f"train_step.py benchmarks: {', '.join(sorted(train_step.BENCHMARKS))}")
    parser.add_argument("--batch-size", type=int, default=0, help="0: each benchmark's default")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds (default 9)")
    parser.add_argument("--calls", type=int, default=10, help="train steps per round and variant (default 10)")
    parser.add_argument("--precision", default="float32", help="float32 | mixed_bfloat16 | mixed_float16 | auto")
    before = extra(parser) if extra else None
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < 1 or args.batch_size < 0:
        parser.error("--rounds and --calls must be >= 1, --batch-size >= 0")
    unknown = [name for name in args.benchmarks if name not in train_step.BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(sorted(train_step.BENCHMARKS))}")
    from tfgm.training import set_precision

    try:
        set_precision(args.precision)
    except ValueError as error:
        parser.error(str(error))
    if not (before and before(args)) and not args.benchmarks:
        parser.error("nothing to do: name a benchmark (or a flag that runs on its own: see --help)")
    for name in args.benchmarks:
        batch = args.batch_size or train_step.DEFAULT_BATCH[name]
        variants = {key: build(name, batch, attr, cls) for key, cls in classes().items()}
        rates = alternate(variants, args.rounds, args.calls)
        medians = {key: statistics.median(values) for key, values in rates.items()}
        for key, values in rates.items():
            runs = "/".join(f"{v:.1f}" for v in values)
            print(f"bench={name} batch={batch} precision={args.precision} {label}={key} runs={runs} "
                  f"images_per_s={medians[key]:.1f}")
        base, new = medians
        print(f"bench={name} {new}_over_{base}={medians[new] / medians[base]:.3f}")
        sys.stdout.flush()
