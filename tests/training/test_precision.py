"""Mixed precision: policies, loss scaling for every optimizer, float32 outputs and likelihood math, export."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tests.models._tiny import IMAGE_SHAPE, LATENT, plain_decoder, plain_encoder, tiny_features
from tfgm.models import VAE, DiscRegVAE
from tfgm.training import auto_precision, loss_scale_optimizer, resolve_precision, set_precision
from tfgm.training.precision import cpu_flags

from .training_helpers import MIXED_STEP_TOLERANCE

rng = np.random.default_rng(3)
X = rng.random((8,) + IMAGE_SHAPE).astype("float32")
NOISE = rng.normal(size=(8, LATENT)).astype("float32")

# MIXED_STEP_TOLERANCE: measured on these nets, per-variable gradient errors <1% (float16) and mostly <4% (bfloat16).
pytestmark = pytest.mark.usefixtures("float32_afterwards")


def _build(kind, precision, weights=None):
    set_precision(precision)
    keras.utils.set_random_seed(0)
    nets = (plain_encoder(), plain_decoder())
    model = VAE(*nets) if kind == "vae" else DiscRegVAE(*nets, tiny_features())
    if weights is not None:
        model.set_weights(weights)
    return model


def _one_step(model, optimizer):
    before = [v.numpy().copy() for v in model.trainable_variables]
    model.compile(optimizer)
    history = model.fit(tf.data.Dataset.from_tensor_slices({"image": X, "noise": NOISE}).batch(8),
                        epochs=1, verbose=0).history
    delta = np.concatenate([(v.numpy() - b).ravel() for v, b in zip(model.trainable_variables, before)])
    return delta, history["loss"][0]


def test_unknown_precision_is_refused_and_the_previous_policy_returned():
    with pytest.raises(ValueError, match="mixed_float16"):
        set_precision("float16")
    assert set_precision("mixed_bfloat16") == "float32"
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"


@pytest.mark.parametrize("flags,has_gpu,policy", [
    ({"avx512f", "avx512_bf16"}, False, "mixed_bfloat16"),
    ({"avx512f", "amx_bf16", "amx_tile"}, False, "mixed_bfloat16"),
    ({"avx2", "avx512f"}, False, "float32"),
    ({"avx512_bf16"}, True, "float32"),
])
def test_auto_picks_bfloat16_only_on_a_cpu_only_machine_with_native_bfloat16(flags, has_gpu, policy):
    picked, reason = auto_precision(frozenset(flags), has_gpu=has_gpu)
    assert picked == policy and reason


def test_cpu_flags_are_read_from_cpuinfo_and_auto_sets_the_machines_pick(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16\n")
    assert cpu_flags(str(info)) == {"fpu", "sse2", "avx512_bf16"}
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()
    assert resolve_precision("mixed_float16") == ("mixed_float16", "asked for")
    set_precision("auto")
    assert keras.mixed_precision.global_policy().name == auto_precision()[0]


def test_single_optimizer_models_get_loss_scaling_from_compile_and_several_optimizers_use_the_helper():
    model = _build("vae", "mixed_float16")
    model.compile(keras.optimizers.Adam(1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.optimizer.built  # VAE.compile builds the (wrapped) optimizer inside the scope
    wrapped = loss_scale_optimizer(keras.optimizers.Adam(1e-3))
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert loss_scale_optimizer(wrapped) is wrapped
    set_precision("mixed_bfloat16")  # no loss scaling needed: bfloat16 has float32's exponent range
    plain = keras.optimizers.Adam(1e-3)
    assert loss_scale_optimizer(plain) is plain


@pytest.mark.parametrize("kind", ["vae", "discreg"])
def test_outputs_and_likelihood_terms_are_float32_while_layers_compute_in_half(kind):
    model = _build(kind, "mixed_float16")
    assert model.encoder.layers[1].compute_dtype == "float16"
    assert model.decode(NOISE).dtype == tf.float32
    terms = model.per_example_terms(X, NOISE, training=False)
    assert {t.dtype for t in terms.values()} == {tf.float32}


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("kind", ["vae", "discreg"])
def test_a_mixed_precision_step_matches_the_float32_step(kind, precision):
    reference = _build(kind, "float32")
    weights = reference.get_weights()
    expected, loss32 = _one_step(reference, keras.optimizers.SGD(1e-3))
    model = _build(kind, precision, weights)
    optimizer = keras.optimizers.SGD(1e-3)
    if precision == "mixed_float16":
        # Keras' default initial scale 2**15 overflows float16 gradients of these ~3000-nat losses: the first
        # steps are skipped while the dynamic scale halves. Start low so the one compared step is applied.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0**4)
    delta, loss = _one_step(model, optimizer)
    assert np.isfinite(loss) and abs(loss - loss32) < 1e-3 * abs(loss32)
    assert np.linalg.norm(expected) > 0
    error = np.linalg.norm(delta - expected) / np.linalg.norm(expected)
    assert error < MIXED_STEP_TOLERANCE[precision], error


def test_an_overflowing_float16_step_is_skipped_not_applied():
    model = _build("vae", "mixed_float16")
    delta, loss = _one_step(model, keras.optimizers.SGD(1e-3))  # default initial scale 2**15
    assert np.isfinite(loss)
    assert not delta.any()
    assert float(model.optimizer.dynamic_scale) < 2.0**15


def test_export_of_a_mixed_precision_model_is_float32_at_the_boundary(tmp_path):
    from export import write_savedmodel

    model = _build("vae", "mixed_float16")
    report = write_savedmodel(model, str(tmp_path / "vae"), batch_sizes=(2,), atol=1e-2)
    assert report["passed"]
    dtypes = {spec["dtype"] for sig in report["signatures"].values()
              for part in ("inputs", "outputs") for spec in sig[part].values()}
    assert dtypes <= {"float32", "int32", "int64"} and "float32" in dtypes


@pytest.mark.parametrize("max_log_var", [None, 8.0])
def test_a_wide_posterior_overflows_a_float16_decoder_unless_its_log_variance_is_bounded(max_log_var):
    set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    encoder = plain_encoder()
    log_var_layer = encoder.layers[-1]
    log_var_layer.bias.assign(np.full(LATENT, 30.0, "float32"))  # σ ≈ 3e6: z does not fit float16 (max 65504)
    model = VAE(encoder, plain_decoder(), max_log_var=max_log_var)
    terms = model.per_example_terms(X, NOISE, training=True)
    finite = all(np.isfinite(v.numpy()).all() for v in terms.values())
    assert finite == (max_log_var is not None)
    assert float(tf.reduce_max(model.encode(X)[1])) == (pytest.approx(30.0, abs=3) if max_log_var is None
                                                        else pytest.approx(8.0, abs=0.02))
