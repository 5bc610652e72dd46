"""recipes._cli.paper_differences: what a run does differently from the paper, as its summary lists it."""

import dataclasses

from recipes._cli import CommonConfig, paper_differences


@dataclasses.dataclass
class Config(CommonConfig):
    steps: int = 100


def test_changed_recipe_flags_and_the_precision_are_listed_run_flags_are_not():
    from tfgm.training.precision import resolve_precision

    assert paper_differences(Config(steps=100, out="elsewhere", name="x", seed=3)) == []
    assert paper_differences(Config(steps=5)) == [("--steps", 5, 100)]
    assert paper_differences(Config(precision="mixed_bfloat16")) == [("--precision", "mixed_bfloat16", "float32")]
    picked = resolve_precision("auto")[0]
    assert paper_differences(Config(precision="auto")) == [("--precision", f"auto ({picked})", "float32")]
