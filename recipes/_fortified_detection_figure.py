"""The figure of fortified_detection (thesis fig. 2.4): error ratio and detection AUROC against DAE capacity."""


def detection_figure(path, results, cfg):
    """Error ratio (left) and detection AUROC (right, the model's score solid, the raw error dashed) against the
    DAE's capacity, one line per placement; `results` {placement: {capacity: measures}}."""
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for placement, marker, color in (("input", "o", "tab:blue"), ("hidden", "s", "tab:red")):
        if placement not in results:
            continue
        caps = sorted(int(c) for c in results[placement])
        values = lambda key: [results[placement][str(c)][key] for c in caps]  # noqa: E731
        axes[0].plot(caps, values("error_ratio"), f"-{marker}", color=color, label=f"DAE in {placement} space")
        axes[1].plot(caps, values("auroc"), f"-{marker}", color=color, label=f"{placement} space, {cfg.score} score")
        axes[1].plot(caps, values("auroc_raw"), f"--{marker}", color=color, alpha=0.6,
                     label=f"{placement} space, raw error")
    axes[0].axhline(1.0, color="gray", linestyle=":")
    axes[0].set(xlabel="DAE hidden units", ylabel="mean raw error adversarial / clean",
                title=f"reconstruction error ratio ({cfg.attack.upper()} ε={cfg.eps:g})")
    axes[1].axhline(0.5, color="gray", linestyle=":")
    axes[1].set(xlabel="DAE hidden units", ylabel="AUROC (adversarial vs clean)", ylim=(-0.02, 1.02),
                title=f"detection AUROC: {cfg.score} score (solid) and raw error (dashed)")
    capacities = sorted(cfg.capacities)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(capacities, [str(c) for c in capacities])
        ax.minorticks_off()
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
