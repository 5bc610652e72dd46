"""Teacher forcing vs scheduled sampling on text8 (thesis §1.2.1; Bengio et al. 2015): do a character LSTM's
errors compound when it feeds back its own samples, and does scheduled sampling reduce that?

Each variant trains the same character LSTM (tfgm.models.CharModel: 27 symbols, one LSTM layer, the fortified
layer of recipes.fortified_text8 on its state, CE + λ_rec·L_rec) with a different input feed:
  teacher_forcing   the true previous character at every step;
  linear            scheduled sampling, ε_i = max(ε_end, 1 − c·i);
  exponential       ε_i = max(ε_end, k^i);
  inverse_sigmoid   ε_i = max(ε_end, k / (k + exp(i/k)));
where ε_i is the probability of feeding the true character at training step i (otherwise a draw from the model's
own previous output), each decay reaching --final-probability (ε_end) at the last step. Then per variant:
validation and test bits per character under teacher forcing, and fortified_text8's drift measure — the ratio of
the mean reconstruction error ‖D(E(h_t)) − h_t‖² of the LSTM state, free running / teacher forcing, from the
same test contexts, after 50, 180 and 300 sampled steps (fortified_text8 measured 1.03 / 1.12 / 1.34 for teacher
forcing in thesis table 2.7). Prints samples; writes images/free_running_ratio.png (ε_i and the ratio per step),
metrics.json and each model (exported: `sample(prefix, n_chars, temperature, seed)` served).

    python -m recipes.autoregressive_text8 --text8 ~/data/text8.zip     # the comparison (a GPU is advisable)
    python -m recipes.autoregressive_text8 --quick                      # built-in corpus, small LSTM, minutes
    python -m recipes.autoregressive_text8 --quick --variant teacher_forcing linear

--quick without --text8 uses a corpus generated in code (tfgm.data.builtin_text), not text8: its numbers only
prove the path.
"""

import dataclasses
import math
import os
import sys

from recipes._cli import CommonConfig
from recipes._experiment import Experiment
from recipes._fortified_text8_data import DATASETS, check_splits, data_name, lm_dataset, read_splits
from recipes._text8_report import THESIS_RATIOS, schedule_and_ratio_figure, variants_table

RECIPE = "autoregressive_text8"
VARIANTS = ("teacher_forcing", "linear", "exponential", "inverse_sigmoid")


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="text8", metadata={"help": DATASETS})
    text8: str = dataclasses.field(default="", metadata={"help": "local text8.zip (implies --data text8)"})
    variant: tuple[str, ...] = dataclasses.field(default=VARIANTS, metadata={
        "help": f"input feeds to train, repeatable: {' | '.join(VARIANTS)}"})
    final_probability: float = dataclasses.field(default=0.25, metadata={
        "help": "ε at the last training step (and its floor after) for every decay: the share of true characters "
                "fed then"})
    sequence_length: int = dataclasses.field(default=180, metadata={"help": "training window (characters)"})
    batch_size: int = dataclasses.field(default=128, metadata={"help": "global batch size"})
    units: int = dataclasses.field(default=1000, metadata={"help": "LSTM units"})
    embedding_dim: int = dataclasses.field(default=64, metadata={"help": "character embedding width"})
    dae_units: int = dataclasses.field(default=256, metadata={
        "help": "hidden units of the fortified layer's DAE (its reconstruction error is the drift measure)"})
    noise_stddev: float = dataclasses.field(default=0.1, metadata={"help": "σ of the DAE's training noise"})
    lambda_rec: float = dataclasses.field(default=1.0, metadata={"help": "weight of the reconstruction loss"})
    learning_rate: float = dataclasses.field(default=1e-3, metadata={"help": "Adam learning rate"})
    train_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of --steps-per-epoch steps"})
    steps_per_epoch: int = dataclasses.field(default=1000, metadata={"help": "training steps per epoch"})
    eval_windows: int = dataclasses.field(default=2000, metadata={"help": "windows for validation/test bits per char"})
    ratio_steps: tuple[int, ...] = dataclasses.field(default=(50, 180, 300), metadata={
        "help": "sampled steps at which the drift ratio is reported"})
    context: int = dataclasses.field(default=50, metadata={"help": "teacher-forced characters before sampling"})
    ratio_sequences: int = dataclasses.field(default=1000, metadata={"help": "test contexts averaged over"})
    temperature: float = dataclasses.field(default=1.0, metadata={"help": "sampling temperature"})
    builtin_chars: int = dataclasses.field(default=400_000, metadata={"help": "size of the built-in corpus"})

    @staticmethod
    def quick_overrides():
        """--quick: the built-in corpus, a 128-unit LSTM, 3 × 100 steps per variant, 200 contexts, and decays
        only to ε = 0.75 (in 300 steps a model fed mostly its own early samples learns to ignore its input)."""
        return {"data": "builtin_text", "units": 128, "embedding_dim": 32, "dae_units": 64, "sequence_length": 100,
                "batch_size": 64, "train_epochs": 3, "steps_per_epoch": 100, "eval_windows": 100,
                "ratio_sequences": 200, "final_probability": 0.75}


def build_model(cfg, variant):
    """The CharModel of `variant`, its decay reaching --final-probability at the last step; compiled."""
    import keras

    from tfgm.models import CharModel
    from tfgm.models.char_model import schedule_parameters

    total = cfg.stage_epochs(cfg.train_epochs) * cfg.steps_per_epoch
    k, c = schedule_parameters(variant, total, cfg.final_probability)
    keras.utils.set_random_seed(cfg.seed)
    model = CharModel(vocab=27, units=cfg.units, embedding_dim=cfg.embedding_dim, dae_units=cfg.dae_units,
                      noise_stddev=cfg.noise_stddev, lambda_rec=cfg.lambda_rec, schedule=variant, schedule_k=k,
                      schedule_c=c, min_teacher_probability=0.0 if variant == "teacher_forcing" else
                      cfg.final_probability, seed=cfg.seed, name=variant)
    model.compile(keras.optimizers.Adam(cfg.learning_rate))
    return model


class AutoregressiveText8(Experiment):
    recipe, config = RECIPE, Config

    def check(self, cfg):
        if data_name(cfg) not in ("text8", "builtin_text", "npz"):
            raise ValueError(f"--data takes {DATASETS}; got {cfg.data!r}")
        unknown = sorted(set(cfg.variant) - set(VARIANTS))
        if unknown or not cfg.variant:
            raise ValueError(f"--variant takes {' | '.join(VARIANTS)}, got {' '.join(unknown) or 'none'}")
        if not 0.0 < cfg.final_probability < 1.0:
            raise ValueError(f"--final-probability must be in (0, 1), got {cfg.final_probability}")
        if cfg.dae_units < 1:
            raise ValueError("--dae-units must be >= 1: the drift measure is the fortified layer's reconstruction "
                             "error of the LSTM state")
        if cfg.context < 1 or min(cfg.ratio_steps) < 1 or cfg.temperature <= 0 or cfg.ratio_sequences < 1:
            raise ValueError("--context, --ratio-steps and --ratio-sequences must be >= 1 and --temperature > 0")

    def load(self, cfg):
        splits = read_splits(cfg)
        check_splits(cfg, splits)
        return splits

    def train(self, splits):
        cfg, models = self.cfg, {}
        validation = lm_dataset(splits["validation"], cfg.sequence_length, cfg.batch_size, limit=cfg.eval_windows)
        for variant in dict.fromkeys(cfg.variant):
            train = lm_dataset(splits["train"], cfg.sequence_length, cfg.batch_size, seed=cfg.seed)
            models[variant] = self.stage(variant, lambda v=variant: build_model(cfg, v),
                                         {"x": train, "steps_per_epoch": cfg.steps_per_epoch,
                                          "validation_data": validation,
                                          "epochs": cfg.stage_epochs(cfg.train_epochs)})
        return models

    def evaluate(self, models, splits):
        import numpy as np

        from tfgm.data import text8
        from tfgm.metrics import drift_at_steps, recurrent_stepper, unigram_bits

        cfg = self.cfg
        windows = {s: lm_dataset(splits[s], cfg.sequence_length, cfg.batch_size, limit=cfg.eval_windows)
                   for s in ("validation", "test")}
        total = cfg.stage_epochs(cfg.train_epochs) * cfg.steps_per_epoch
        steps = np.linspace(0, total, 200).astype(np.int64)
        variants, drifts, schedules = {}, {}, {}
        for name, model in models.items():
            bits = {s: model.evaluate(d, return_dict=True, verbose=0)["bits_per_char"] for s, d in windows.items()}
            step = recurrent_stepper(model.embedding, model.lstm.cell, model.dae, model.readout, cfg.context,
                                     cfg.temperature)
            drifts[name] = drift_at_steps(step, splits["test"], cfg.context, cfg.ratio_steps, cfg.ratio_sequences,
                                          cfg.batch_size, seed=cfg.seed)
            schedules[name] = (steps, [float(model.teacher_probability(s)) for s in steps])
            samples = [text8.decode(s) for s in drifts[name].pop("samples")]
            variants[name] = {
                "validation_bits_per_character": bits["validation"], "test_bits_per_character": bits["test"],
                "ratio_free_running_over_teacher_forcing": drifts[name]["ratio"],
                "per_step": {k: drifts[name][k] for k in ("free_running_error", "teacher_forcing_error",
                                                          "ratio_per_step")},
                "schedule": {"name": model.schedule, "k": model.schedule_k, "c": model.schedule_c,
                             "floor": model.min_teacher_probability,
                             "epsilon_first_last": [schedules[name][1][0], schedules[name][1][-1]]},
                "samples": [{"context": s[:cfg.context], "sampled": s[cfg.context:]} for s in samples]}
        image = schedule_and_ratio_figure(os.path.join(self.run.images_dir, "free_running_ratio.png"), cfg.context,
                                          drifts, schedules)
        return {
            "data": data_name(cfg), "variants": variants,
            "blind_baselines": {"uniform_bits_per_character": math.log2(27),
                                "unigram_bits_per_character": unigram_bits(splits["train"], 27)},
            "thesis_reference": {"note": "table 2.7 (fortified_text8: text8, 1000-unit LSTM, teacher forcing), NOT "
                                         "measured in this run",
                                 "ratio": {str(k): v for k, v in THESIS_RATIOS.items()}},
            "protocol": {"bits_per_character": f"teacher forced, mean over ≤ {cfg.eval_windows} windows of "
                                               f"{cfg.sequence_length}", "contexts": cfg.ratio_sequences,
                         "context_characters": cfg.context, "temperature": cfg.temperature,
                         "score": "‖D(E(h_t)) − h_t‖² of the LSTM state after reading character t, noise-free; "
                                  "ratio = mean over contexts (free running) / mean (teacher forcing) per sampled "
                                  "step; the same contexts and sampling seeds for every variant",
                         "training": f"{total} steps per variant, CE + λ_rec·L_rec (λ = {cfg.lambda_rec}), decays "
                                     f"reaching ε = {cfg.final_probability} at the last step"},
            "images": [os.path.relpath(image, self.run.path)],
        }

    def summary(self, models, metrics):
        return variants_table(self.cfg.ratio_steps, metrics)


main = AutoregressiveText8(description=__doc__).main


if __name__ == "__main__":
    sys.exit(main())
