"""Is the flagship's built-in result one lucky seed? Run `python -m recipes.discreg_celeba --quick` for several
seeds and print mean ± std of every number of its comparison table.

    python benchmarks/discreg_seeds.py --seeds 3                  # seeds 0, 1, 2 (~10 minutes each on 2 cores)
    python benchmarks/discreg_seeds.py --seeds 3 --json seeds.json -- --vae-epochs 8   # flags after -- go to the recipe

Each seed runs in its own process (`--no-export`: the export does not change the numbers) under
`--out` (default: a temporary folder, removed at the end unless --keep); with `--out`, a seed that already
finished there is read instead of re-run, so an interrupted benchmark continues. Reported per number: mean, sample
standard deviation, every seed's value, and the share of seeds where discreg beats the plain VAE; plus each
run's wall time and the load average around it (other work on the machine slows the runs, not the numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tfgm.training.atomic import write_json_atomic  # noqa: E402  (no TensorFlow import)

MODELS = ("vae", "discreg_vae")


def table_numbers(metrics: dict) -> dict:
    """The numbers of one run's comparison table, flat: {label: value}."""
    numbers = {}
    for key, pair in metrics["comparison"].items():
        for model in MODELS:
            numbers[f"{key} [{model}]"] = pair[model]
        numbers[f"{key} [discreg − plain]"] = pair["discreg_vae"] - pair["vae"]
    numbers["classifier accuracy (ceiling)"] = metrics["classifier"]["attribute_accuracy"]
    if metrics["classifier"].get("attribute_accuracy_drawn") is not None:
        numbers["classifier accuracy, drawn (ceiling)"] = metrics["classifier"]["attribute_accuracy_drawn"]
    for name in ("majority", "mean_image"):
        block = metrics["baselines"][name]
        numbers[f"blind baseline: {name}"] = block["mean"]
        if block.get("drawn") is not None:
            numbers[f"blind baseline: {name}, drawn"] = block["drawn"]
    return numbers


def summarize(runs: list[dict]) -> dict:
    """{label: {"mean", "std", "values"}} over runs (each a table_numbers dict); std is 0 for one run."""
    labels = list(runs[0])
    out = {}
    for label in labels:
        values = [r[label] for r in runs]
        out[label] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                      "values": values}
    return out


def format_summary(summary: dict, higher: dict) -> str:
    width = max(len(k) for k in summary)
    lines = [f"{'number':{width}s}  {'mean':>10s}  {'± std':>9s}  per seed", "-" * (width + 50)]
    for label, s in summary.items():
        per_seed = " ".join(f"{v:.4f}" for v in s["values"])
        lines.append(f"{label:{width}s}  {s['mean']:10.4f}  {s['std']:9.4f}  {per_seed}")
    wins = [f"{key}: discreg better in {count}/{total} seeds" for key, (count, total) in higher.items()]
    return "\n".join(lines + ["", *wins])


def discreg_wins(metrics_list: list[dict]) -> dict:
    """{table key: (seeds where discreg is better, seeds)}."""
    wins = {}
    for key in metrics_list[0]["comparison"]:
        pairs = [m["comparison"][key] for m in metrics_list]
        better = sum((p["discreg_vae"] > p["vae"]) == p["higher_is_better"] for p in pairs)
        wins[key] = (better, len(pairs))
    return wins


def run_seed(seed: int, out: str, extra: list[str]) -> tuple[dict, dict]:
    """Run the quick recipe for `seed` (or read its metrics.json if a finished run is already under `out`);
    returns (metrics.json, timing)."""
    name = f"seed{seed}"
    finished = os.path.join(out, "discreg_celeba", name, "metrics.json")
    if os.path.exists(finished):
        with open(finished) as f:
            return json.load(f), {"seed": seed, "wall_s": None, "reused": finished}
    command = [sys.executable, "-m", "recipes.discreg_celeba", "--quick", "--seed", str(seed), "--out", out,
               "--name", name, "--no-export", *extra]
    load_before = os.getloadavg()[0]
    start = time.time()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"seed {seed}: the recipe exited {done.returncode} (its output is above)")
    with open(os.path.join(out, "discreg_celeba", name, "metrics.json")) as f:
        metrics = json.load(f)
    return metrics, {"seed": seed, "wall_s": wall, "load_before": load_before, "load_after": os.getloadavg()[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds, 0 … N−1 (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--out", default="", help="root of the run directories (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary run directories")
    parser.add_argument("--json", default="", help="also write the summary here")
    parser.add_argument("recipe_flags", nargs="*", help="flags passed to the recipe (after --)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    out = args.out or tempfile.mkdtemp(prefix="discreg_seeds_")
    try:
        metrics_list, timings = [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            print(f"seed {seed} ...", flush=True)
            metrics, timing = run_seed(seed, out, args.recipe_flags)
            metrics_list.append(metrics)
            timings.append(timing)
            if timing["wall_s"] is None:
                print(f"  read {timing['reused']} (an earlier run)", flush=True)
            else:
                print(f"  {timing['wall_s']:.0f} s (load {timing['load_before']:.1f} → {timing['load_after']:.1f})",
                      flush=True)
        summary = summarize([table_numbers(m) for m in metrics_list])
        wins = discreg_wins(metrics_list)
        print()
        print(format_summary(summary, wins))
        if args.json:
            write_json_atomic(args.json, {"summary": summary, "discreg_wins": wins, "runs": timings,
                                          "recipe_flags": args.recipe_flags, "differs_from_paper":
                                          metrics_list[0].get("differs_from_paper")})
    finally:
        if not args.out and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
