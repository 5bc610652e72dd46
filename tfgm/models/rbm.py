"""Binary restricted Boltzmann machine trained by contrastive divergence (CD-k) or persistent CD (thesis §1.2.2,
eq. 1.18–1.28; Hinton 2002, Tieleman 2008)."""

import keras
import tensorflow as tf

from tfgm.models._base import SingleOptimizerMixin, TrackersMixin
from tfgm._random import bernoulli as _bernoulli, seed_pair
from tfgm.models._seeds import step_seed

BINARIZE = ("stochastic", "threshold", "none")


@keras.saving.register_keras_serializable(package="tfgm")
class RBM(TrackersMixin, SingleOptimizerMixin, keras.Model):
    """p(v, h) ∝ exp(vᵀ W h + bᵀ v + cᵀ h) over binary v [V] and h [H]; weights `kernel` [V, H], `visible_bias` b
    [V], `hidden_bias` c [H].

    cd_steps: k Gibbs steps v → h → v of the negative phase. persistent: False — CD-k, chains start at the batch;
        True — PCD, `chains` persistent fantasy particles (`chain_state` [chains, V], saved in checkpoints and
        `.keras` files, so a resumed run continues the same chains) advance k steps per update. Under
        tf.distribute every replica reads the same chains with its own noise and the first replica's advance is
        kept.
    binarize: how a batch's "image" in [0, 1] becomes binary v: "stochastic" (v ~ Bernoulli(x), a fresh draw
        per step, Salakhutdinov & Murray 2008), "threshold" (x > 0.5) or "none" (x used as given).
    The update is the gradient of mean F(v⁺) − mean F(sg(v⁻)) (free energies of the data and of the negative
    samples): exactly the positive minus the negative statistics of eq. 1.28 with hidden probabilities. Logged:
    "free_energy_gap" (that difference) and "reconstruction_error" (squared error of one mean-field step, per
    example).
    """

    def __init__(self, visible, hidden, cd_steps=1, persistent=False, chains=100, binarize="stochastic", seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if binarize not in BINARIZE:
            raise ValueError(f"RBM: binarize must be one of {BINARIZE}, got {binarize!r}")
        if min(int(visible), int(hidden), int(cd_steps), int(chains)) < 1:
            raise ValueError(f"RBM: visible, hidden, cd_steps and chains must be >= 1, got {visible}, {hidden}, "
                             f"{cd_steps}, {chains}")
        self.visible, self.hidden = int(visible), int(hidden)
        self.cd_steps, self.persistent, self.chains = int(cd_steps), bool(persistent), int(chains)
        self.binarize, self.seed = binarize, int(seed)
        self.kernel = self.add_weight(shape=(self.visible, self.hidden), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=0.01, seed=self.seed))
        self.visible_bias = self.add_weight(shape=(self.visible,), initializer="zeros", name="visible_bias")
        self.hidden_bias = self.add_weight(shape=(self.hidden,), initializer="zeros", name="hidden_bias")
        self.chain_state = self.add_weight(shape=(self.chains, self.visible), initializer="zeros", trainable=False,
                                           name="chain_state", aggregation="only_first_replica")
        self._init_trackers(("free_energy_gap", "reconstruction_error"))
        self.built = True

    def initialize_from(self, data):
        """Visible biases from the data's marginals, b_i = log(p_i / (1 − p_i)) with p smoothed to [0.01, 0.99]
        (Hinton's guide), and persistent chains at Bernoulli(p) draws (seeded). data: [N, V] in [0, 1]."""
        p = tf.clip_by_value(tf.reduce_mean(tf.reshape(tf.cast(data, tf.float32), [-1, self.visible]), 0),
                             0.01, 0.99)
        self.visible_bias.assign(tf.math.log(p) - tf.math.log1p(-p))
        noise = tf.random.stateless_uniform([self.chains, self.visible], [self.seed, -1])
        self.chain_state.assign(tf.cast(noise < p, tf.float32))

    def hidden_probabilities(self, v):
        """p(h = 1 | v): v [B, V] → [B, H]."""
        return tf.sigmoid(tf.matmul(v, self.kernel) + self.hidden_bias)

    def visible_probabilities(self, h):
        """p(v = 1 | h): h [B, H] → [B, V]."""
        return tf.sigmoid(tf.matmul(h, self.kernel, transpose_b=True) + self.visible_bias)

    def free_energy(self, v):
        """F(v) = −bᵀv − Σ_j softplus(c_j + vᵀW_j), so p(v) = exp(−F(v)) / Z: v [B, V] → [B] nats."""
        v = tf.cast(v, tf.float32)
        return -tf.linalg.matvec(v, self.visible_bias) - tf.reduce_sum(
            tf.nn.softplus(tf.matmul(v, self.kernel) + self.hidden_bias), axis=-1)

    def gibbs(self, v, steps, seed):
        """`steps` block-Gibbs steps v → h → v from v [B, V] (binary) with a stateless seed [2] → binary [B, V]."""
        def step(i, v):
            seeds = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, i), 2)
            h = _bernoulli(self.hidden_probabilities(v), seeds[0])
            return i + 1, _bernoulli(self.visible_probabilities(h), seeds[1])

        return tf.while_loop(lambda i, _: i < steps, step, (tf.constant(0), v))[1]

    def sample(self, n, steps=1000, seed=0):
        """p(v = 1 | h) after `steps` Gibbs steps from Bernoulli(σ(b)) draws: [n, V] in [0, 1] (stateless: same
        (n, steps, seed), same output). seed: int or [2] int32."""
        seed = seed_pair(seed)
        start = _bernoulli(tf.broadcast_to(tf.sigmoid(self.visible_bias), [n, self.visible]),
                           tf.random.experimental.stateless_fold_in(seed, -1))
        v = self.gibbs(start, tf.maximum(tf.cast(steps, tf.int32) - 1, 0), seed)
        h = _bernoulli(self.hidden_probabilities(v), tf.random.experimental.stateless_fold_in(seed, -2))
        return self.visible_probabilities(h)

    def call(self, v, training=False):
        """v [B, V] → free energy [B]."""
        return self.free_energy(v)

    def _data(self, data, seed):
        x = data["image"] if isinstance(data, dict) else data
        x = tf.reshape(tf.cast(x, tf.float32), [-1, self.visible])
        if self.binarize == "stochastic":
            return _bernoulli(x, seed)
        return tf.cast(x > 0.5, tf.float32) if self.binarize == "threshold" else x

    def negative_samples(self, v_data, seed):
        """v⁻ of one update: k Gibbs steps from the batch (CD-k) or from `chain_state` (PCD; not stored here)."""
        start = tf.convert_to_tensor(self.chain_state) if self.persistent else v_data
        return self.gibbs(start, self.cd_steps, seed)

    def train_step(self, data):
        seeds = tf.random.experimental.stateless_split(step_seed(self.seed, self.optimizer.iterations), 2)
        v_data = self._data(data, seeds[0])
        v_model = tf.stop_gradient(self.negative_samples(v_data, seeds[1]))
        with tf.GradientTape() as tape:
            gap = tf.reduce_mean(self.free_energy(v_data)) - tf.reduce_mean(self.free_energy(v_model))
            loss = gap / float(tf.distribute.get_strategy().num_replicas_in_sync)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        if self.persistent:
            self.chain_state.assign(v_model)
        return self._update_trackers(self._terms(v_data, gap))

    def test_step(self, data):
        v_data = self._data(data, tf.constant([self.seed, -3], tf.int32))
        return self._update_trackers(self._terms(v_data, tf.constant(0.0)))

    def _terms(self, v_data, gap):
        reconstruction = self.visible_probabilities(self.hidden_probabilities(v_data))
        return {"free_energy_gap": gap,
                "reconstruction_error": tf.reduce_sum(tf.square(reconstruction - v_data), axis=-1)}

    serving_default = "sample"

    def serving_endpoints(self):
        """sample(n int32, steps int32, seed int64) → images [n, V] (p(v = 1 | h) after the chain);
        free_energy(v float32 [B, V]) → free_energy [B] nats."""
        def sample(n, steps, seed):
            return {"images": self.sample(n, steps, seed)}

        return {"sample": (sample, [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int32, name="steps"),
                                    tf.TensorSpec([], tf.int64, name="seed")]),
                "free_energy": (lambda v: {"free_energy": self.free_energy(v)},
                                [tf.TensorSpec((None, self.visible), tf.float32, name="v")])}

    def onnx_graphs(self):
        """The deterministic conditional p(h = 1 | v): v [B, V] → [B, H]."""
        return {"hidden_probabilities": (lambda v: {"hidden_probabilities": self.hidden_probabilities(v)},
                                         [tf.TensorSpec((None, self.visible), tf.float32, name="v")])}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "visible": self.visible, "hidden": self.hidden,
                "cd_steps": self.cd_steps, "persistent": self.persistent, "chains": self.chains,
                "binarize": self.binarize, "seed": self.seed}
