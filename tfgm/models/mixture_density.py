"""A learned Gaussian mixture (thesis eq. 1.17), optionally conditioned on an input: a mixture density network
(Bishop 1994; Graves 2013), fit by maximum likelihood."""

import keras
import tensorflow as tf

from tfgm.losses import likelihoods, mixtures
from tfgm.models._base import SingleOptimizerMixin, SubmodelConfigMixin, TrackersMixin


@keras.saving.register_keras_serializable(package="tfgm")
class MixtureDensity(TrackersMixin, SingleOptimizerMixin, SubmodelConfigMixin, keras.Model):
    """K-component diagonal Gaussian mixture over y [B, D]: p(y | x) = Σ_k π_k(x) N(y | μ_k(x), diag σ_k(x)²).

    network: None — unconditional: logits [K], means [K, D] and log σ [K, D] are the model's own weights (means
        initialized N(0, 1) from `seed`, or by `initialize_from(y)`); or a Keras model x [B, ...] → [B, K·(1 + 2D)]
        linear outputs (`tfgm.losses.gaussian_mixture_head_size(K, D)`): an MDN, the head split by
        `tfgm.losses.split_gaussian_mixture` (logits, means, log σ).
    min_log_sigma: log σ passes `soft_floor(·, min_log_sigma)` (unchanged above it + 1), so a component cannot
        collapse onto one point and make the likelihood unbounded.
    Batches are dicts with "y" [B, D] (and "x" for an MDN). Training minimizes the mean negative log-likelihood
    over the global batch; the logged `loss` is that, in nats per example.
    """

    def __init__(self, num_components, event_dim, network=None, min_log_sigma=likelihoods.MIN_LOG_SIGMA, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_components = int(num_components)
        self.event_dim = int(event_dim)
        head = mixtures.gaussian_mixture_head_size(self.num_components, self.event_dim)
        outputs = getattr(network, "outputs", None)
        if outputs and outputs[0].shape[-1] != head:
            raise ValueError(f"MixtureDensity: the network gives {outputs[0].shape[-1]} outputs; {self.num_components} "
                             f"components over {self.event_dim} dims need {head} (gaussian_mixture_head_size), "
                             f"linear activation")
        self.network = network
        self.min_log_sigma = float(min_log_sigma)
        self.seed = int(seed)
        if network is None:
            k, d = self.num_components, self.event_dim
            self.logits = self.add_weight(shape=(k,), initializer="zeros", name="logits")
            self.means = self.add_weight(shape=(k, d), initializer=keras.initializers.RandomNormal(seed=self.seed),
                                         name="means")
            self.log_sigmas = self.add_weight(shape=(k, d), initializer="zeros", name="log_sigmas")
        self._init_trackers(("loss",))
        self.built = True

    @property
    def conditional(self):
        return self.network is not None

    def mixture_parameters(self, x=None, training=False):
        """(logits, means, log_sigmas), float32, log σ before the floor: [B, K], [B, K, D], [B, K, D] for an MDN
        given x; the model's own [K], [K, D], [K, D] when unconditional."""
        if not self.conditional:
            return tf.convert_to_tensor(self.logits), tf.convert_to_tensor(self.means), \
                tf.convert_to_tensor(self.log_sigmas)
        if x is None:
            raise ValueError("MixtureDensity: this is an MDN (it has a network); pass its input x")
        return mixtures.split_gaussian_mixture(self.network(x, training=training), self.event_dim)

    def log_prob(self, y, x=None, training=False):
        """log p(y | x) per example, y [B, D] → [B] nats."""
        return mixtures.gaussian_mixture_log_likelihood(y, *self.mixture_parameters(x, training), self.min_log_sigma)

    def sample(self, n=None, seed=0, x=None):
        """Stateless draws (seed: int or [2] int32): unconditional `sample(n, seed)` → [n, D]; an MDN
        `sample(seed=s, x=x)` → one draw per row of x, [B, D]."""
        if self.conditional != (x is not None) or (not self.conditional and n is None):
            raise ValueError("MixtureDensity.sample: an unconditional mixture takes n (sample(n, seed)); an MDN takes "
                             "x and no n (sample(seed=s, x=x))")
        return mixtures.gaussian_mixture_sample(*self.mixture_parameters(x), seed=seed, n=n,
                                                min_log_sigma=self.min_log_sigma)

    def initialize_from(self, y, seed=None):
        """Unconditional only: set the means to K distinct rows of y [N, D] (N ≥ K) picked with a stateless seed
        (default: the model's), weights uniform, σ = 1 — a data-driven start that spreads components over the
        data (as k-means++-less EM initializations do)."""
        if self.conditional:
            raise ValueError("MixtureDensity.initialize_from: only for an unconditional mixture (network=None)")
        y = tf.convert_to_tensor(y, tf.float32)
        if y.shape.rank != 2 or y.shape[-1] != self.event_dim or y.shape[0] < self.num_components:
            raise ValueError(f"MixtureDensity.initialize_from: y must be [N, {self.event_dim}] with N >= "
                             f"{self.num_components}, got {y.shape}")
        seed = self.seed if seed is None else seed
        order = tf.argsort(tf.random.stateless_uniform([tf.shape(y)[0]], [int(seed), 1]))
        self.means.assign(tf.gather(y, order[:self.num_components]))
        self.logits.assign(tf.zeros_like(self.logits))
        self.log_sigmas.assign(tf.zeros_like(self.log_sigmas))

    def call(self, inputs, training=False):
        """inputs: a batch dict ("y", and "x" for an MDN) → log p(y | x), [B]."""
        return self.log_prob(inputs["y"], inputs.get("x"), training=training)

    def _check_batch(self, data):
        if not isinstance(data, dict) or "y" not in data or (self.conditional and "x" not in data):
            need = '"y" and "x"' if self.conditional else '"y"'
            raise ValueError(f"MixtureDensity: batches must be dicts with {need}, got {type(data).__name__}")

    def train_step(self, data):
        self._check_batch(data)
        with tf.GradientTape() as tape:
            nll = -self.call(data, training=True)
            loss = tf.nn.compute_average_loss(nll)
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return self._update_trackers({"loss": nll})

    def test_step(self, data):
        self._check_batch(data)
        return self._update_trackers({"loss": -self.call(data, training=False)})

    serving_default = "log_prob"

    def serving_endpoints(self):
        """Serving signatures: {name: (fn, input_signature)}, each returning a dict of float32 tensors.

        log_prob(y [B, D]) → log_prob [B] (nats); sample(n, seed) → y [n, D] (stateless: same seed, same draws).
        An MDN takes its input too: log_prob(y, x [B, ...]) and sample(x, seed) → y [B, D], one draw per row.
        """
        y_spec = tf.TensorSpec((None, self.event_dim), tf.float32, name="y")
        seed_spec = tf.TensorSpec([], tf.int64, name="seed")
        if not self.conditional:
            return {"log_prob": (lambda y: {"log_prob": self.log_prob(y)}, [y_spec]),
                    "sample": (lambda n, seed: {"y": self.sample(n, seed)},
                               [tf.TensorSpec([], tf.int32, name="n"), seed_spec])}
        x_spec = tf.TensorSpec(self.network.inputs[0].shape, self.network.inputs[0].dtype, name="x")
        return {"log_prob": (lambda y, x: {"log_prob": self.log_prob(y, x)}, [y_spec, x_spec]),
                "sample": (lambda x, seed: {"y": self.sample(seed=seed, x=x)}, [x_spec, seed_spec])}

    def onnx_graphs(self):
        """Deterministic sub-graphs for ONNX: an MDN's network x → (logits, means, log_sigmas) (before the σ floor:
        the client applies `soft_floor` and samples); none for an unconditional mixture (its weights are the
        parameters)."""
        if not self.conditional:
            return {}
        x_spec = tf.TensorSpec(self.network.inputs[0].shape, self.network.inputs[0].dtype, name="x")

        def head(x):
            logits, means, log_sigmas = self.mixture_parameters(x)
            return {"logits": logits, "means": means, "log_sigmas": log_sigmas}

        return {"network": (head, [x_spec])}

    SUBMODELS = ("network",)  # None for an unconditional mixture

    def get_config(self):
        return self._config(num_components=self.num_components, event_dim=self.event_dim,
                            min_log_sigma=self.min_log_sigma, seed=self.seed)
