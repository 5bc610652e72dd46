"""Figures and tables of the text8 drift recipes (fortified_text8, autoregressive_text8): the free-running /
teacher-forcing ratio of the fortified layer's reconstruction error beside the thesis' table 2.7."""

THESIS_RATIOS = {50: 1.03, 180: 1.12, 300: 1.34}
"""Thesis table 2.7: the ratio after 50, 180 and 300 sampled steps (text8, 1000-unit LSTM, teacher forcing)."""


def ratio_figure(path, result):
    """fortified_text8's figure: the ratio per sampled step (`result` of `tfgm.metrics.drift_at_steps`)."""
    import numpy as np

    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = np.arange(1, len(result["ratio_per_step"]) + 1)
    ax.plot(steps, result["ratio_per_step"], label=f"this run ({result['num_sequences']} contexts)")
    ax.plot(list(THESIS_RATIOS), list(THESIS_RATIOS.values()), "k^", label="thesis table 2.7 (text8, reference)")
    ax.axhline(1.0, color="gray", linestyle=":")
    ax.set(xlabel="sampled steps", ylabel="reconstruction error free running / teacher forcing",
           title="fortified LSTM: free running vs teacher forcing")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def schedule_and_ratio_figure(path, context, results, schedules):
    """autoregressive_text8's figure: each variant's ε during training (`schedules` {name: (steps, ε)}) and its
    ratio per sampled step after `context` true characters (`results` {name: drift result})."""
    import numpy as np

    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, (steps, eps) in schedules.items():
        left.plot(steps, eps, label=name)
    left.set(xlabel="training step", ylabel="ε: probability of feeding the true character",
             title="teacher-forcing probability during training", ylim=(-0.02, 1.02))
    for name, r in results.items():
        right.plot(np.arange(1, len(r["ratio_per_step"]) + 1), r["ratio_per_step"], label=name)
    right.plot(list(THESIS_RATIOS), list(THESIS_RATIOS.values()), "k^",
               label="thesis table 2.7, teacher forcing (text8, reference)")
    right.axhline(1.0, color="gray", linestyle=":")
    right.set(xlabel="sampled steps", ylabel="state reconstruction error, free running / teacher forcing",
              title=f"drift after the context ({context} true characters)")
    for ax in (left, right):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def variants_table(ratio_steps, metrics):
    """autoregressive_text8's summary: per variant ε first → last, bits per character and the ratios at
    `ratio_steps`, the thesis' row, the blind baselines and a sample of each."""
    base, steps = metrics["blind_baselines"], [str(k) for k in ratio_steps]
    lines = [f"{'variant':16s} {'ε first→last':>13s} {'val bits/char':>13s} {'test bits/char':>14s}  "
             + " ".join(f"{'ratio@' + k:>10s}" for k in steps)]
    for name, v in metrics["variants"].items():
        first, last = v["schedule"]["epsilon_first_last"]
        lines.append(f"{name:16s} {first:6.2f}→{last:<6.2f} {v['validation_bits_per_character']:13.3f} "
                     f"{v['test_bits_per_character']:14.3f}  "
                     + " ".join(f"{v['ratio_free_running_over_teacher_forcing'][k]:10.3f}" for k in steps))
    ref = " ".join(f"{THESIS_RATIOS.get(int(k), float('nan')):10.2f}" for k in steps)
    lines.append(f"{'thesis (TF, 2.7)':16s} {'':13s} {'-':>13s} {'-':>14s}  {ref}")
    lines.append(f"blind baselines: uniform {base['uniform_bits_per_character']:.3f} bits/char, unigram "
                 f"{base['unigram_bits_per_character']:.3f}")
    for name, v in metrics["variants"].items():
        s = v["samples"][0]
        lines.append(f"sample [{name}]: {s['context']!r} → {s['sampled'][:120]!r}")
    if metrics["data"] == "builtin_text":
        lines.append("(built-in generated corpus, not text8: these numbers only prove the path)")
    return "\n".join(lines)
