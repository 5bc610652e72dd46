"""Speed of tfgm's AutoAttack and APGD-CE against a plain PyTorch APGD-CE loop on the same MNIST CNN with the same
weights (issue 16). `python benchmarks/train_step.py autoattack_mnist [flags]` runs this module's main.

    python benchmarks/autoattack_peer.py                        # 1,000 points, eps 0.3, 3 timed runs each
    python benchmarks/autoattack_peer.py --points 100 --eps 0.1 --repeats 1

The model is `tfgm.nets.fortified_nets.mnist_cnn`, trained --train-epochs epochs (default 1; 0 = untrained, and the
table says so) on builtin_digits' train split with Adam 1e-3, batch 128; the points are the first --points of
builtin_digits' test split. The weights, points and Keras' logits on the first 64 points are cached in a temporary
file that the timed child processes read. Three implementations, each timed in its own child process one after the
other (TensorFlow's and PyTorch's thread pools never compete), with --threads threads each:

  tfgm_autoattack  tfgm.attacks.autoattack, version "standard" (APGD-CE, APGD-T, FAB-T, Square at their full
                   settings), batch --batch-size;
  tfgm_apgd_ce     tfgm.attacks.apgd with cross-entropy, --steps iterations, 1 restart, per batch of --batch-size;
  torch_apgd_ce    `torch_apgd_ce` below: Croce & Hein's L∞ APGD-CE loop in eager PyTorch (momentum 0.75, step 2ε
                   halved at the checkpoints where the loss rose in at most 75 % of the window's steps or where the
                   step was not halved at the last checkpoint and the best loss has not improved, each halving
                   restarting from the best point; uniform random start in the ε-ball) on `torch_mnist_cnn`, a
                   torch.nn port of the Keras CNN (channels-last memory, as PyTorch advises on the CPU) that must
                   give Keras' logits within 1e-4 (checked before timing; the run fails otherwise). Skipped, with a message, when torch is not installed: tfgm never
                   depends on it.

Both APGD-CE implementations attack only the points the model classifies correctly, per batch, like the authors'
code. Each child warms up on two tiny batches, then times --repeats runs over all points; a line reports the
points per second of each run and their median (wall clock), the median CPU seconds per point (user + system of
the child: steadier than wall time on a shared machine), clean and robust accuracy (%), and the ratio to
torch_apgd_ce — the like-for-like ratio is tfgm_apgd_ce's (AutoAttack does more work per point that survives
APGD-CE; at ε 0.3 on an adversarially untrained CNN almost none does).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

LAYERS = ("conv1", "conv2", "conv3", "logits")
CHECK_POINTS = 64  # Keras logits cached for the port check
TOLERANCE = 1e-4
IMPLS = ("tfgm_autoattack", "tfgm_apgd_ce", "torch_apgd_ce")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# ---- the PyTorch peer ---------------------------------------------------------------------------------------------

def keras_weights(net):
    """{"conv1_kernel": [kh, kw, in, out], "conv1_bias", ..., "logits_kernel": [in, out], "logits_bias"} of a
    `fortified_nets.mnist_cnn` as NumPy arrays."""
    out = {}
    for name in LAYERS:
        layer = net.get_layer(name)
        out[f"{name}_kernel"], out[f"{name}_bias"] = (np.asarray(v) for v in (layer.kernel, layer.bias))
    return out


def torch_mnist_cnn(weights, input_shape=(28, 28, 1)):
    """The Keras `mnist_cnn` with the given Keras weights (`keras_weights`) as benchmarks/peers' `MnistCnn` on NCHW
    images, in the channels-last memory format (NHWC in memory, like TensorFlow's and like the points: PyTorch's
    advice for convolutions on the CPU)."""
    import torch

    from benchmarks.peers.torch_nets import MnistCnn

    module = MnistCnn(weights["logits_kernel"].shape[1], input_shape).load_keras_weights(weights)
    return module.eval().to(memory_format=torch.channels_last)


def check_port(module, images, keras_logits, tolerance=TOLERANCE):
    """Raise RuntimeError unless the torch module's logits on NHWC `images` equal `keras_logits` within
    `tolerance` (absolute). Returns the largest difference."""
    import torch

    with torch.no_grad():
        logits = module(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))).numpy()
    diff = float(np.abs(logits - keras_logits).max())
    if not diff <= tolerance:
        raise RuntimeError(f"the PyTorch port of the CNN is not the Keras model: logits differ by up to {diff:.3g} "
                           f"(tolerance {tolerance:g}) on {len(images)} points; the timing would compare "
                           "different models")
    return diff


def torch_apgd_ce(model, x, y, eps, steps=100, rho=0.75, generator=None, start=None):
    """One L∞ APGD-CE run (Croce & Hein 2020; the authors' attack_single_run) in eager PyTorch, like
    `tfgm.attacks.apgd.apgd` with loss "ce" and 1 restart: momentum 0.75 (1 at the first step), step 2ε halved
    at the checkpoints p_j·steps where the loss rose in at most a fraction rho of the window's steps, or where the
    step was not halved at the last checkpoint and the best loss has not improved since; each halving restarts
    from the best point and its gradient. The first window compares its first step with the start's loss (the
    paper; tfgm too).

    x: float images in [0, 1] (any layout the model takes), y: int64 labels, eps: float; start: the first iterate
    (default: x + ε·u/‖u‖∞, u uniform in [−1, 1], clipped to [0, 1], drawn from `generator`).
    Returns (highest-loss iterate, still robust [B] bool, its loss [B], last misclassified iterate or the start).
    """
    import torch
    import torch.nn.functional as F

    view = (-1,) + (1,) * (x.dim() - 1)
    if start is None:
        u = 2.0 * torch.rand(x.shape, generator=generator) - 1.0
        start = torch.clamp(x + eps * u / u.flatten(1).abs().amax(1).view(view), 0.0, 1.0)

    def loss_grad(z):
        z = z.clone().requires_grad_(True)
        logits = model(z)
        loss = F.cross_entropy(logits, y, reduction="none")
        grad, = torch.autograd.grad(loss.sum(), [z])
        return loss.detach(), grad.detach(), logits.detach()

    def project(z):
        return torch.clamp(torch.minimum(torch.maximum(z, x - eps), x + eps), 0.0, 1.0)

    x_adv = start.clone()
    loss, grad, logits = loss_grad(x_adv)
    robust = logits.argmax(1) == y
    x_best, grad_best, loss_best, x_best_adv = x_adv.clone(), grad.clone(), loss.clone(), x_adv.clone()
    loss_steps = torch.zeros(steps + 1, len(x))
    loss_steps[0] = loss
    step = torch.full((len(x),), 2.0 * eps)
    k, k_min, k_shrink = max(int(0.22 * steps), 1), max(int(0.06 * steps), 1), max(int(0.03 * steps), 1)
    counter, loss_best_last_check, reduced_last_check = 0, loss_best.clone(), torch.ones(len(x), dtype=torch.bool)
    x_old = x_adv.clone()
    for i in range(steps):
        with torch.no_grad():
            momentum_term, x_old = x_adv - x_old, x_adv.clone()
            a = 0.75 if i > 0 else 1.0
            z = project(x_adv + step.view(view) * torch.sign(grad))
            x_adv = project(x_adv + (z - x_adv) * a + momentum_term * (1.0 - a))
        loss, grad, logits = loss_grad(x_adv)
        with torch.no_grad():
            correct = logits.argmax(1) == y
            robust &= correct
            x_best_adv[~correct] = x_adv[~correct]
            loss_steps[i + 1] = loss
            better = loss > loss_best
            x_best[better], grad_best[better], loss_best[better] = x_adv[better], grad[better], loss[better]
            counter += 1
            if counter == k:
                increases = (loss_steps[i + 2 - k:i + 2] > loss_steps[i + 1 - k:i + 1]).float().sum(0)
                halve = (increases <= k * rho) | (~reduced_last_check & (loss_best_last_check >= loss_best))
                reduced_last_check, loss_best_last_check = halve, loss_best.clone()
                step[halve] /= 2.0
                x_adv[halve], grad[halve] = x_best[halve], grad_best[halve]
                k, counter = max(k - k_shrink, k_min), 0
    return x_best, robust, loss_best, x_best_adv


def torch_robust(model, x, y, eps, steps=100, batch_size=250, seed=0):
    """APGD-CE (`torch_apgd_ce`) over NCHW float tensor x and int64 y in batches, attacking only the points the
    model classifies correctly. Returns (clean correct, robust) as NumPy bool arrays."""
    import torch

    generator = torch.Generator().manual_seed(int(seed))
    clean, robust = [], []
    for begin in range(0, len(x), batch_size):
        xs, ys = x[begin:begin + batch_size], y[begin:begin + batch_size]
        with torch.no_grad():
            ok = model(xs).argmax(1) == ys
        still = ok.clone()
        if ok.any():
            _, survived, _, _ = torch_apgd_ce(model, xs[ok], ys[ok], eps, steps, generator=generator)
            still[ok] = survived
        clean.append(ok.numpy())
        robust.append(still.numpy())
    return np.concatenate(clean), np.concatenate(robust)


# ---- tfgm side ----------------------------------------------------------------------------------------------------

def tfgm_apgd_robust(net, x, y, eps, steps=100, batch_size=250, seed=0):
    """tfgm.attacks.apgd (cross-entropy, 1 restart) in batches. Returns (clean correct, robust) NumPy bools."""
    from tfgm.attacks import apgd

    clean, robust = [], []
    for begin in range(0, len(x), batch_size):
        xs, ys = x[begin:begin + batch_size], y[begin:begin + batch_size]
        clean.append(np.argmax(np.asarray(net(xs)), 1) == ys)
        adv = apgd(net, xs, ys, eps=eps, steps=steps, loss="ce", seed=[int(seed), begin])
        robust.append(np.argmax(np.asarray(net(adv)), 1) == ys)
    return np.concatenate(clean), np.concatenate(robust)


def prepare(path, points, train_epochs, seed=0):
    """Build (and train) the CNN, write weights, test points and Keras' logits on the first points to `path`."""
    import keras
    import tensorflow as tf

    from tfgm.data import load
    from tfgm.nets import fortified_nets

    keras.utils.set_random_seed(seed)
    net = fortified_nets.mnist_cnn()
    if train_epochs > 0:
        net.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        train = load("builtin_digits", "train").map(lambda e: (e["image"], e["label"])).shuffle(10000, seed=seed)
        net.fit(train.batch(128), epochs=train_epochs, verbose=0)
    test = next(iter(load("builtin_digits", "test", num_examples=points).batch(points)))
    x, y = test["image"].numpy(), test["label"].numpy().astype(np.int64)
    check = x[:CHECK_POINTS]
    np.savez(path, x=x, y=y, check_logits=np.asarray(net(tf.constant(check))), train_epochs=train_epochs,
             **keras_weights(net))


def _load(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def measure_one(args):
    """Time one implementation in this process; print one JSON line."""
    data = _load(args.weights)
    x, y = data["x"], data["y"]
    if args.only.startswith("tfgm"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        from tfgm.attacks import autoattack
        from tfgm.nets import fortified_nets

        net = fortified_nets.mnist_cnn()
        for name in LAYERS:
            net.get_layer(name).set_weights([data[f"{name}_kernel"], data[f"{name}_bias"]])
        diff = float(np.abs(np.asarray(net(tf.constant(x[:CHECK_POINTS]))) - data["check_logits"]).max())
        assert diff <= TOLERANCE, f"reloaded Keras weights give other logits ({diff:.3g})"
        xt, yt = tf.constant(x), y.astype(np.int32)
        if args.only == "tfgm_autoattack":
            def run(n):
                _, report = autoattack(net, xt[:n], yt[:n], eps=args.eps, batch_size=args.batch_size, seed=args.seed)
                return report["clean_accuracy"], report["robust_accuracy"]
        else:
            def run(n):
                clean, robust = tfgm_apgd_robust(net, xt[:n], yt[:n], args.eps, args.steps, args.batch_size,
                                                 args.seed)
                return clean.mean(), robust.mean()
    else:
        import torch

        torch.set_num_threads(args.threads)
        module = torch_mnist_cnn(data)
        diff = check_port(module, x[:CHECK_POINTS], data["check_logits"])
        xt, yt = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y)  # NCHW shape, NHWC memory

        def run(n):
            clean, robust = torch_robust(module, xt[:n], yt[:n], args.eps, args.steps, args.batch_size, args.seed)
            return clean.mean(), robust.mean()

    # Warm-up on two tiny batches of different sizes: tfgm's attacks trace once per shape and, from the second
    # shape on, once for any batch size (reduce_retracing), so the timed runs' varying batches trace nothing new.
    for n in (min(6, len(x)), min(9, len(x))):
        run(n)
    runs, cpu, result = [], [], None
    for _ in range(args.repeats):
        wall, clock = time.perf_counter(), time.process_time()
        result = run(len(x))
        runs.append(len(x) / (time.perf_counter() - wall))
        cpu.append((time.process_time() - clock) / len(x))
    print(json.dumps({"runs": runs, "cpu_s_per_point": statistics.median(cpu), "clean": float(result[0]),
                      "robust": float(result[1]), "logit_diff": diff}))


# ---- driver -------------------------------------------------------------------------------------------------------

def torch_available():
    """Whether torch is importable, without importing it here (the children import what they time)."""
    from importlib import util

    return util.find_spec("torch") is not None


def _child(argv, extra, threads):
    """Run this file with `argv + extra` in a fresh process; its last stdout line, or exit loudly on failure."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, *extra], capture_output=True, text=True,
                          env={**os.environ, **{k: str(threads) for k in THREAD_VARIABLES}})
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"autoattack_mnist: child {' '.join(extra)} failed (exit {proc.returncode}); see above")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def parser():
    p = argparse.ArgumentParser(prog="train_step.py autoattack_mnist", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=1000, help="test points attacked (builtin_digits test split)")
    p.add_argument("--eps", type=float, default=0.3, help="L∞ radius")
    p.add_argument("--steps", type=int, default=100, help="APGD-CE iterations of both APGD-CE lines (AutoAttack "
                   "always runs its standard 100)")
    p.add_argument("--batch-size", type=int, default=250, help="points per attack batch (AutoAttack's default)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per implementation; the median is reported")
    p.add_argument("--threads", type=int, default=2, help="threads of each library")
    p.add_argument("--train-epochs", type=int, default=1, help="epochs on builtin_digits before attacking (0: the "
                   "untrained CNN)")
    p.add_argument("--impls", nargs="+", default=list(IMPLS), choices=IMPLS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default="", help=argparse.SUPPRESS)  # an implementation, in a child process
    p.add_argument("--weights", default="", help=argparse.SUPPRESS)  # the cached weights file, for children
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.only == "prepare":
        return prepare(args.weights, args.points, args.train_epochs, args.seed)
    if args.only:
        return measure_one(args)
    has_torch = torch_available()
    impls = [i for i in args.impls if has_torch or not i.startswith("torch")]
    versions = _versions(has_torch)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {versions}; {args.threads} "
          "thread(s) each; each implementation timed in its own process, one after the other", flush=True)
    if not has_torch:
        print("PyTorch not installed: the torch_apgd_ce peer is skipped (tfgm never depends on torch)", flush=True)
    with tempfile.TemporaryDirectory(prefix="autoattack_peer_") as scratch:
        weights = os.path.join(scratch, "mnist_cnn.npz")
        start = time.perf_counter()
        _child(argv, ["--only", "prepare", "--weights", weights], args.threads)
        model = ("untrained (random init)" if args.train_epochs == 0 else
                 f"trained {args.train_epochs} epoch(s) on builtin_digits")
        print(f"model: fortified_nets.mnist_cnn, {model} ({time.perf_counter() - start:.0f} s); points: first "
              f"{args.points} of builtin_digits test; eps={args.eps:g}", flush=True)
        results = {}
        for name in impls:
            results[name] = r = json.loads(_child(argv, ["--only", name, "--weights", weights], args.threads))
            r["rate"] = statistics.median(r["runs"])
            steps = "standard" if name == "tfgm_autoattack" else f"steps={args.steps}"
            ratio = (f" vs_torch_apgd_ce={r['rate'] / results['torch_apgd_ce']['rate']:.2f}"
                     if "torch_apgd_ce" in results and name != "torch_apgd_ce" else "")
            check = f" port_logit_diff={r['logit_diff']:.1e}" if name.startswith("torch") else ""
            print(f"bench=autoattack_mnist impl={name} {steps} points={args.points} eps={args.eps:g} "
                  f"batch={args.batch_size} clean_acc={100 * r['clean']:.1f} robust_acc={100 * r['robust']:.1f} "
                  f"runs={'/'.join(f'{v:.2f}' for v in r['runs'])} points_per_s={r['rate']:.2f} "
                  f"cpu_s_per_point={r['cpu_s_per_point']:.3f}{check}{ratio} load={os.getloadavg()[0]:.2f}",
                  flush=True)
        if "torch_apgd_ce" in results:
            peer = results["torch_apgd_ce"]
            for name in impls:
                if name != "torch_apgd_ce":
                    r = results[name]
                    print(f"ratio {name} / torch_apgd_ce: points per second {r['rate'] / peer['rate']:.2f}, points "
                          f"per CPU second {peer['cpu_s_per_point'] / r['cpu_s_per_point']:.2f}; robust accuracy "
                          f"{100 * r['robust']:.1f} vs {100 * peer['robust']:.1f} %", flush=True)
    return results


def _versions(has_torch):
    """Library versions, read without importing TensorFlow or torch into this process."""
    from importlib import metadata

    names = [("TensorFlow", "tensorflow"), ("TensorFlow", "tensorflow-cpu"), ("Keras", "keras")]
    names += [("PyTorch", "torch")] if has_torch else []
    out = []
    for label, dist in names:
        try:
            out.append(f"{label} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


if __name__ == "__main__":
    main()
