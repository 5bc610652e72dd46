"""The GAN losses and penalties `tfgm.models.GAN` knows, as declarative entries.

This module imports no TensorFlow (recipes list its names in their --help before TensorFlow starts): an entry
names its function by import path, loaded on first use. The model loops over the entries, so a new penalty is
its function (a pure function on tensors) plus one `Penalty` line here, and its test.
"""

import dataclasses
import importlib


def _function(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclasses.dataclass(frozen=True)
class GanLoss:
    """A GAN loss: D's and G's functions of logits (`tfgm.losses.gan`, called with `reduction="none"`).

    d_options / g_options: options passed to D's / G's function as keywords. log_z: G's function takes `log_z`;
    the option "log_z_decay" turns on the model's moving average of log Z that feeds it (else log_z = 0).
    """

    name: str
    discriminator: str
    generator: str
    d_options: tuple = ()
    g_options: tuple = ()
    log_z: bool = False

    @property
    def options(self):
        return self.d_options + self.g_options + (("log_z_decay",) if self.log_z else ())

    def functions(self):
        """(discriminator_fn, generator_fn)."""
        return _function(self.discriminator), _function(self.generator)


@dataclasses.dataclass(frozen=True)
class Penalty:
    """A GAN regularizer: where the model applies it, its parameters and its function.

    side: "critic" — a term of D's loss, function(**{critic, real, fake, seed} ∩ inputs) → float32 scalar;
        "generator" — a term of G's loss, function(**{generator, z, g_z, seed} ∩ inputs);
        "inputs" — function(x, value, seed) transforms D's inputs (real, fake and the generator step's fakes);
        "weights" — function(variables, value) runs on D's weights after each critic update.
    defaults: {parameter: default}; bools stay bools, the rest are floats. main: the parameter a bare number
        sets ("value" above). options: parameters passed to the function as keywords.
    weight: (parameter, factor): the term enters its loss as factor × parameter × value (λ·GP, γ/2·Ω).
    schedule: function(step, total_steps, initial) giving the main parameter while "anneal" is on; logged: the
        name the current value is logged under (log_constant: also when not annealed).
    input_gradients: differentiates the critic w.r.t. its inputs, so examples must be independent (no batch
        norm in the critic). stream: the model's stateless seed stream of its random draws.
    """

    name: str
    side: str
    function: str
    defaults: dict
    main: str
    inputs: tuple = ()
    options: tuple = ()
    weight: tuple = None
    schedule: str = None
    logged: str = None
    log_constant: bool = False
    input_gradients: bool = False
    stream: int = None

    def __call__(self, *args, **kwargs):
        return _function(self.function)(*args, **kwargs)

    def scheduled(self, step, total_steps, initial):
        return _function(self.schedule)(step, total_steps, initial)


_LOSSES = "tfgm.losses.gan."
_REGS = "tfgm.losses.regularizers."

GAN_LOSSES = {loss.name: loss for loss in (
    GanLoss("minimax", _LOSSES + "discriminator_loss", _LOSSES + "generator_loss_minimax"),
    GanLoss("nonsaturating", _LOSSES + "discriminator_loss", _LOSSES + "generator_loss_nonsaturating"),
    GanLoss("wasserstein", _LOSSES + "wasserstein_critic_loss", _LOSSES + "wasserstein_generator_loss"),
    GanLoss("least_squares", _LOSSES + "least_squares_discriminator_loss", _LOSSES + "least_squares_generator_loss",
            d_options=("a", "b"), g_options=("c",)),
    GanLoss("hinge", _LOSSES + "hinge_discriminator_loss", _LOSSES + "hinge_generator_loss"),
    GanLoss("bgan", _LOSSES + "discriminator_loss", _LOSSES + "bgan_generator_loss", log_z=True),
)}

PENALTIES = {penalty.name: penalty for penalty in (
    Penalty("gradient_penalty", "critic", _REGS + "gradient_penalty", {"weight": 10.0}, "weight",
            inputs=("critic", "real", "fake", "seed"), weight=("weight", 1.0), input_gradients=True, stream=3),
    Penalty("weight_clipping", "weights", _REGS + "clip_weights", {"clip_value": 0.01}, "clip_value"),
    Penalty("roth", "critic", _REGS + "roth_regularizer", {"gamma": 2.0, "anneal": False}, "gamma",
            inputs=("critic", "real", "fake"), weight=("gamma", 0.5), schedule=_REGS + "annealed_gamma",
            logged="roth_gamma", input_gradients=True),
    Penalty("r1", "critic", _REGS + "r1_penalty", {"gamma": 10.0}, "gamma", inputs=("critic", "real"),
            weight=("gamma", 0.5), input_gradients=True),
    Penalty("instance_noise", "inputs", _REGS + "instance_noise", {"stddev": 0.1, "anneal": True}, "stddev",
            schedule=_REGS + "annealed_stddev", logged="noise_stddev", log_constant=True),
    Penalty("jacobian_clamping", "generator", _REGS + "jacobian_clamping",
            {"weight": 1.0, "eps": 1.0, "lambda_min": 1.0, "lambda_max": 20.0}, "weight",
            inputs=("generator", "z", "g_z", "seed"), options=("eps", "lambda_min", "lambda_max"),
            weight=("weight", 1.0), stream=6),
)}


def gan_loss(name):
    """The `GanLoss` called `name`."""
    try:
        return GAN_LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown GAN loss {name!r}; choose one of: {', '.join(sorted(GAN_LOSSES))}.") from None


def get_gan_loss(name):
    """`(discriminator_fn, generator_fn)` of the loss called `name`."""
    return gan_loss(name).functions()


def canonical_regularizers(regularizers):
    """Normalize regularizers to {name: {parameter: value}} with every default filled in.

    Accepts None, a name, a sequence of names or (name, value) pairs, or a dict name → None | number |
    dict of parameters. A bare number sets the main parameter (λ, clip value, γ, σ₀, JC weight).
    """
    if regularizers is None:
        return {}
    if isinstance(regularizers, str):
        regularizers = [regularizers]
    if not isinstance(regularizers, dict):
        items = {}
        for item in regularizers:
            name, value = (item, None) if isinstance(item, str) else tuple(item)
            items[name] = value
        regularizers = items
    result = {}
    for name, value in regularizers.items():
        if name not in PENALTIES:
            raise ValueError(f"unknown GAN regularizer {name!r}; choose from {', '.join(sorted(PENALTIES))}")
        defaults, main = PENALTIES[name].defaults, PENALTIES[name].main
        params = dict(defaults)
        if isinstance(value, dict):
            unknown = set(value) - set(defaults)
            if unknown:
                raise ValueError(f"regularizer {name!r} has no parameter(s) {sorted(unknown)}; "
                                 f"it takes {sorted(defaults)}")
            params.update(value)
        elif value is not None:
            params[main] = value
        result[name] = {k: (bool(v) if isinstance(defaults[k], bool) else float(v)) for k, v in params.items()}
    return result


def need_critic_without_batch_norm(names):
    """Whether any of the regularizers `names` takes input gradients of the critic (then D must not batch-norm)."""
    return any(PENALTIES[name].input_gradients for name in names if name in PENALTIES)
