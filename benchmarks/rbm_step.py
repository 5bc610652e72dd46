"""Speed of tfgm's RBM against plain peers: CD-1 updates per second (784 × 500, batch 100) and AIS chains·betas per
second, tfgm (TensorFlow, XLA off and on) beside the same math in NumPy and, when torch is importable, PyTorch on
the CPU, timed in one run: each implementation in a fresh child process, one after the other (so no library's
idle thread pool competes with another's).

    python benchmarks/rbm_step.py                      # CD-1 and AIS, every available implementation
    python benchmarks/rbm_step.py --repeats 7 --ais-betas 2000

One CD-1 update of every implementation is the same computation: binary v⁺ ~ Bernoulli(x) (a fresh draw), h⁺ =
σ(v⁺W + c), h ~ Bernoulli(h⁺), v⁻ ~ Bernoulli(σ(hWᵀ + b)), h⁻ = σ(v⁻W + c), then SGD with momentum on
ΔW = (v⁺ᵀh⁺ − v⁻ᵀh⁻)/B, Δb, Δc. One AIS step (per chain and β) is the tfgm path of Salakhutdinov & Murray: the
log-weight increment and one block-Gibbs step at β. Each line reports the median of --repeats timed runs (each
--calls calls after a warm-up) and the ratio to NumPy. torch is never a dependency of tfgm: the peer is skipped
when it is not installed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def timed(fn, calls, repeats):
    """(median seconds per call, all runs) over `repeats` runs of `calls` calls, after two warm-up calls. fn()
    must block until its work is done."""
    fn(), fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter() - start) / calls)
    return statistics.median(runs), runs


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_cd1(visible, hidden, batch, seed=0):
    """A NumPy float32 CD-1 step with SGD momentum (lr 0.05, momentum 0.5) on a fixed batch; returns the step."""
    rng = np.random.default_rng(seed)
    w = (0.01 * rng.standard_normal((visible, hidden))).astype(np.float32)
    b, c = np.zeros(visible, np.float32), np.zeros(hidden, np.float32)
    vel = [np.zeros_like(p) for p in (w, b, c)]
    x = rng.random((batch, visible), dtype=np.float32)

    def step():
        v0 = (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
        h0 = _sigmoid(v0 @ w + c)
        h = (rng.random(h0.shape, dtype=np.float32) < h0).astype(np.float32)
        v1 = (rng.random(x.shape, dtype=np.float32) < _sigmoid(h @ w.T + b)).astype(np.float32)
        h1 = _sigmoid(v1 @ w + c)
        grads = ((v1.T @ h1 - v0.T @ h0) / batch, (v1 - v0).mean(0), (h1 - h0).mean(0))  # of mean F(v⁺) − F(v⁻)
        for p, m, g in zip((w, b, c), vel, grads):
            m *= 0.5
            m -= 0.05 * g
            p += m

    return step


def torch_cd1(visible, hidden, batch, seed=0):
    """The same CD-1 step in PyTorch (CPU, float32, no autograd)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    w = 0.01 * torch.randn(visible, hidden, generator=gen)
    b, c = torch.zeros(visible), torch.zeros(hidden)
    vel = [torch.zeros_like(p) for p in (w, b, c)]
    x = torch.rand(batch, visible, generator=gen)

    @torch.no_grad()
    def step():
        v0 = torch.bernoulli(x, generator=gen)
        h0 = torch.sigmoid(v0 @ w + c)
        h = torch.bernoulli(h0, generator=gen)
        v1 = torch.bernoulli(torch.sigmoid(h @ w.T + b), generator=gen)
        h1 = torch.sigmoid(v1 @ w + c)
        grads = ((v1.T @ h1 - v0.T @ h0) / batch, (v1 - v0).mean(0), (h1 - h0).mean(0))
        for p, m, g in zip((w, b, c), vel, grads):
            m.mul_(0.5).sub_(0.05 * g)
            p.add_(m)

    return step


def tfgm_cd1(visible, hidden, batch, jit):
    """tfgm.models.RBM.train_step (CD-1) in a tf.function on a fixed batch."""
    import tensorflow as tf

    from benchmarks import _models

    model = _models.rbm_model(visible, hidden, batch=batch)
    x = tf.constant(np.random.default_rng(0).random((batch, visible), dtype=np.float32))
    fn = tf.function(lambda: model.train_step({"image": x}), jit_compile=jit)
    return lambda: fn()["free_energy_gap"].numpy()


def _ais_inputs(visible, hidden, chains, seed=0):
    rng = np.random.default_rng(seed)
    w = (0.05 * rng.standard_normal((visible, hidden))).astype(np.float32)
    b, c = (0.1 * rng.standard_normal(visible)).astype(np.float32), np.zeros(hidden, np.float32)
    base = (0.1 * rng.standard_normal(visible)).astype(np.float32)
    return w, b, c, base, (rng.random((chains, visible)) < 0.5).astype(np.float32)


def numpy_ais(visible, hidden, chains, betas):
    """NumPy AIS over `betas` evenly spaced temperatures for `chains` chains (the tfgm path)."""
    w, b, c, base, v0 = _ais_inputs(visible, hidden, chains)
    rng, grid = np.random.default_rng(1), np.linspace(0, 1, betas).astype(np.float32)

    def log_p(v, pre, beta):
        return v @ ((1 - beta) * base + beta * b) + np.logaddexp(0, beta * pre).sum(1)

    def run():
        v, log_w = v0, np.zeros(chains, np.float32)
        for k in range(1, betas):
            pre = v @ w + c
            log_w += log_p(v, pre, grid[k]) - log_p(v, pre, grid[k - 1])
            h = (rng.random(pre.shape, dtype=np.float32) < _sigmoid(grid[k] * pre)).astype(np.float32)
            logits = (1 - grid[k]) * base + grid[k] * (b + h @ w.T)
            v = (rng.random(v.shape, dtype=np.float32) < _sigmoid(logits)).astype(np.float32)
        return log_w

    return run


def torch_ais(visible, hidden, chains, betas):
    """The same AIS in PyTorch (CPU, float32)."""
    import torch

    w, b, c, base, v0 = (torch.from_numpy(a) for a in _ais_inputs(visible, hidden, chains))
    gen, grid = torch.Generator().manual_seed(1), torch.linspace(0, 1, betas)

    def log_p(v, pre, beta):
        return v @ ((1 - beta) * base + beta * b) + torch.nn.functional.softplus(beta * pre).sum(1)

    @torch.no_grad()
    def run():
        v, log_w = v0, torch.zeros(chains)
        for k in range(1, betas):
            pre = v @ w + c
            log_w += log_p(v, pre, grid[k]) - log_p(v, pre, grid[k - 1])
            h = torch.bernoulli(torch.sigmoid(grid[k] * pre), generator=gen)
            v = torch.bernoulli(torch.sigmoid((1 - grid[k]) * base + grid[k] * (b + h @ w.T)), generator=gen)
        return log_w

    return run


def tfgm_ais(visible, hidden, chains, betas):
    """tfgm.metrics.ais_log_partition on an RBM with the same weights."""
    from benchmarks import _models
    from tfgm.metrics import ais_log_partition

    w, b, c, base, _ = _ais_inputs(visible, hidden, chains)
    model = _models.rbm_model(visible, hidden)
    for variable, value in zip((model.kernel, model.visible_bias, model.hidden_bias), (w, b, c)):
        variable.assign(value)
    data = np.tile(1 / (1 + np.exp(-base)), (4, 1))  # marginals whose logits are `base`
    return lambda: ais_log_partition(model, data, chains, betas, seed=0)["log_z"]


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
IMPLS = {"rbm_cd1": {"numpy": numpy_cd1, "tfgm_xla_off": lambda *a: tfgm_cd1(*a, False),
                    "tfgm_xla_on": lambda *a: tfgm_cd1(*a, True), "torch": torch_cd1},
         "rbm_ais": {"numpy": numpy_ais, "tfgm": tfgm_ais, "torch": torch_ais}}


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def measure_one(args):
    """Time one implementation in this process; print one JSON line {"runs": [per second, ...]}."""
    bench, name = args.only.split(":")
    if name.startswith("tfgm"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    elif name == "torch":
        import torch

        torch.set_num_threads(args.threads)
    if bench == "rbm_cd1":
        fn, per_call, calls = IMPLS[bench][name](args.visible, args.hidden, args.batch_size), 1, args.calls
    else:
        fn, calls = IMPLS[bench][name](args.visible, args.hidden, args.ais_chains, args.ais_betas), 1
        per_call = args.ais_chains * (args.ais_betas - 1)  # chain·β transitions of one AIS run
    _, runs = timed(fn, calls, args.repeats)
    print(json.dumps({"runs": [per_call / t for t in runs]}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=100, help="CD-1 batch")
    parser.add_argument("--calls", type=int, default=50, help="CD-1 updates per timed run")
    parser.add_argument("--ais-chains", type=int, default=100)
    parser.add_argument("--ais-betas", type=int, default=1000, help="inverse temperatures of one timed AIS run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of every library (BLAS, "
                        "OpenMP, TensorFlow's pools; default: all CPUs)")
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)  # bench:impl, run in a child process
    args = parser.parse_args(argv)
    if args.only:
        return measure_one(args)
    has_torch = torch_available()
    versions = subprocess.run([sys.executable, "-c", "import numpy, tensorflow as tf; print('TensorFlow', "
                               "tf.__version__, 'NumPy', numpy.__version__)"], capture_output=True, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {versions}; "
          + (f"PyTorch {_torch_version()}" if has_torch else "PyTorch not installed (peer skipped)")
          + f"; {args.threads} thread(s) each; each implementation timed in its own process, one after the other",
          flush=True)
    for bench, impls in IMPLS.items():
        rates = {}
        for name in impls:
            if name == "torch" and not has_torch:
                continue
            child = subprocess.run([sys.executable, os.path.abspath(__file__), *(argv or sys.argv[1:]),
                                    "--only", f"{bench}:{name}"], capture_output=True, text=True, check=True,
                                   env={**os.environ, **{k: str(args.threads) for k in THREAD_VARIABLES}})
            runs = json.loads(child.stdout.strip().splitlines()[-1])["runs"]
            rates[name] = statistics.median(runs)
            shape = (f"batch={args.batch_size}" if bench == "rbm_cd1"
                     else f"chains={args.ais_chains} betas={args.ais_betas}")
            unit = "updates_per_s" if bench == "rbm_cd1" else "chain_betas_per_s"
            print(f"bench={bench} impl={name} visible={args.visible} hidden={args.hidden} {shape} "
                  f"runs={'/'.join(f'{r:.1f}' for r in runs)} {unit}={rates[name]:.1f} "
                  f"vs_numpy={rates[name] / rates['numpy']:.2f} load={os.getloadavg()[0]:.2f}", flush=True)


def _torch_version():
    import torch

    return torch.__version__


if __name__ == "__main__":
    main()
