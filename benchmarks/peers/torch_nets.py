"""PyTorch ports of the tfgm nets that benchmarks/compare.py times: same layers, kernel sizes, strides, widths, biases
and batch-norm placement as the Keras builders, so the same parameter count and the same FLOPs.

  discgen (tfgm.nets.discgen, CelebA 64×64): `DiscgenEncoder`, `DiscgenDecoder`, `DiscgenClassifier` (its
      `features` runs up to the three strided-conv BN outputs, like `discgen.feature_extractor`);
  DCGAN 32×32 (tfgm.nets.dcgan, width 64, latent 100): `DcganGenerator`, `DcganDiscriminator(batch_norm)`;
  the fortified MNIST CNN (tfgm.nets.fortified_nets.mnist_cnn): `MnistCnn`.

Differences that change neither the parameter count nor the FLOPs: tensors are NCHW (PyTorch's default layout);
Flatten orders C, H, W (Keras: H, W, C; MnistCnn flattens like Keras); "same" padding of the even 4×4 stride-2
DCGAN kernels is symmetric, so PyTorch's `padding=` gives TensorFlow's output (MnistCnn pads like TensorFlow); batch norm uses Keras' ε
(1e-3) and tfgm's momentum 0.9 (PyTorch momentum 0.1); weights keep PyTorch's default initializers (timing),
except `MnistCnn.load_keras_weights`, which makes the MNIST CNN weight-exact (benchmarks/autoattack_peer.py).
"""

import torch
from torch import nn
from torch.nn import functional as F

BN_EPS, BN_MOMENTUM = 1e-3, 0.1  # Keras' epsilon; PyTorch momentum 0.1 = Keras momentum 0.9 (tfgm's nets)


def _bn2d(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def _bn1d(units):
    return nn.BatchNorm1d(units, eps=BN_EPS, momentum=BN_MOMENTUM)


def _conv_bn_relu(c_in, c_out, kernel, stride=1, padding=0, transpose=False):
    conv = (nn.ConvTranspose2d if transpose else nn.Conv2d)(c_in, c_out, kernel, stride=stride, padding=padding,
                                                             bias=False)
    return nn.Sequential(conv, _bn2d(c_out), nn.ReLU())


def _dense_bn_relu(n_in, n_out):
    return nn.Sequential(nn.Linear(n_in, n_out, bias=False), _bn1d(n_out), nn.ReLU())


# ---- discgen (CelebA 64×64) ---------------------------------------------------------------------------------------

class DiscgenEncoder(nn.Module):
    """`discgen.celeba_encoder`: 4 stages × [3×3 conv, 3×3 conv, 2×2 stride-2 conv] (BN+ReLU, no bias) → dense
    1000 (BN, ReLU) → (μ, log σ²) of 500 each. [B, 3, 64, 64] → ([B, 500], [B, 500])."""

    def __init__(self, channels=3, size=64, latent_dim=500, widths=(32, 64, 128, 256), hidden=1000):
        super().__init__()
        stages, c_in = [], channels
        for w in widths:
            stages += [_conv_bn_relu(c_in, w, 3, padding=1), _conv_bn_relu(w, w, 3, padding=1),
                       _conv_bn_relu(w, w, 2, stride=2)]
            c_in = w
        self.convs = nn.Sequential(*stages)
        flat = c_in * (size // 2 ** len(widths)) ** 2
        self.hidden = _dense_bn_relu(flat, hidden)
        self.z_mean, self.z_log_var = nn.Linear(hidden, latent_dim), nn.Linear(hidden, latent_dim)

    def forward(self, x):
        h = self.hidden(self.convs(x).flatten(1))
        return self.z_mean(h), self.z_log_var(h)


class DiscgenDecoder(nn.Module):
    """`discgen.celeba_decoder`: dense 1000 → dense 4·4·256 (BN, ReLU, no bias) → 4 stages × [3×3 conv, 3×3 conv,
    2×2 stride-2 transposed conv] (BN+ReLU, no bias) → 1×1 conv to 3 channels (bias) → sigmoid."""

    def __init__(self, latent_dim=500, channels=3, size=64, widths=(256, 128, 64, 32), hidden=1000):
        super().__init__()
        self.base = size // 2 ** len(widths)
        self.first = widths[0]
        self.dense = nn.Sequential(_dense_bn_relu(latent_dim, hidden),
                                   _dense_bn_relu(hidden, self.base ** 2 * widths[0]))
        stages, c_in = [], widths[0]
        for w in widths:
            stages += [_conv_bn_relu(c_in, w, 3, padding=1), _conv_bn_relu(w, w, 3, padding=1),
                       _conv_bn_relu(w, w, 2, stride=2, transpose=True)]
            c_in = w
        self.convs = nn.Sequential(*stages)
        self.to_pixels = nn.Conv2d(c_in, channels, 1)

    def forward(self, z):
        x = self.dense(z).view(-1, self.first, self.base, self.base)
        return torch.sigmoid(self.to_pixels(self.convs(x)))


class DiscgenClassifier(nn.Module):
    """`discgen.celeba_classifier`: per stage a valid k×k conv (BN, ReLU) then a strided 3×3 valid conv (BN, ReLU,
    dropout), k = 4, 4, 3, widths 32, 64, 128 → dense 1000 (BN, ReLU, dropout) → 40 logits (all convs without bias).
    `features(x)` returns the three strided convs' BN outputs (pre-ReLU), the layers discreg regularizes."""

    def __init__(self, channels=3, size=64, num_attributes=40, widths=(32, 64, 128), kernels=(4, 4, 3), hidden=1000,
                 dropout=0.5):
        super().__init__()
        self.plain, self.strided_conv, self.strided_bn = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c_in = channels
        for w, k in zip(widths, kernels):
            self.plain.append(_conv_bn_relu(c_in, w, k))
            self.strided_conv.append(nn.Conv2d(w, w, 3, stride=2, bias=False))
            self.strided_bn.append(_bn2d(w))
            size = ((size - k + 1) - 3) // 2 + 1
            c_in = w
        self.dropout = nn.Dropout(dropout)
        self.hidden = _dense_bn_relu(c_in * size * size, hidden)
        self.logits = nn.Linear(hidden, num_attributes)

    def features(self, x):
        out = []
        for plain, conv, bn in zip(self.plain, self.strided_conv, self.strided_bn):
            f = bn(conv(plain(x)))
            out.append(f)
            x = self.dropout(F.relu(f))
        return out, x

    def forward(self, x):
        _, x = self.features(x)
        return self.logits(self.dropout(self.hidden(x.flatten(1))))


class DiscgenFeatures(nn.Module):
    """The frozen feature extractor (`discgen.feature_extractor`): only the classifier's layers up to strided3_bn;
    inference mode, no parameter takes a gradient. images → [strided1_bn, strided2_bn, strided3_bn]."""

    def __init__(self, classifier):
        super().__init__()
        self.plain, self.strided_conv, self.strided_bn = (classifier.plain, classifier.strided_conv,
                                                          classifier.strided_bn)
        self.eval()
        self.requires_grad_(False)

    def train(self, mode=True):  # stays in inference mode, like Keras' feature_extractor(training=False)
        return super().train(False)

    def forward(self, x):
        out = []
        for plain, conv, bn in zip(self.plain, self.strided_conv, self.strided_bn):
            f = bn(conv(plain(x)))
            out.append(f)
            x = F.relu(f)  # dropout is the identity in inference mode
        return out


# ---- DCGAN 32×32 --------------------------------------------------------------------------------------------------

class DcganGenerator(nn.Module):
    """`dcgan.generator(100, (32, 32, 3))`: dense to 4·4·256 (no bias, BN, ReLU) → 4×4 stride-2 transposed convs
    to 128, 64 (no bias, BN, ReLU) → 4×4 stride-2 transposed conv to 3 (bias) → tanh → [0, 1]."""

    def __init__(self, latent_dim=100, channels=3, size=32, width=64):
        super().__init__()
        steps, base = 0, size
        while base % 2 == 0 and base > 4:
            base, steps = base // 2, steps + 1
        c = width * 2 ** (steps - 1)
        self.base, self.c = base, c
        self.project = nn.Sequential(nn.Linear(latent_dim, base * base * c, bias=False), _bn1d(base * base * c),
                                     nn.ReLU())
        ups = []
        for _ in range(steps - 1):
            ups.append(_conv_bn_relu(c, c // 2, 4, stride=2, padding=1, transpose=True))
            c //= 2
        self.ups = nn.Sequential(*ups)
        self.to_pixels = nn.ConvTranspose2d(c, channels, 4, stride=2, padding=1)

    def forward(self, z):
        x = self.project(z).view(-1, self.c, self.base, self.base)
        return 0.5 * torch.tanh(self.to_pixels(self.ups(x))) + 0.5


class DcganDiscriminator(nn.Module):
    """`dcgan.discriminator((32, 32, 3), batch_norm=...)`: [0, 1] → [−1, 1] → 4×4 stride-2 convs 64, 128, 256
    (LeakyReLU 0.2; BN and no bias on all but the first when `batch_norm`) → flatten → dense to one logit."""

    def __init__(self, channels=3, size=32, width=64, batch_norm=True):
        super().__init__()
        steps, base = 0, size
        while base % 2 == 0 and base > 4:
            base, steps = base // 2, steps + 1
        layers, c_in = [], channels
        for i in range(steps):
            use_bn = batch_norm and i > 0
            layers.append(nn.Conv2d(c_in, width * 2 ** i, 4, stride=2, padding=1, bias=not use_bn))
            if use_bn:
                layers.append(_bn2d(width * 2 ** i))
            layers.append(nn.LeakyReLU(0.2))
            c_in = width * 2 ** i
        self.convs = nn.Sequential(*layers)
        self.logit = nn.Linear(c_in * (size // 2 ** steps) ** 2, 1)

    def forward(self, x):
        return self.logit(self.convs(2.0 * x - 1.0).flatten(1))


# ---- fortified MNIST CNN ------------------------------------------------------------------------------------------

def same_padding(size, kernel, stride):
    """TensorFlow's "same" padding (before, after) along one axis: the extra pixel goes after."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class MnistCnn(nn.Module):
    """`fortified_nets.mnist_cnn`: conv 64 8×8 s2 same → conv 128 6×6 s2 valid → conv 128 5×5 s1 valid (leaky ReLU
    0.2 each, biases) → flatten in Keras' H, W, C order → logits. [B, C, H, W] → [B, num_classes]; `input_shape`
    (H, W, C), default 28×28×1. `load_keras_weights` makes it the Keras net exactly."""

    def __init__(self, num_classes=10, input_shape=(28, 28, 1), negative_slope=0.2):
        super().__init__()
        height, width, channels = input_shape
        (top, bottom), (left, right) = same_padding(height, 8, 2), same_padding(width, 8, 2)
        symmetric = top == bottom and left == right  # 28×28: PyTorch's own padding, no extra copy
        self.pad, self.slope = (0, 0, 0, 0) if symmetric else (left, right, top, bottom), negative_slope
        self.conv1 = nn.Conv2d(channels, 64, 8, stride=2, padding=(top, left) if symmetric else 0)
        self.conv2 = nn.Conv2d(64, 128, 6, stride=2)
        self.conv3 = nn.Conv2d(128, 128, 5)
        side = [(-(-n // 2) - 6) // 2 + 1 - 4 for n in (height, width)]
        self.logits = nn.Linear(128 * side[0] * side[1], num_classes)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(F.pad(x, self.pad) if any(self.pad) else x), self.slope)
        x = F.leaky_relu(self.conv3(F.leaky_relu(self.conv2(x), self.slope)), self.slope)
        return self.logits(x.permute(0, 2, 3, 1).flatten(1))  # Keras flattens H, W, C

    def load_keras_weights(self, weights):
        """Copy {"conv1_kernel": [kh, kw, in, out], "conv1_bias", …, "logits_kernel": [in, out], "logits_bias"}
        (NumPy arrays of the Keras net) into this module; returns it."""
        with torch.no_grad():
            for name in ("conv1", "conv2", "conv3", "logits"):
                kernel = torch.as_tensor(weights[f"{name}_kernel"], dtype=torch.float32)
                layer = getattr(self, name)
                layer.weight.copy_(kernel.permute(3, 2, 0, 1) if kernel.ndim == 4 else kernel.T)
                layer.bias.copy_(torch.as_tensor(weights[f"{name}_bias"], dtype=torch.float32))
        return self


# ---- counting -----------------------------------------------------------------------------------------------------

def param_counts(module):
    """{"trainable": scalars in parameters that take a gradient, "state": frozen parameters and buffers (BN running
    mean and variance; not num_batches_tracked, which Keras has no equivalent of)} — Keras' trainable_weights /
    non_trainable_weights split."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return {"trainable": int(trainable), "state": int(frozen + buffers)}
