"""Train-step throughput of tfgm models, with and without XLA, against the machine's fp32 matmul peak.

    python benchmarks/train_step.py discreg --batch-size 100
    python benchmarks/train_step.py vae --batch-size 100 --steps 20 --repeats 5

One line per configuration, ending in `images_per_s=<median over repeats>`. FLOPs per step come from
TensorFlow's graph profiler on the traced train step (convolutions, matmuls and their gradients), so
`gflops_per_s` is achieved arithmetic, and `pct_of_peak` compares it with a large fp32 matmul timed in
the same process. Numbers, not pass/fail: they depend on the machine and what else runs on it.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
from tfgm.models import DiscRegVAE, VAE  # noqa: E402
from tfgm.nets import discgen  # noqa: E402


def build(name, jit):
    """The paper's CelebA 64×64 architecture (METHODS.md §1)."""
    encoder, decoder = discgen.celeba_encoder(), discgen.celeba_decoder()
    if name == "vae":
        model = VAE(encoder, decoder)
    else:
        model = DiscRegVAE(encoder, decoder, discgen.feature_extractor(discgen.celeba_classifier()))
    model.compile(keras.optimizers.Adam(0.002), jit_compile=jit)
    return model


def matmul_peak_gflops(n=2048, repeats=5):
    """Best of `repeats` timings of an n×n fp32 matmul chain, in GFLOP/s."""
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])

    @tf.function
    def chain(x):
        for _ in range(10):
            x = tf.linalg.matmul(x, b) * 1e-3
        return x

    chain(a).numpy()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        chain(a).numpy()
        best = max(best, 10 * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def step_flops(model, batch):
    """Floating-point operations of one train step, from the graph profiler (None if unavailable)."""
    fn = tf.function(model.train_step)
    graph = fn.get_concrete_function(batch).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    try:
        return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops
    except Exception:  # the profiler is best-effort; throughput stands without it
        return None


def measure(model, batch, steps, repeats):
    """Median images/s over `repeats` runs of `steps` train steps (after a warm-up run)."""
    data = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        rates.append(steps * int(batch["image"].shape[0]) / (time.perf_counter() - start))
    return statistics.median(rates), rates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["discreg", "vae"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10, help="train steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
    parser.add_argument("--xla", choices=["both", "on", "off"], default="both")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    batch = {"image": tf.constant(rng.random((args.batch_size, 64, 64, 3), dtype=np.float32))}
    peak = matmul_peak_gflops()
    print(f"machine: {os.cpu_count()} CPUs, fp32 matmul peak {peak:.1f} GFLOP/s (2048² chain, best of 5)")
    modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.xla]
    for jit in modes:
        keras.utils.set_random_seed(0)
        model = build(args.model, jit)
        flops = step_flops(model, batch)
        median, rates = measure(model, batch, args.steps, args.repeats)
        gflops = flops * median / args.batch_size / 1e9 if flops else float("nan")
        print(f"model={args.model} batch={args.batch_size} xla={'on' if jit else 'off'} "
              f"step_gflop={flops / 1e9 if flops else float('nan'):.1f} gflops_per_s={gflops:.1f} "
              f"pct_of_peak={100 * gflops / peak:.1f} runs={'/'.join(f'{r:.1f}' for r in rates)} "
              f"images_per_s={median:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
