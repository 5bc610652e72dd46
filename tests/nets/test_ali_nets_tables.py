"""ALI's published architectures, layer by layer, at full width.

Source: Dumoulin et al., "Adversarially Learned Inference" (ICLR 2017), appendix tables (SVHN, CIFAR-10,
CelebA), as in the authors' repository github.com/IshmaelBelghazi/ALI (paper/adversarially_learned_inference.tex),
and the authors' code there (experiments/ali_svhn.py, ali_cifar10.py, ali_celeba.py), which settles what the
tables leave open or state inconsistently:
- CIFAR-10 maxout: the conv has the table's feature maps; ConvMaxout (2 pieces) outputs half as many.
- CelebA D(x): the code has no BN after the first conv and dropout 0.2 before every conv (the table: BN on
  all five, no dropout); its latent is 256 (the table's "512 × 1 × 1" inputs count the encoder's 2·256).
Each row: (op, kernel, stride, feature maps, BN, dropout before, nonlinearity, output size, output channels).
The encoder's two Dense heads (z_mean, s) are one row: the table's linear 1×1 conv to 2·D, split.
The discriminator's last conv is linear here (the table's sigmoid is inside the loss).
"""

import re

import keras
import pytest

from tfgm.nets import ali_nets


def _lrelu(slope):
    return f"lrelu {slope:g}"


def _conv(k, s, maps, out, bn=True, drop=0.0, act=_lrelu(0.01), channels=None):
    return ("conv", k, s, maps, bn, drop, act, out, maps if channels is None else channels)


def _convt(k, s, maps, out, act=_lrelu(0.01)):
    return ("convT", k, s, maps, True, 0.0, act, out, maps)


def _maxout(k, s, maps, out, drop):
    return _conv(k, s, maps, out, bn=False, drop=drop, act="maxout 2", channels=maps // 2)


SVHN = {
    "encoder": [_conv(5, 1, 32, 28), _conv(4, 2, 64, 13), _conv(4, 1, 128, 10), _conv(4, 2, 256, 4),
                _conv(4, 1, 512, 1), _conv(1, 1, 512, 1), _conv(1, 1, 512, 1, bn=False, act="linear")],
    "decoder": [_convt(4, 1, 256, 4), _convt(4, 2, 128, 10), _convt(4, 1, 64, 13), _convt(4, 2, 32, 28),
                _convt(5, 1, 32, 32), _conv(1, 1, 32, 32), _conv(1, 1, 3, 32, bn=False, act="sigmoid")],
    "dx": [_conv(5, 1, 32, 28, bn=False, drop=0.2), _conv(4, 2, 64, 13, drop=0.2), _conv(4, 1, 128, 10, drop=0.2),
           _conv(4, 2, 256, 4, drop=0.2), _conv(4, 1, 512, 1, drop=0.2)],
    "dz": [_conv(1, 1, 512, 1, bn=False, drop=0.2)] * 2,
    "dxz": [_conv(1, 1, 1024, 1, bn=False, drop=0.2)] * 2 + [_conv(1, 1, 1, 1, bn=False, drop=0.2, act="linear")],
}

L = _lrelu(0.1)
CIFAR10 = {
    "encoder": [_conv(5, 1, 32, 28, act=L), _conv(4, 2, 64, 13, act=L), _conv(4, 1, 128, 10, act=L),
                _conv(4, 2, 256, 4, act=L), _conv(4, 1, 512, 1, act=L), _conv(1, 1, 512, 1, act=L),
                _conv(1, 1, 128, 1, bn=False, act="linear")],
    "decoder": [_convt(4, 1, 256, 4, L), _convt(4, 2, 128, 10, L), _convt(4, 1, 64, 13, L), _convt(4, 2, 32, 28, L),
                _convt(5, 1, 32, 32, L), _conv(1, 1, 32, 32, act=L), _conv(1, 1, 3, 32, bn=False, act="sigmoid")],
    "dx": [_maxout(5, 1, 32, 28, 0.2), _maxout(4, 2, 64, 13, 0.5), _maxout(4, 1, 128, 10, 0.5),
           _maxout(4, 2, 256, 4, 0.5), _maxout(4, 1, 512, 1, 0.5)],
    "dz": [_maxout(1, 1, 512, 1, 0.2), _maxout(1, 1, 512, 1, 0.5)],
    "dxz": [_maxout(1, 1, 1024, 1, 0.5)] * 2 + [_conv(1, 1, 1, 1, bn=False, drop=0.5, act="linear")],
}

L = _lrelu(0.02)
CELEBA = {
    "encoder": [_conv(2, 1, 64, 63, act=L), _conv(7, 2, 128, 29, act=L), _conv(5, 2, 256, 13, act=L),
                _conv(7, 2, 256, 4, act=L), _conv(4, 1, 512, 1, act=L), _conv(1, 1, 512, 1, bn=False, act="linear")],
    "decoder": [_convt(4, 1, 512, 4, L), _convt(7, 2, 256, 13, L), _convt(5, 2, 256, 29, L), _convt(7, 2, 128, 63, L),
                _convt(2, 1, 64, 64, L), _conv(1, 1, 3, 64, bn=False, act="sigmoid")],
    "dx": [_conv(2, 1, 64, 63, bn=False, drop=0.2, act=L), _conv(7, 2, 128, 29, drop=0.2, act=L),
           _conv(5, 2, 256, 13, drop=0.2, act=L), _conv(7, 2, 256, 4, drop=0.2, act=L),
           _conv(4, 1, 512, 1, drop=0.2, act=L)],
    "dz": [_conv(1, 1, 1024, 1, bn=False, drop=0.2, act=L)] * 2,
    "dxz": [_conv(1, 1, 2048, 1, bn=False, drop=0.2, act=L)] * 2
    + [_conv(1, 1, 1, 1, bn=False, drop=0.2, act="linear")],
}
del L


def _rows(model, branch=None):
    """The model's layers as table rows, in order; `branch` ("dx", "dz", "dxz") picks a D branch (its logit
    conv counts as the last row of "dxz")."""
    blocks = {}
    for layer in model.layers:
        block = "logits" if layer.name.startswith("logits") else re.sub(r"_[a-z]+$", "", layer.name)
        if branch is not None:
            owner = "dxz" if block == "logits" else re.sub(r"\d+$", "", block)
            if owner != branch:
                continue
        if isinstance(layer, keras.layers.Dense):
            block = "z_heads"
        blocks.setdefault(block, []).append(layer)
    rows = []
    for block, members in blocks.items():
        convs = [m for m in members if isinstance(m, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
        dense = [m for m in members if isinstance(m, keras.layers.Dense)]
        if dense:  # the encoder's z_mean and s heads on the flattened 1×1 features: one linear 1×1 conv
            assert [m.name for m in dense] == ["z_mean", "z_scale"] and all(m.activation.__name__ == "linear"
                                                                             for m in dense)
            units = sum(m.units for m in dense)
            rows.append(("conv", 1, 1, units, False, 0.0, "linear", 1, units))
            continue
        if not convs:
            continue
        (conv,) = convs
        drop = [m.rate for m in members if isinstance(m, keras.layers.Dropout)]
        bns = [m for m in members if isinstance(m, keras.layers.BatchNormalization)]
        assert conv.padding == "valid" and conv.kernel_size[0] == conv.kernel_size[1]
        assert conv.use_bias == (not bns), f"{conv.name}: a bias only where no BN follows"
        for bn in bns:
            assert (bn.momentum, bn.epsilon) == (0.95, 1e-4), bn.name  # the authors' 0.95 update; Blocks' ε
        acts = [m for m in members if isinstance(m, (keras.layers.LeakyReLU, ali_nets.Maxout))]
        if acts and isinstance(acts[0], keras.layers.LeakyReLU):
            act = _lrelu(acts[0].negative_slope)
        elif acts:
            act = f"maxout {acts[0].pieces}"
        else:
            act = conv.activation.__name__
        last = (acts or [conv])[-1]
        kind = "convT" if isinstance(conv, keras.layers.Conv2DTranspose) else "conv"
        rows.append((kind, conv.kernel_size[0], conv.strides[0], conv.filters, bool(bns), drop[0] if drop else 0.0,
                     act, int(last.output.shape[1]), int(last.output.shape[-1])))
    return rows


@pytest.mark.parametrize("builder,table,latent", [(ali_nets.svhn_ali, SVHN, 256), (ali_nets.cifar10_ali, CIFAR10, 64),
                                                  (ali_nets.celeba_ali, CELEBA, 256)],
                         ids=["svhn", "cifar10", "celeba"])
def test_full_width_nets_match_the_published_layer_tables(builder, table, latent):
    encoder, decoder, disc = builder()
    assert encoder.outputs[0].shape[-1] == latent and tuple(decoder.inputs[0].shape) == (None, latent)
    assert _rows(encoder) == table["encoder"]
    assert _rows(decoder) == table["decoder"]
    for branch in ("dx", "dz", "dxz"):
        assert _rows(disc, branch) == table[branch], branch
    # joint input = the x branch's and the z branch's output channels side by side
    concat = disc.get_layer("dxz_concat")
    assert concat.output.shape[-1] == table["dx"][-1][-1] + table["dz"][-1][-1]
    assert tuple(disc.output.shape) == (None, 1)
