"""Plain PyTorch peers of tfgm's benchmarked steps (eager, float32, CPU, NCHW), on the nets of `torch_nets`, fed the
same NumPy batches (`benchmarks._models`). Each builder returns (step, images per call, {net name: module}); the step
blocks until its work is done (it returns a Python float or a tensor computed on the CPU).

discreg(batch)   DiscRegVAE train step (tfgm.models.DiscRegVAE on discgen's nets, Adam 0.002): encoder and decoder
                 in training mode (batch-statistics BN), z = μ + exp(½ log σ²)·ε with log σ² through tfgm's soft upper
                 bound, loss = mean over the batch of KL(q‖N(0, I)) − log N(x | x̂, σ_x²) (learned per-pixel log σ_x,
                 soft floor at −5) − Σ_l log N(C_l(x) | C_l(x̂), σ_l²) over the frozen classifier's three strided-conv
                 BN outputs (learned per-unit log σ_l; C in inference mode, on x without a graph, on x̂ with one),
                 one backward, one Adam step on encoder, decoder and every log σ. Same work as tfgm's step.
dcgan(batch)     one D update (G forward without a graph, training-mode BN; D on the real and on the fake batch
                 separately; non-saturating loss) and one G update on fresh z (D's parameters frozen for it, so no
                 D weight gradients are computed — tfgm asks for G's variables only), Adam 2e-4, β1 0.5.
wgan_gp(batch)   5 critic updates (Wasserstein loss + 10·GP, the penalty's input gradient by double backward:
                 autograd.grad(create_graph=True); α ~ U[0, 1] per example, ε = 1e-12 inside the sqrt) then one G
                 update; critic without BN; Adam 1e-4, β = (0.5, 0.9). Every critic step reuses the batch (tfgm's
                 critic_batches="reuse").
pgd40(batch)     L∞ PGD on the MNIST CNN, ε 0.1, step 0.01, 40 steps from a uniform random start, keeping per
                 example the iterate of highest cross-entropy (tfgm.attacks.pgd): 40 forward+input-gradient passes
                 and one last forward (tfgm's graph also traces a gradient there, which nothing uses).

Differences from tfgm: random numbers come from PyTorch's generator, not TensorFlow's stateless ops; Adam's ε is
Keras' 1e-7; tfgm's steps also update their loss trackers (a few scalar ops). FLOPs are the same up to the unused
gradients TensorFlow traces (and Grappler prunes); compare.py prints both counts.
"""

import math

import numpy as np
import torch
from torch.nn import functional as F

from benchmarks import _models
from benchmarks.peers import torch_nets

MIN_LOG_SIGMA, LOG_SIGMA_KNEE = -5.0, 1.0  # tfgm.losses.likelihoods
MAX_LOG_VAR, LOG_VAR_KNEE = 8.0, 4.0
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _nchw(images):
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def soft_floor(x, floor=MIN_LOG_SIGMA, knee=LOG_SIGMA_KNEE):
    """tfgm.losses.likelihoods.soft_floor."""
    start = floor + knee
    return torch.where(x > start, x, floor + knee * torch.exp(torch.clamp(x - start, max=0.0) / knee))


def bound_log_var(x, limit=MAX_LOG_VAR, knee=LOG_VAR_KNEE):
    """tfgm.losses.likelihoods.bound_log_var."""
    start = limit - knee
    return torch.where(x < start, x, limit - knee * torch.exp(-torch.clamp(x - start, min=0.0) / knee))


def gaussian_nll(x, mean, log_sigma):
    """−log N(x | mean, diag σ²) per example, σ = exp(soft_floor(log σ)); log_sigma broadcasts over the batch."""
    log_sigma = soft_floor(log_sigma)
    return (0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2 + log_sigma + HALF_LOG_2PI).flatten(1).sum(1)


def discreg(batch, seed=0):
    torch.manual_seed(seed)
    encoder, decoder = torch_nets.DiscgenEncoder(), torch_nets.DiscgenDecoder()
    features = torch_nets.DiscgenFeatures(torch_nets.DiscgenClassifier())
    x = _nchw(_models.images(batch, (64, 64, 3)))
    with torch.no_grad():
        shapes = [f.shape[1:] for f in features(x[:2])]
    scales = torch.nn.ParameterDict({"log_sigma_x": torch.nn.Parameter(torch.zeros(x.shape[1:]))})
    for i, shape in enumerate(shapes, start=1):
        scales[f"log_sigma_strided{i}_bn"] = torch.nn.Parameter(torch.zeros(shape))
    params = list(encoder.parameters()) + list(decoder.parameters()) + list(scales.parameters())
    optimizer = torch.optim.Adam(params, lr=0.002, eps=1e-7)
    encoder.train(), decoder.train()

    def step():
        z_mean, z_log_var = encoder(x)
        z_log_var = bound_log_var(z_log_var)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        x_mean = decoder(z)
        kl = 0.5 * (z_mean ** 2 + torch.exp(z_log_var) - 1.0 - z_log_var).sum(1)
        loss = kl + gaussian_nll(x, x_mean, scales["log_sigma_x"])
        with torch.no_grad():
            targets = features(x)
        for i, (target, f) in enumerate(zip(targets, features(x_mean)), start=1):
            loss = loss + gaussian_nll(target, f, scales[f"log_sigma_strided{i}_bn"])
        loss = loss.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, batch, {"encoder": encoder, "decoder": decoder, "feature_extractor": features,
                         "learned_scales": scales}


def _gan(batch, wasserstein, seed=0):
    torch.manual_seed(seed)
    generator = torch_nets.DcganGenerator()
    critic = torch_nets.DcganDiscriminator(batch_norm=not wasserstein)
    lr, betas = (1e-4, (0.5, 0.9)) if wasserstein else (2e-4, (0.5, 0.999))
    d_opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas, eps=1e-7)
    g_opt = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas, eps=1e-7)
    real = _nchw(_models.images(batch, (32, 32, 3)))
    n_critic = 5 if wasserstein else 1
    generator.train(), critic.train()

    def gradient_penalty(fake):
        alpha = torch.rand(batch, 1, 1, 1)
        x_hat = (real + alpha * (fake - real)).requires_grad_(True)
        grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        norm = torch.sqrt(grad.flatten(1).pow(2).sum(1) + 1e-12)
        return ((norm - 1.0) ** 2).mean()

    def critic_step():
        with torch.no_grad():
            fake = generator(torch.randn(batch, 100))
        real_logits, fake_logits = critic(real).squeeze(1), critic(fake).squeeze(1)
        if wasserstein:
            loss = (fake_logits - real_logits).mean() + 10.0 * gradient_penalty(fake)
        else:
            loss = (F.softplus(-real_logits) + F.softplus(fake_logits)).mean()
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        d_opt.step()

    def generator_step():
        critic.requires_grad_(False)
        logits = critic(generator(torch.randn(batch, 100))).squeeze(1)
        loss = (-logits).mean() if wasserstein else F.softplus(-logits).mean()
        g_opt.zero_grad(set_to_none=True)
        loss.backward()
        g_opt.step()
        critic.requires_grad_(True)
        return loss.item()

    def step():
        for _ in range(n_critic):
            critic_step()
        return generator_step()

    return step, batch, {"generator": generator, "discriminator": critic}


def dcgan(batch, seed=0):
    return _gan(batch, wasserstein=False, seed=seed)


def wgan_gp(batch, seed=0):
    return _gan(batch, wasserstein=True, seed=seed)


def pgd40(batch, seed=0, eps=0.1, step_size=0.01, steps=40):
    torch.manual_seed(seed)
    net = torch_nets.MnistCnn().eval()  # trainable like the Keras net; autograd.grad(…, xt) computes no weight grads
    data = _models.mnist_batch(batch)
    x, y = _nchw(data["image"]), torch.from_numpy(data["label"]).long()

    def keep_best(best_x, best_loss, xt, loss):
        better = loss > best_loss
        return torch.where(better.view(-1, 1, 1, 1), xt, best_x), torch.where(better, loss, best_loss)

    def attack():
        xt = torch.clamp(x + (2.0 * torch.rand_like(x) - 1.0) * eps, 0.0, 1.0)
        best_x, best_loss = xt, torch.full((batch,), -math.inf)
        for _ in range(steps):
            xt.requires_grad_(True)
            loss = F.cross_entropy(net(xt), y, reduction="none")
            grad, = torch.autograd.grad(loss.sum(), xt)
            with torch.no_grad():
                best_x, best_loss = keep_best(best_x, best_loss, xt.detach(), loss)
                xt = torch.clamp(torch.minimum(torch.maximum(xt + step_size * torch.sign(grad), x - eps), x + eps),
                                 0.0, 1.0)
        with torch.no_grad():
            best_x, _ = keep_best(best_x, best_loss, xt, F.cross_entropy(net(xt), y, reduction="none"))
        return best_x

    return attack, batch, {"mnist_cnn": net}


STEPS = {"discreg": discreg, "dcgan": dcgan, "wgan_gp": wgan_gp, "pgd40_mnist": pgd40}


def param_counts(nets):
    """{net name: torch_nets.param_counts(module)} of a builder's nets."""
    return {name: torch_nets.param_counts(module) for name, module in nets.items()}


def count_flops(step):
    """FLOPs of one call of `step`, counted with torch.utils.flop_counter's formulas (convolutions — with their input,
    weight and double backward — and matrix products, 2 per multiply-add: train_step.graph_flops' convention) on the
    ops that actually run, or None when this PyTorch has no flop counter. (A plain dispatch mode rather than
    FlopCounterMode, whose module hooks refuse autograd.grad on a leaf, as PGD does.)"""
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import flop_registry
    except ImportError:
        return None

    class Count(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.total += int(formula(*args, **kwargs, out_val=out))
            return out

    with Count() as counter:
        step()
    return counter.total
