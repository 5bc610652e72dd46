"""Where a benchmark step's time goes: TensorFlow's profiler on `benchmarks/train_step.py`'s steps, op types ranked
by the time their kernels ran, beside the wall time of the calls.

    python benchmarks/profile_step.py dcgan                  # the DCGAN train step, b64, the 20 costliest op types
    python benchmarks/profile_step.py wgan_gp --calls 3 --top 30
    python benchmarks/profile_step.py pgd40_mnist --threads 2

One trace of --calls calls after two warm-up calls (float32, XLA off, like compare.py). Per op type: kernel time
summed over the trace's TensorFlow op events (`tf_op` events of the executor threads) and its share of the summed
kernel time, the number of kernels run per call, and the oneDNN share (`_Mkl*` / `_MklNative*` / `_FusedConv2D`-style
kernels are oneDNN's; the rest, Eigen's or TensorFlow's own). "kernel time / wall" above 1 means kernels ran
in parallel (inter-op), far below 1 that time went outside kernels (Python, tracing, dispatch, the executor).
Numbers, not pass/fail: they depend on the machine and on what else runs on it.
"""

import argparse
import collections
import glob
import os
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # `python benchmarks/profile_step.py` from a checkout
    sys.path.insert(0, ROOT)
import tfgm  # noqa: E402,F401  (before TensorFlow: its oneDNN kernels on every x86 CPU)


def op_times(xplane_path):
    """{op type: [total kernel seconds, kernel count]} from one .xplane.pb: the events "<op name>:<op type>" of the
    host plane's executor threads (lines "tf_Compute/…"; not the executor's own "ExecutorState::Process")."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.defaultdict(lambda: [0.0, 0])
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if "::" in name or ":" not in name:
                    continue
                entry = totals[name.rsplit(":", 1)[1]]
                entry[0] += event.duration_ps * 1e-12
                entry[1] += 1
    return dict(totals)


def is_onednn(op_type):
    return op_type.startswith(("_Mkl", "_FusedConv2D", "_FusedMatMul"))


def profile(name, batch_size, calls, threads):
    """(wall seconds of the traced calls, {op type: [seconds, count]})."""
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    from benchmarks import train_step

    keras.utils.set_random_seed(0)
    body, _, _ = train_step.BENCHMARKS[name](batch_size)
    fn = tf.function(body, jit_compile=False)
    for _ in range(2):
        train_step.wait(fn())
    with tempfile.TemporaryDirectory(prefix="tfgm_profile_") as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(calls):
            out = fn()
        train_step.wait(out)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb"))
        if not paths:
            raise RuntimeError(f"the profiler wrote no .xplane.pb under {logdir}")
        return wall, op_times(paths[0])


def table(name, batch_size, calls, wall, times, top):
    """The printed report (markdown table) for one benchmark."""
    kernel = sum(t for t, _ in times.values())
    onednn = sum(t for op, (t, _) in times.items() if is_onednn(op))
    lines = [f"{name}, batch {batch_size}: {calls} calls in {wall:.3f} s ({wall / calls * 1e3:.1f} ms per call); "
             f"kernel time {kernel:.3f} s ({kernel / wall:.2f} × wall), oneDNN kernels {onednn / kernel:.0%} of it",
             "", "| op type | ms per call | % of kernel time | kernels per call | library |", "|---|---|---|---|---|"]
    ranked = sorted(times.items(), key=lambda item: -item[1][0])
    for op, (seconds, count) in ranked[:top]:
        lines.append(f"| {op} | {seconds / calls * 1e3:.2f} | {seconds / kernel:.1%} | {count / calls:.0f} | "
                     f"{'oneDNN' if is_onednn(op) else 'Eigen/TF'} |")
    rest = ranked[top:]
    if rest:
        seconds = sum(t for _, (t, _) in rest)
        lines.append(f"| {len(rest)} other op types | {seconds / calls * 1e3:.2f} | {seconds / kernel:.1%} | "
                     f"{sum(c for _, (_, c) in rest) / calls:.0f} | |")
    return "\n".join(lines)


def main(argv=None):
    from benchmarks import train_step

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=sorted(train_step.BENCHMARKS), help="a benchmarks/train_step.py step")
    parser.add_argument("--batch-size", type=int, default=0, help="default: the benchmark's paper batch")
    parser.add_argument("--calls", type=int, default=3, help="calls in the trace (default 3)")
    parser.add_argument("--top", type=int, default=20, help="op types listed (default 20)")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra- and inter-op threads (default: TF's)")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.top < 1 or args.batch_size < 0 or args.threads < 0:
        parser.error("--calls and --top must be ≥ 1, --batch-size and --threads ≥ 0")
    batch_size = args.batch_size or train_step.DEFAULT_BATCH[args.bench]
    wall, times = profile(args.bench, batch_size, args.calls, args.threads)
    if not times:
        raise RuntimeError("the trace holds no TensorFlow op events")
    print(table(args.bench, batch_size, args.calls, wall, times, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
