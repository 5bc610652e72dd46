"""Figure and tables of nce_toy: scores aggregated over seeds, the log Z figure, the summary table."""


def aggregate(runs):
    """Mean and std over seeds of each score of one ν."""
    import numpy as np

    out = {}
    for key in ("log_z_error", "total_variation", "test_log_likelihood", "test_log_likelihood_true_z"):
        values = np.array([r[key] for r in runs])
        out[f"{key}_mean"], out[f"{key}_std"] = float(values.mean()), float(values.std())
    out["log_z_abs_error_mean"] = float(np.mean([abs(r["log_z_error"]) for r in runs]))
    return out


def log_z_figure(path, cfg, nce, runs, box, truth, noise, curves, ml_tv):
    """Left: |learned − true log Z| and total variation against ν (each seed, and the mean); right: densities."""
    import numpy as np

    from tfgm.metrics import box_grid
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    nus = [int(nu) for nu in nce]
    for key, label, color in (("log_z_error", "|learned − true log Z| (nats)", "tab:blue"),
                              ("total_variation", "total variation to the truth", "tab:orange")):
        for nu in nus:
            left.scatter([nu] * len(runs[str(nu)]), [abs(r[key]) for r in runs[str(nu)]], color=color, s=12,
                         alpha=0.5)
        means = [np.mean([abs(r[key]) for r in runs[str(nu)]]) for nu in nus]
        left.plot(nus, means, "o-", color=color, label=f"{label}, mean of {cfg.repeats} seed(s)")
    left.axhline(ml_tv, color="tab:orange", ls="--", lw=1, label="total variation of the ML mixture")
    left.set(xscale="log", yscale="log", xlabel="noise ratio ν (noise samples per data point)",
             ylabel="error", title="NCE: learned log Z against the model's true log Z")
    left.set_xticks(nus, [str(nu) for nu in nus])
    left.legend(fontsize=8)
    x = box_grid(box, cfg.grid_points)[0][:, 0]
    keep = (x > -5) & (x < 5)
    right.plot(x[keep], np.exp(truth[keep]), color="black", lw=2.5, label="true density")
    right.plot(x[keep], np.exp(noise[keep]), color="0.6", ls=":", label="NCE noise (fitted Gaussian)")
    for label, log_p in curves.items():
        right.plot(x[keep], np.exp(log_p[keep]), ls="--" if label.startswith("ML") else "-", lw=1.2, label=label)
    right.set(xlabel="x", ylabel="density", title="Fitted densities (NCE normalized by its true log Z)")
    right.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def summary_table(metrics, train_points, repeats):
    """The summary: each ν's log Z error, total variation and test log-likelihoods (mean ± std over the seeds)
    beside the ML mixture's and the true density's."""
    lines = [f"NCE on ½N(−2, 0.5²) + ½N(1.5, 0.8²), {train_points} points, mean ± std over {repeats} seed(s)",
             f"{'model':16s} {'learned − true log Z':>22s} {'|error|':>8s} {'total var.':>11s} "
             f"{'test LL, true Z':>16s} {'learned c':>10s}"]
    for nu, r in metrics["nce"].items():
        lines.append(f"{'NCE ν = ' + nu:16s} {r['log_z_error_mean']:+11.4f} ± {r['log_z_error_std']:.4f} "
                     f"{r['log_z_abs_error_mean']:8.4f} {r['total_variation_mean']:11.4f} "
                     f"{r['test_log_likelihood_true_z_mean']:16.4f} {r['test_log_likelihood_mean']:10.4f}")
    ml = metrics["ml"]
    lines.append(f"{'ML mixture':16s} {'(normalized)':>22s} {'':8s} {ml['total_variation']:11.4f} "
                 f"{ml['test_log_likelihood']:16.4f}")
    lines.append(f"{'true density':16s} {'':22s} {'':8s} {0.0:11.4f} {metrics['true_test_log_likelihood']:16.4f}")
    lines.append("(test LL in nats per point; with the learned c it is off by exactly the log Z error)")
    return "\n".join(lines)
