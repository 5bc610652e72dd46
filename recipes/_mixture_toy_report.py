"""Figures and tables of mixture_toy: the MDN's draws against Bishop's data, the summary table."""


def mdn_figure(path, x, t, draws):
    """One panel per MDN (`draws` {title: (x, t̂)}) over the data (x, t)."""
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(draws), figsize=(4.2 * len(draws), 3.8), squeeze=False)
    for ax, (title, (xs, ts)) in zip(axes[0], draws.items()):
        ax.scatter(x[:, 0], t[:, 0], s=2, c="0.75", label="data")
        ax.scatter(xs[:, 0], ts[:, 0], s=2, c="tab:blue", alpha=0.5, label="draws t̂ ~ p(t | x)")
        ax.set(xlabel="x", ylabel="t", title=title, xlim=(-0.2, 1.2), ylim=(-0.3, 1.3))
        ax.legend(fontsize=7, loc="upper left", markerscale=4)
    fig.tight_layout()
    return save_figure(fig, path)


def summary_table(metrics):
    """Test log-likelihood, modes and high-quality share of each grid mixture beside the true mixture's; test
    log-likelihood and consistent draws of each MDN beside the data's own."""
    lines = [f"{'grid mixture':14s} {'test log-lik':>12s} {'modes':>7s} {'HQ share':>9s}"]
    for k, r in metrics["grid"].items():
        lines.append(f"{'K = ' + k:14s} {r['test_log_likelihood']:12.3f} {r['modes_covered']:4d}/25 "
                     f"{r['high_quality_share']:9.3f}")
    lines.append(f"{'true mixture':14s} {metrics['grid_true_mixture_log_likelihood']:12.3f} {25:4d}/25")
    lines.append(f"\n{'Bishop MDN':14s} {'test log-lik':>12s} {'consistent draws':>17s}")
    for k, r in metrics["mdn"].items():
        lines.append(f"{'K = ' + k:14s} {r['test_log_likelihood']:12.3f} {r['consistent_share']:17.3f}")
    lines.append(f"{'data itself':14s} {'':12s} {metrics['mdn_true_data_consistent_share']:17.3f}")
    return "\n".join(lines)
