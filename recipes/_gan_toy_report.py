"""Tables and titles of gan_toy: each variant's mode coverage over seeds (mean ± std), the scatter titles and the
summary table."""


def _mean_std(values):
    import numpy as np

    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": [float(v) for v in values]}


def over_seeds(runs):
    """{seed: result} of one variant → modes covered and high-quality share as mean ± std (population std) over
    the seeds that finished (a diverged seed counts as 0 modes, 0 high-quality share)."""
    return {"seeds": sorted(runs), "modes_covered": _mean_std([r["modes_covered"] for r in runs.values()]),
            "high_quality_share": _mean_std([r["high_quality_share"] for r in runs.values()]),
            "diverged_seeds": sorted(seed for seed, r in runs.items() if "diverged" in r)}


def panel_title(name, stats, shown_seed):
    """Title of a variant's scatter: modes and high-quality share (mean ± std when several seeds)."""
    modes, hq = stats["modes_covered"], stats["high_quality_share"]
    if len(modes["values"]) == 1:
        return f"{name}: {modes['mean']:.0f}/25 modes, HQ {hq['mean']:.2f}"
    return (f"{name}: {modes['mean']:.1f} ± {modes['std']:.1f}/25 modes, HQ {hq['mean']:.2f} ± {hq['std']:.2f}\n"
            f"({len(modes['values'])} seeds; seed {shown_seed} shown)")


def summary_table(results):
    """Per variant: modes covered at initialization, then modes and high-quality share (mean ± std over seeds)."""
    lines = [f"{'variant':20s} {'modes (init)':>12s} {'modes':>12s} {'HQ share':>13s}  seeds", "-" * 68]
    for name, r in results.items():
        modes, hq = r["over_seeds"]["modes_covered"], r["over_seeds"]["high_quality_share"]
        lines.append(f"{name:20s} {r['init']['modes_covered']:12d} {modes['mean']:6.1f} ± {modes['std']:<4.1f} "
                     f"{hq['mean']:6.3f} ± {hq['std']:.3f}  {len(modes['values'])}")
    return "\n".join(lines)
