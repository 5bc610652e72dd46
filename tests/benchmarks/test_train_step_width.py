"""benchmarks/train_step.py --vae-width: the discreg and vae benchmarks at the quick run's narrower VAE nets."""

import pytest

from benchmarks import _models, train_step


@pytest.mark.parametrize("build", [_models.vae_model, _models.discreg_model])
def test_the_benchmark_models_take_the_width(build):
    model = build(0.5)
    assert [model.encoder.get_layer(f"enc{i}a_conv").filters for i in range(4)] == [16, 32, 64, 128]
    assert [model.decoder.get_layer(f"dec{i}a_conv").filters for i in range(4)] == [128, 64, 32, 16]


def test_the_width_is_refused_for_a_benchmark_without_a_vae(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_step.main(["pgd40_mnist", "--vae-width", "0.5"])
    assert exit_info.value.code == 2
    assert "--vae-width applies to discreg and vae only, not pgd40_mnist" in capsys.readouterr().err
