"""Throughput of tfgm's train steps, attacks and sampling chains, with and without XLA, against the machine's
fp32 matmul peak.

    python benchmarks/train_step.py discreg --batch-size 100
    python benchmarks/train_step.py vae --batch-size 50 --precision mixed_bfloat16 --vae-width 0.5   # --quick's VAE
    python benchmarks/train_step.py fortified_mnist_pgd --batch-size 128
    python benchmarks/train_step.py all
    python benchmarks/train_step.py autoattack_mnist --points 1000 --eps 0.3   # against a PyTorch APGD-CE loop
    python benchmarks/train_step.py rbm_mnist                                 # RBM CD-1 and AIS vs NumPy / PyTorch

`autoattack_mnist` (not part of `all`) is benchmarks/autoattack_peer.py: tfgm's AutoAttack and APGD-CE against a
plain PyTorch APGD-CE on the same MNIST CNN and weights, each in its own process, points per second and robust
accuracy; its own flags (`train_step.py autoattack_mnist --help`). `rbm_mnist` (not part of `all` either) is
benchmarks/rbm_step.py: CD-1 updates and AIS chain·betas per second (784 × 500, batch 100) beside NumPy and PyTorch.

One line per configuration, ending in `images_per_s=<median over repeats>` (for chains: image·steps per
second); at the end the same lines again with `pct_of_peak`. FLOPs per call come from TensorFlow's graph profiler on the traced function (convolutions, matmuls
and their gradients; it counts a while-loop body once, so attacks and chains multiply the profile of one
iteration by their iteration count), so `gflops_per_s` is achieved arithmetic and `pct_of_peak` compares it with a large
fp32 matmul chain timed in the same process. Numbers, not pass/fail: they depend on the machine and on
what else runs on it.
"""

import argparse
import importlib
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # grappler's benign "remapper failed" lines included
warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # `python benchmarks/train_step.py` from a checkout: tfgm and benchmarks next to us
    sys.path.insert(0, ROOT)
import tfgm  # noqa: E402,F401  (before TensorFlow: its oneDNN kernels on every x86 CPU, as in the recipes)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

from benchmarks import _models  # noqa: E402
from tfgm._onednn import describe as onednn_state  # noqa: E402

tf.get_logger().setLevel("ERROR")


def _images(batch, shape, seed=0):
    return tf.constant(_models.images(batch, shape, seed))


def _train_step(model, batch):
    return lambda: model.train_step(batch)


def discreg(batch_size, vae_width=1.0):
    """DiscRegVAE train step, paper CelebA 64×64 architecture (METHODS.md §1; --vae-width scales the VAE)."""
    model = _models.discreg_model(vae_width)
    return _train_step(model, {"image": _images(batch_size, (64, 64, 3))}), batch_size, None


def vae(batch_size, vae_width=1.0):
    """Plain VAE train step, same architecture."""
    return _train_step(_models.vae_model(vae_width), {"image": _images(batch_size, (64, 64, 3))}), batch_size, None


def _mnist_batch(batch_size):
    return {k: tf.constant(v) for k, v in _models.mnist_batch(batch_size).items()}


def fortified_mnist_fgsm(batch_size):
    """Fortified MNIST CNN adversarial-training step, FGSM ε = 0.3 (METHODS.md §2)."""
    return _train_step(_models.fortified_mnist_model({"name": "fgsm", "eps": 0.3}), _mnist_batch(batch_size)), batch_size, None


def fortified_mnist_pgd(batch_size):
    """Fortified MNIST CNN adversarial-training step, PGD-40 ε = 0.1, step 0.01."""
    from tfgm.attacks import _common

    model, batch = _models.fortified_mnist_model("pgd"), _mnist_batch(batch_size)
    with_attack = graph_flops(tf.function(_train_step(_models.fortified_mnist_model(None), batch)))
    attack_step = graph_flops(tf.function(lambda: _common.loss_and_gradient(model.network, batch["image"],
                                                                            batch["label"])))
    flops = with_attack + 41 * attack_step if with_attack and attack_step else None
    return _train_step(model, batch), batch_size, flops


def pgd40_mnist(batch_size):
    """PGD-40 attack (ε 0.1, step 0.01, random start) on the MNIST CNN."""
    from tfgm.attacks import pgd
    from tfgm.nets import fortified_nets

    from tfgm.attacks import _common

    net = fortified_nets.mnist_cnn()
    batch = _mnist_batch(batch_size)
    step = graph_flops(tf.function(lambda: _common.loss_and_gradient(net, batch["image"], batch["label"])))
    return ((lambda: pgd(net, batch["image"], batch["label"], eps=0.1, step_size=0.01, steps=40, seed=0)),
            batch_size, 41 * step if step else None)


def _gibbsnet(train_steps=3):
    from tfgm.models import GibbsNet
    from tfgm.nets import ali_nets

    model = GibbsNet(*ali_nets.svhn_ali(), train_steps=train_steps)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-4, 0.5), g_optimizer=keras.optimizers.Adam(1e-4, 0.5))
    return model


def gibbsnet_svhn(batch_size):
    """GibbsNet train step, ALI's SVHN architecture, N = 3 (METHODS.md §3)."""
    return _train_step(_gibbsnet(), {"image": _images(batch_size, (32, 32, 3))}), batch_size, None


def gibbsnet_chain(batch_size, steps=20):
    """GibbsNet sampling chain from noise, 20 steps: counts image·steps."""
    model = _gibbsnet()
    z = tf.random.normal([batch_size, model.latent_dim])
    transition = graph_flops(tf.function(lambda: model.encode(model.decode(z))))
    return (lambda: model.sample(batch_size, steps=steps, seed=0)), batch_size * steps, (
        steps * transition if transition else None)


def gibbsnet_celeba_joint(batch_size):
    """Joint image–attribute GibbsNet train step, ALI's CelebA 64×64 convolutions, 40 attributes, N = 3, M = 8
    attribute draws (D sees 1 + M pairs per example)."""
    from tfgm.models import JointGibbsNet
    from tfgm.nets import ali_joint_nets

    model = JointGibbsNet(*ali_joint_nets.celeba_joint(), train_steps=3, attribute_samples=8)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-4, 0.5), g_optimizer=keras.optimizers.Adam(1e-4, 0.5))
    attributes = tf.constant((np.random.default_rng(1).random((batch_size, 40)) > 0.5).astype(np.float32))
    return _train_step(model, {"image": _images(batch_size, (64, 64, 3)), "attributes": attributes}), batch_size, None


def _gan(variant_name, batch_size):
    from recipes.gan_presets import get_variant
    from tfgm.models import GAN
    from tfgm.nets import dcgan

    variant = get_variant(variant_name)
    model = GAN(dcgan.generator(100, (32, 32, 3)),
                dcgan.discriminator((32, 32, 3), batch_norm=variant.critic_batch_norm,
                                    spectral_norm=variant.spectral_norm),
                loss=variant.loss, regularizers=variant.regularizers, n_critic=variant.n_critic)
    d_opt, g_opt = variant.optimizers()
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
    return _train_step(model, {"image": _images(batch_size, (32, 32, 3))}), batch_size, None


def dcgan(batch_size):
    """DCGAN train step (one D and one G update), 32×32, non-saturating loss."""
    return _gan("dcgan", batch_size)


def wgan_gp(batch_size):
    """WGAN-GP train step: 5 critic updates with the gradient penalty, then one generator update, 32×32."""
    return _gan("wgan_gp", batch_size)


BENCHMARKS = {f.__name__: f for f in (discreg, vae, fortified_mnist_fgsm, fortified_mnist_pgd, pgd40_mnist,
                                      gibbsnet_svhn, gibbsnet_chain, gibbsnet_celeba_joint, dcgan, wgan_gp)}
DEFAULT_BATCH = {"discreg": 100, "vae": 100, "fortified_mnist_fgsm": 128, "fortified_mnist_pgd": 128,
                 "pgd40_mnist": 128, "gibbsnet_svhn": 64, "gibbsnet_chain": 64,
                 "gibbsnet_celeba_joint": 64, "dcgan": 64, "wgan_gp": 64}


def matmul_peak_gflops(n=2048, repeats=10):
    """Best of `repeats` timings of a chain of ten n×n fp32 matmuls, in GFLOP/s (the run measures it before
    and after the benchmarks and uses the higher: a single measurement on a shared VM can land low)."""
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])

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


def _conv_flops(op):
    """Conv2D, and the two gradients (Keras' Conv2DTranspose runs as Conv2DBackpropInput): one multiply-add
    per output position of the forward conv, per kernel tap and input channel."""
    if op.type == "Conv2D":
        out, kernel = op.outputs[0].shape, op.inputs[1].shape
    elif op.type == "Conv2DBackpropInput":
        out, kernel = op.inputs[2].shape, op.inputs[1].shape
    else:
        out = op.inputs[2].shape
        kernel = tf.get_static_value(op.inputs[1])
        kernel = kernel if kernel is not None else op.outputs[0].shape
    return 2 * np.prod(out) * kernel[0] * kernel[1] * kernel[2]


def graph_flops(fn):
    """Multiply-add FLOPs (×2) of the convolutions and matmuls of one call of the tf.function `fn`, from its
    traced graph's static shapes. (TensorFlow's own profiler overcounts strided-conv gradients: 9.3 instead
    of 5.7 GFLOP for a 6×6 stride-2 conv forward+backward.) A while-loop body is not entered: loops pass
    their own count. Returns None when a shape is unknown."""
    total = 0
    for op in fn.get_concrete_function().graph.get_operations():
        try:
            if op.type in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
                total += _conv_flops(op)
            elif op.type in ("MatMul", "BatchMatMulV2", "BatchMatMulV3"):
                a, out = op.inputs[0].shape, op.outputs[0].shape
                inner = a[-2] if op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x") else a[-1]
                total += 2 * np.prod(out) * inner
        except TypeError:  # an unknown dimension
            return None
    return int(total)


def wait(out):
    """Block until every tensor of `out` (a nest) is computed."""
    tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, out)


def measure(fn, calls, repeats):
    """Median seconds per call over `repeats` runs of `calls` calls, after two warm-up calls."""
    for _ in range(2):
        wait(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn()
        wait(out)
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times), times


def run_one(name, batch_size, jit, calls, repeats, precision="float32", vae_width=1.0):
    """Time one configuration; prints its line and returns (line, achieved GFLOP/s). vae_width: the VAE channels'
    multiplier of the benchmarks in WIDTH_BENCHMARKS (1: the paper's)."""
    from tfgm.training import set_precision

    set_precision(precision)  # before the benchmark builds its models
    keras.utils.set_random_seed(0)
    width = {"vae_width": vae_width} if name in WIDTH_BENCHMARKS else {}
    body, items, flops = BENCHMARKS[name](batch_size, **width)
    fn = tf.function(body, jit_compile=jit)
    flops = flops or graph_flops(fn)
    seconds, times = measure(fn, calls, repeats)
    gflops = flops / seconds / 1e9 if flops else float("nan")
    shown = f" vae_width={vae_width}" if width else ""
    line = (f"bench={name}{shown} batch={batch_size} xla={'on' if jit else 'off'} precision={precision} "
            f"gflop_per_call={flops / 1e9 if flops else float('nan'):.2f} gflops_per_s={gflops:.1f} "
            f"runs={'/'.join(f'{items / t:.1f}' for t in times)} images_per_s={items / seconds:.1f}")
    print(line)
    sys.stdout.flush()
    return line, gflops


DELEGATED = {"autoattack_mnist": "autoattack_peer", "rbm_mnist": "rbm_step"}  # benchmarks with their own flags
WIDTH_BENCHMARKS = ("discreg", "vae")  # take --vae-width


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in DELEGATED:
        return importlib.import_module(f"benchmarks.{DELEGATED[argv[0]]}").main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=sorted(BENCHMARKS) + ["all", *DELEGATED])
    parser.add_argument("--batch-size", type=int, default=0, help="default: the paper's batch for each benchmark")
    parser.add_argument("--steps", type=int, default=5, help="calls per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
    parser.add_argument("--xla", choices=["both", "on", "off"], default="both")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_float16", "mixed_bfloat16"],
                        help="Keras dtype policy of the models (loss-scaled under mixed_float16); pct_of_peak stays "
                             "relative to the fp32 matmul peak")
    parser.add_argument("--vae-width", type=float, default=1.0,
                        help="multiplier of the VAE channels of the discreg and vae benchmarks (1: the paper's; "
                             "discreg_celeba --quick trains 0.5)")
    args = parser.parse_args(argv)
    if args.vae_width != 1.0 and args.bench not in (*WIDTH_BENCHMARKS, "all"):
        parser.error(f"--vae-width applies to {' and '.join(WIDTH_BENCHMARKS)} only, not {args.bench}")
    if args.bench in DELEGATED:
        parser.error(f"{args.bench} takes its own flags: put it first (train_step.py {args.bench} --help)")

    peak = matmul_peak_gflops()
    print(f"machine: {os.cpu_count()} CPUs, fp32 matmul peak {peak:.1f} GFLOP/s (2048² chain, best of 10), "
          f"load average {os.getloadavg()[0]:.2f}, TensorFlow's oneDNN kernels {onednn_state()}")
    names = sorted(BENCHMARKS) if args.bench == "all" else [args.bench]
    modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.xla]
    results = [run_one(name, args.batch_size or DEFAULT_BATCH[name], jit, args.steps, args.repeats, args.precision,
                       args.vae_width) for name in names for jit in modes]
    peak = max(peak, matmul_peak_gflops())
    print(f"fp32 matmul peak, best of the runs before and after: {peak:.1f} GFLOP/s")
    for line, gflops in results:
        print(f"{line} pct_of_peak={100 * gflops / peak:.1f}")


if __name__ == "__main__":
    main()
