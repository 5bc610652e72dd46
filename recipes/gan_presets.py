"""Paper presets of the GAN variants the recipes train (loss, regularizers, n_critic, optimizers, critic
architecture), and how the recipes' flags apply to them. Imports no TensorFlow (the flags are checked first)."""

import dataclasses

from tfgm.losses import registry

REPEATABLE = ("--regularizer", "--variant")


@dataclasses.dataclass(frozen=True)
class GANVariant:
    """Paper defaults of a named GAN variant.

    d_optimizer / g_optimizer: (Keras optimizer class name, kwargs). critic_batch_norm / spectral_norm: how to
    build the discriminator. anneal: regularizers whose schedule needs GAN(total_steps=...).
    """

    loss: str
    regularizers: dict
    n_critic: int
    d_optimizer: tuple
    g_optimizer: tuple
    critic_batch_norm: bool = True
    spectral_norm: bool = False
    reference: str = ""

    def optimizers(self, learning_rate=None):
        """Fresh (d_optimizer, g_optimizer); `learning_rate` overrides both rates when given."""
        import keras

        made = []
        for class_name, kwargs in (self.d_optimizer, self.g_optimizer):
            kwargs = dict(kwargs, **({"learning_rate": learning_rate} if learning_rate else {}))
            made.append(getattr(keras.optimizers, class_name)(**kwargs))
        return tuple(made)


_DCGAN_ADAM = ("Adam", {"learning_rate": 2e-4, "beta_1": 0.5})
_GP_ADAM = ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9})
_RMSPROP = ("RMSprop", {"learning_rate": 5e-5})

VARIANTS = {
    "dcgan": GANVariant("nonsaturating", {}, 1, _DCGAN_ADAM, _DCGAN_ADAM, reference="Radford et al. 2016"),
    "wgan": GANVariant("wasserstein", {"weight_clipping": 0.01}, 5, _RMSPROP, _RMSPROP,
                       reference="Arjovsky et al. 2017"),
    "wgan_gp": GANVariant("wasserstein", {"gradient_penalty": 10.0}, 5, _GP_ADAM, _GP_ADAM,
                          critic_batch_norm=False, reference="Gulrajani et al. 2017"),
    "sngan": GANVariant("hinge", {}, 1, ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999}),
                        ("Adam", {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999}),
                        critic_batch_norm=False, spectral_norm=True,
                        reference="Miyato et al. 2018, standard CNN, setting B"),
    "roth": GANVariant("nonsaturating", {"roth": {"gamma": 2.0, "anneal": True}}, 1, _DCGAN_ADAM, _DCGAN_ADAM,
                       critic_batch_norm=False, reference="Roth et al. 2017, γ₀ = 2 annealed ×0.01"),
    "instance_noise": GANVariant("nonsaturating", {"instance_noise": {"stddev": 0.1, "anneal": True}}, 1,
                                 _DCGAN_ADAM, _DCGAN_ADAM, reference="Sønderby et al. 2017; Arjovsky & Bottou 2017"),
    "jacobian_clamping": GANVariant("nonsaturating", {"jacobian_clamping": {}}, 1, _DCGAN_ADAM, _DCGAN_ADAM,
                                    reference="Odena et al. 2018, ε = 1, λ ∈ [1, 20]"),
}


def get_variant(name):
    """The `GANVariant` called `name` (see `VARIANTS`)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown GAN variant {name!r}; choose from {', '.join(VARIANTS)}") from None


def merge_repeated(argv, flags=REPEATABLE):
    """Fold repeated `--flag a --flag b` (or `--flag=a`) into one `--flag a b` for argparse's nargs='+'."""
    values, rest, current = {}, [], None
    for arg in argv:
        name, eq, value = arg.partition("=")
        if name in flags:
            current = name
            values.setdefault(name, [])
            if eq:
                values[name].append(value)
            continue
        if current is not None and not arg.startswith("--"):
            values[current].append(arg)
            continue
        current = None
        rest.append(arg)
    for name, items in values.items():
        rest += [name, *items]
    return rest


def parse_regularizers(specs, base=None):
    """`["gradient_penalty=5", "r1"]` on top of `base` ({name: params}) → {name: value or None}.

    "name" keeps the defaults (or the variant's value), "name=value" sets the main parameter, "none" drops
    everything given before it (the variant's regularizers included).
    """
    result = dict(base or {})
    for spec in specs:
        name, eq, value = spec.partition("=")
        if name == "none":
            result = {}
            continue
        result[name] = float(value) if eq else result.get(name)
    return result


def gan_settings(cfg, variant_name):
    """Loss, regularizers, n_critic and critic architecture of `variant_name` with the flags applied, checked
    against the registry (ValueError naming a bad variant, loss or regularizer); "make_optimizers" returns a
    fresh (d_optimizer, g_optimizer) pair per call."""
    variant = get_variant(variant_name)
    regularizers = parse_regularizers(cfg.regularizer, variant.regularizers)
    loss = cfg.loss or variant.loss
    registry.gan_loss(loss)
    registry.canonical_regularizers(regularizers)
    return {
        "variant": variant_name,
        "loss": loss,
        "regularizers": regularizers,
        "n_critic": cfg.n_critic or variant.n_critic,
        "spectral_norm": bool(cfg.sn or variant.spectral_norm),
        "critic_batch_norm": variant.critic_batch_norm and not registry.need_critic_without_batch_norm(regularizers),
        "make_optimizers": lambda: variant.optimizers(cfg.learning_rate or None),
        "optimizers": {"d": variant.d_optimizer, "g": variant.g_optimizer,
                       "learning_rate_override": cfg.learning_rate or None},
        "reference": variant.reference,
    }


def describe(settings, batch_norm=True):
    """One line: loss, regularizers, n_critic, SN (and the critic's BN when `batch_norm`)."""
    regs = ", ".join(f"{k}={v}" if v is not None else k for k, v in settings["regularizers"].items()) or "none"
    text = (f"loss {settings['loss']}, regularizers {regs}, n_critic {settings['n_critic']}, "
            f"SN {'on' if settings['spectral_norm'] else 'off'}")
    return text + (f", critic BN {'on' if settings['critic_batch_norm'] else 'off'}" if batch_norm else "")
