"""tfgm's train steps and PGD beside peer implementations of the same computation, on this machine, in one run.

    python benchmarks/compare.py                         # every row, median of 3 runs × 3 calls each
    python benchmarks/compare.py --only pgd40_mnist      # one row
    python benchmarks/compare.py --quick                 # smoke run: 1 run × 1 call each
    python benchmarks/compare.py --only dcgan --quick --batch-size 8   # seconds: what the test runs

Rows (float32, XLA off; tfgm's side is `benchmarks/train_step.py`'s benchmark of the same name, built and timed by
its own functions):

  discreg      DiscRegVAE train step, CelebA 64×64 paper nets (tfgm.nets.discgen), batch 100
  dcgan        DCGAN train step (one D + one G update), 32×32, batch 64
  wgan_gp      WGAN-GP train step (5 critic updates with the gradient penalty + one G update), 32×32, batch 64
  pgd40_mnist  PGD-40 (ε 0.1, step 0.01, random start) on the fortified recipes' MNIST CNN, batch 128

Peers (benchmarks/peers/): `torch` — a plain eager PyTorch step on a port of the same nets (benchmarks/peers/
torch_steps.py says what each does and what differs); `cleverhans` (PGD only) — CleverHans 4's TF2
projected_gradient_descent on the same CNN built from Keras' own layers (`--cleverhans-net tfgm`: on tfgm's net,
whose convolutions are tfgm.layers.FastConv2D). A peer whose package is missing is skipped with the reason printed:
torch and cleverhans are never dependencies of tfgm.

Every implementation runs in its own child process, one after the other (no two libraries' thread pools compete),
with --threads threads (TensorFlow's intra- and inter-op pools, torch.set_num_threads, OMP/MKL/OpenBLAS), two
warm-up calls, then --repeats timed runs of --calls calls; the table gives the median run in images per second (for
PGD: attacked images per second). Before timing, the torch child checks that each of its nets has the same number
of trainable and of non-trainable scalars (BN statistics, frozen layers) as the tfgm net, and the run stops with an
error naming the net if not. `% peak` is achieved GFLOP/s over the fp32 matmul peak (train_step.matmul_peak_gflops
in a child with the same threads), the best of a measurement before and after the rows. FLOPs per call: tfgm's from
its traced graph (train_step.graph_flops: 2 per multiply-add of convolutions and matmuls, gradients included, also
traced gradients that Grappler later prunes), the torch peer's from torch.utils.flop_counter on one call (executed
ops only); both are printed, so a peer doing different work shows. `tfgm/peer` > 1: tfgm is faster. Numbers, not
pass/fail: they depend on the machine and on what else runs on it (the load average is printed).
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # `python benchmarks/compare.py` from a checkout
    sys.path.insert(0, ROOT)

# name: (description, batch, peers)
ROWS = {
    "discreg": ("DiscRegVAE train step (CelebA 64×64, paper nets)", 100, ("torch",)),
    "dcgan": ("DCGAN train step (32×32)", 64, ("torch",)),
    "wgan_gp": ("WGAN-GP train step (5 critic + 1 G, 32×32)", 64, ("torch",)),
    "pgd40_mnist": ("PGD-40 attack on the MNIST CNN", 128, ("torch", "cleverhans")),
}
PEER_PACKAGES = {"torch": "torch", "cleverhans": "cleverhans"}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class ParamMismatch(RuntimeError):
    pass


# ---- parameter counts ---------------------------------------------------------------------------------------------

def _keras_counts(weights_trainable, weights_state):
    import numpy as np

    return {"trainable": int(sum(np.prod(w.shape) for w in weights_trainable)),
            "state": int(sum(np.prod(w.shape) for w in weights_state))}


def _keras_net_counts(net):
    return _keras_counts(net.trainable_weights, net.non_trainable_weights)


def tfgm_param_counts(row):
    """{net name: {"trainable", "state"}} of tfgm's nets of `row`, built by the builders train_step.py's benchmark
    of that name uses (benchmarks._models, tfgm.nets.dcgan with the recipe preset's critic settings,
    fortified_nets.mnist_cnn)."""
    from benchmarks import _models

    if row == "discreg":
        model = _models.discreg_model()
        scales = [model.log_sigma_x, *model.log_sigma_features.values()]
        return {"encoder": _keras_net_counts(model.encoder), "decoder": _keras_net_counts(model.decoder),
                "feature_extractor": _keras_net_counts(model.feature_extractor),
                "learned_scales": _keras_counts(scales, [])}
    if row in ("dcgan", "wgan_gp"):
        from recipes.gan_presets import get_variant
        from tfgm.nets import dcgan

        variant = get_variant(row)
        return {"generator": _keras_net_counts(dcgan.generator(100, (32, 32, 3))),
                "discriminator": _keras_net_counts(dcgan.discriminator(
                    (32, 32, 3), batch_norm=variant.critic_batch_norm, spectral_norm=variant.spectral_norm))}
    if row == "pgd40_mnist":
        from tfgm.nets import fortified_nets

        return {"mnist_cnn": _keras_net_counts(fortified_nets.mnist_cnn())}
    raise KeyError(row)


def check_param_counts(row, tfgm_counts, peer_counts, peer="torch"):
    """Raise ParamMismatch naming every net whose counts differ (or that one side lacks); returns the report lines."""
    lines, bad = [], []
    for net in sorted(set(tfgm_counts) | set(peer_counts)):
        a, b = tfgm_counts.get(net), peer_counts.get(net)
        same = a == b
        lines.append(f"  params {row}/{net}: tfgm {_fmt_counts(a)} | {peer} {_fmt_counts(b)} "
                     f"{'same' if same else '<-- MISMATCH'}")
        if not same:
            bad.append(net)
    if bad:
        raise ParamMismatch(f"{peer} peer of {row}: parameter counts differ from tfgm's for {', '.join(bad)} — the "
                            "peer is not the same architecture, so its timing would compare different models:\n"
                            + "\n".join(lines))
    return lines


def _fmt_counts(c):
    return "missing" if c is None else f"{c['trainable']:,} trainable + {c['state']:,} state"


# ---- children: one implementation each ----------------------------------------------------------------------------

def _set_tf_threads(threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.get_logger().setLevel("ERROR")


def child_peak(args):
    _set_tf_threads(args.threads)
    from benchmarks.train_step import matmul_peak_gflops

    from tfgm._onednn import describe

    return {"peak": matmul_peak_gflops(repeats=3 if args.quick else 10), "onednn": describe()}


def child_tfgm(args):
    _set_tf_threads(args.threads)
    import keras
    import tensorflow as tf

    from benchmarks import train_step

    params = tfgm_param_counts(args.row)
    keras.utils.set_random_seed(0)
    body, items, flops = train_step.BENCHMARKS[args.row](args.batch_size)
    fn = tf.function(body, jit_compile=False)
    flops = flops or train_step.graph_flops(fn)
    _, runs = train_step.measure(fn, args.calls, args.repeats)
    return {"runs": runs, "items": items, "flops": flops, "params": params}


def child_torch(args):
    import torch

    from benchmarks import rbm_step
    from benchmarks.peers import torch_steps

    torch.set_num_threads(args.threads)
    step, items, nets = torch_steps.STEPS[args.row](args.batch_size)
    params = torch_steps.param_counts(nets)
    check_param_counts(args.row, json.loads(args.expect_params), params)  # before any timing
    flops = torch_steps.count_flops(step)
    _, runs = rbm_step.timed(step, args.calls, args.repeats)
    return {"runs": runs, "items": items, "flops": flops, "params": params}


def child_cleverhans(args):
    from benchmarks.peers import cleverhans_pgd

    reason = cleverhans_pgd.available()
    if reason:
        return {"skip": reason}
    _set_tf_threads(args.threads)
    from benchmarks import rbm_step

    step, items, nets, flops = cleverhans_pgd.pgd40(args.batch_size, net=args.cleverhans_net)
    params = {name: _keras_net_counts(net) for name, net in nets.items()}
    check_param_counts(args.row, json.loads(args.expect_params), params, "cleverhans")
    _, runs = rbm_step.timed(step, args.calls, args.repeats)
    return {"runs": runs, "items": items, "flops": flops, "params": params}


CHILDREN = {"peak": child_peak, "tfgm": child_tfgm, "torch": child_torch, "cleverhans": child_cleverhans}


def run_child(impl, args, row="", batch_size=0, expect_params=None):
    """Run one implementation in a fresh interpreter; its JSON result, or {"error": text}."""
    command = [sys.executable, os.path.abspath(__file__), "--child", impl, "--row", row or "-",
               "--batch-size", str(batch_size), "--calls", str(args.calls), "--repeats", str(args.repeats),
               "--threads", str(args.threads), "--cleverhans-net", args.cleverhans_net]
    if args.quick:
        command.append("--quick")
    if expect_params is not None:
        command += ["--expect-params", json.dumps(expect_params)]
    env = {**os.environ, **{k: str(args.threads) for k in THREAD_VARIABLES}, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # tfgm's default, for the CleverHans child too: the same kernels
    if args.omp_wait_policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    child = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in reversed(child.stdout.strip().splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            if child.returncode == 0 or "mismatch" in result:
                return result
            break
    tail = "\n".join((child.stderr or child.stdout).strip().splitlines()[-15:])
    return {"error": f"{impl} child exited with {child.returncode}:\n{tail}"}


def child_main(args):
    try:
        result = CHILDREN[args.child](args)
    except ParamMismatch as error:
        print(json.dumps({"mismatch": str(error)}), flush=True)
        sys.exit(3)
    print(json.dumps(result), flush=True)


# ---- the parent ---------------------------------------------------------------------------------------------------

def _versions():
    parts = [f"Python {platform.python_version()}"]
    for package in ("tensorflow", "keras", "torch", "cleverhans"):
        try:
            from importlib.metadata import version

            parts.append(f"{package} {version(package)}")
        except Exception:
            parts.append(f"{package} not installed")
    return ", ".join(parts)


def _cpu_name():
    """'AMD EPYC (family 25 model 1; avx2)': the kernel's name, family/model (the generation) and vector units."""
    from tfgm._cpu import cpu_fields

    fields = cpu_fields()
    if not fields:
        return platform.processor() or "unknown CPU"
    flags = set(fields.get("flags", "").split())
    vector = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} model "
            f"{fields.get('model', '?')}; {', '.join(vector) or 'no AVX2'})")


def _rate(result):
    return statistics.median(result["items"] / t for t in result["runs"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(ROWS), action="append",
                        help="run this row only (repeatable; default: every row)")
    parser.add_argument("--calls", type=int, default=0, help="calls per timed run (default 3; 1 with --quick)")
    parser.add_argument("--repeats", type=int, default=0,
                        help="timed runs per implementation; the median is reported (default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="threads of every implementation (default 2)")
    parser.add_argument("--omp-wait-policy", choices=["default", "passive"], default="default",
                        help="passive: OMP_WAIT_POLICY=PASSIVE in every child. PyTorch's OpenMP threads spin between "
                             "parallel regions; on a machine busy with other jobs that costs it several times its "
                             "idle speed (TensorFlow's pools are not OpenMP). Default: the libraries' own setting")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run of 1 call each, a shorter peak")
    parser.add_argument("--cleverhans-net", choices=["keras", "tfgm"], default="keras",
                        help="the CNN CleverHans attacks: keras (default) — built from Keras' own layers, as a "
                             "CleverHans user's model is; tfgm — tfgm's net itself, whose FastConv2D layers take "
                             "faster kernels (then the ratio shows the attack loop alone)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=0,
                        help="one batch size for every row (smoke runs); default: each row's (above)")
    parser.add_argument("--expect-params", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.calls = args.calls or (1 if args.quick else 3)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.child:
        return child_main(args)

    rows = args.only or list(ROWS)
    start = time.perf_counter()
    print(f"machine: {os.cpu_count()} CPUs, {_cpu_name()}; load average {os.getloadavg()[0]:.2f}; {_versions()}",
          flush=True)
    print(f"each implementation in its own process, one after the other, {args.threads} threads each; median of "
          f"{args.repeats} run(s) × {args.calls} call(s) after 2 warm-up calls; float32, XLA off; OpenMP wait policy "
          f"{args.omp_wait_policy}; CleverHans attacks the CNN of {args.cleverhans_net} layers", flush=True)
    if os.getloadavg()[0] > os.cpu_count() and args.omp_wait_policy == "default":
        print(f"note: load average {os.getloadavg()[0]:.1f} > {os.cpu_count()} CPUs: PyTorch's spinning OpenMP threads "
              "lose far more to other jobs than TensorFlow's pools; see --omp-wait-policy passive", flush=True)
    peaks = [run_child("peak", args)]
    if "error" in peaks[0]:
        print(peaks[0]["error"], file=sys.stderr)
        return 1
    print(f"fp32 matmul peak (TensorFlow, 2048² chain): {peaks[0]['peak']:.1f} GFLOP/s; TensorFlow's oneDNN kernels "
          f"{peaks[0]['onednn']}", flush=True)

    results, failed = {}, []
    for row in rows:
        description, batch, peers = ROWS[row]
        batch = args.batch_size or batch
        tfgm = run_child("tfgm", args, row, batch)
        if "error" in tfgm:
            print(f"row={row} impl=tfgm FAILED\n{tfgm['error']}", flush=True)
            failed.append(f"{row}/tfgm")
            continue
        results[row] = {"tfgm": tfgm}
        _print_impl(row, "tfgm", batch, tfgm)
        for peer in peers:
            if importlib.util.find_spec(PEER_PACKAGES[peer]) is None:
                results[row][peer] = {"skip": f"{PEER_PACKAGES[peer]} not installed (pip install "
                                              f"{PEER_PACKAGES[peer]}); tfgm never depends on it"}
            else:
                results[row][peer] = run_child(peer, args, row, batch, tfgm["params"])
            result = results[row][peer]
            if "mismatch" in result:
                print(f"row={row} impl={peer}: PARAMETER COUNT MISMATCH\n{result['mismatch']}", file=sys.stderr,
                      flush=True)
                return 2
            if "skip" in result:
                print(f"row={row} impl={peer} skipped: {result['skip']}", flush=True)
            elif "error" in result:
                print(f"row={row} impl={peer} FAILED\n{result['error']}", flush=True)
                failed.append(f"{row}/{peer}")
            else:
                for line in check_param_counts(row, tfgm["params"], result["params"], peer):
                    print(line, flush=True)
                _print_impl(row, peer, batch, result)

    if not args.quick:
        after = run_child("peak", args)
        if "peak" in after:
            peaks.append(after)
    peak = max(p["peak"] for p in peaks)
    print(f"fp32 matmul peak, best of {len(peaks)} measurement(s): {peak:.1f} GFLOP/s; load average "
          f"{os.getloadavg()[0]:.2f}; {time.perf_counter() - start:.0f} s in all\n", flush=True)
    print(table(results, peak, args.batch_size))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _print_impl(row, impl, batch, result):
    flops = result.get("flops")
    runs = "/".join(f"{result['items'] / t:.1f}" for t in result["runs"])
    print(f"row={row} impl={impl} batch={batch} runs={runs} "
          f"images_per_s={_rate(result):.1f} gflop_per_call={flops / 1e9 if flops else float('nan'):.2f} "
          f"load={os.getloadavg()[0]:.2f}", flush=True)


def _pct(result, peak):
    flops = result.get("flops")
    return f"{100 * flops * _rate(result) / result['items'] / 1e9 / peak:.1f}" if flops else "n/a"


def _gflop(result):
    return f"{result['flops'] / 1e9:.2f}" if result.get("flops") else "n/a"


def table(results, peak, batch_size=0):
    """Markdown table: one line per (row, peer)."""
    lines = ["| step | batch | tfgm images/s | peer | peer images/s | tfgm/peer | GFLOP/call tfgm / peer "
             "| % peak tfgm | % peak peer |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row, by_impl in results.items():
        description, batch, peers = ROWS[row]
        batch = batch_size or batch
        tfgm = by_impl["tfgm"]
        for peer in peers:
            result = by_impl.get(peer, {"skip": "not run"})
            head = f"| {row}: {description} | {batch} | {_rate(tfgm):.1f} | {peer} "
            if "runs" not in result:
                why = result.get("skip") or result.get("error", "").splitlines()[0]
                lines.append(head + f"| — ({why}) | — | {_gflop(tfgm)} / — | {_pct(tfgm, peak)} | — |")
                continue
            lines.append(head + f"| {_rate(result):.1f} | {_rate(tfgm) / _rate(result):.2f} | "
                         f"{_gflop(tfgm)} / {_gflop(result)} | {_pct(tfgm, peak)} | {_pct(result, peak)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
