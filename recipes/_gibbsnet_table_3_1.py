"""Table 3.1 of a GibbsNet dataset run (ALI vs GibbsNet: IS and FID of chain samples and inpaintings, latent
probe accuracy) with the protocol of every number, beside the thesis' row and why the two are not comparable."""

from recipes._gibbsnet_common import inpainting_protocol

THESIS_TABLE_3_1 = {"ali": {"inception_score_samples": 5.41, "inception_score_inpainting": 5.59},
                    "gibbsnet": {"inception_score_samples": 5.69, "inception_score_inpainting": 6.15},
                    "protocol": "CIFAR-10 (thesis §3.6.2: 'inception scores on CIFAR-10 using the standard method and "
                                "code released from Salimans et al.'; real images 11.24), the Inception network; "
                                "inpainting: left half fixed, the chain run for four steps (Table 3.1's caption); "
                                "samples: unconditional (steps not stated); authors' code: 2 splits"}
ROWS = (("inception_score_samples", "IS, chain samples"), ("inception_score_inpainting", "IS, inpainting"),
        ("fid_samples", "FID, chain samples"), ("fid_inpainting", "FID, inpainting"),
        ("latent_probe_accuracy", "latent probe accuracy"))


def table_metrics(cfg, results, scoring, real_count):
    """metrics.json's "table_3_1" and "protocol" from the per-model `results` ({"ali", "gibbsnet"} → "scores",
    "latent_probe"); `scoring`: the scoring network in words; `real_count`: real images of FID."""
    table = {name: {"inception_score_samples": r["scores"]["samples"]["inception_score"],
                    "inception_score_inpainting": r["scores"]["inpainting"]["inception_score"],
                    "fid_samples": r["scores"]["samples"]["fid"], "fid_inpainting": r["scores"]["inpainting"]["fid"],
                    "latent_probe_accuracy": r["latent_probe"]["accuracy"]} for name, r in results.items()}
    protocols = row_protocols(cfg, real_count)
    return {
        "table_3_1": {"this_run": table, "this_run_protocol": protocols, "thesis": THESIS_TABLE_3_1,
                      "comparable_with_thesis": False,
                      "why_not": f"this run scores --data {cfg.data} with a {scoring}; the thesis scores "
                                 "CIFAR-10 with the Inception network"},
        "protocol": {
            "scoring_network": scoring + ", so numbers are not comparable with the thesis'",
            "samples": f"unclamped chain after {cfg.chain_steps} steps from z0 ~ N(0, I)",
            "inpainting": inpainting_protocol(cfg),
            "inception_score_splits": cfg.score_splits, "fid_real_examples": real_count,
            "latent_probe": protocols["latent_probe_accuracy"],
        },
    }


def row_protocols(cfg, real_count):
    """The protocol of each number of the table, in words (key → text)."""
    samples = f"{cfg.chain_steps}-step chain from N(0, I), {cfg.score_samples} samples"
    inpainting = inpainting_protocol(cfg).replace("test images, ", "test set, ")
    return {"inception_score_samples": f"{samples}, {cfg.score_splits} splits",
            "inception_score_inpainting": f"{inpainting}; {cfg.score_splits} splits",
            "fid_samples": f"{samples} vs {real_count} test images",
            "fid_inpainting": f"{inpainting}; vs {real_count} test images",
            "latent_probe_accuracy": f"MLP {list(cfg.probe_hidden)} on the posterior mean of q(z|x), "
                                     f"{cfg.probe_epochs} epochs, test accuracy"}


def summary(table, protocols, scoring, data):
    """Plain-text table 3.1 of this run (ALI vs GibbsNet), the protocol beside every row, and the thesis' row
    with its own protocol and why it is not comparable."""
    lines = [f"{'metric':24s} {'ALI':>9s} {'GibbsNet':>9s}  protocol", "-" * 100]
    lines += [f"{label:24s} {table['ali'][key]:9.4f} {table['gibbsnet'][key]:9.4f}  {protocols[key]}"
              for key, label in ROWS]
    ali, gibbs = THESIS_TABLE_3_1["ali"], THESIS_TABLE_3_1["gibbsnet"]
    other = ("another scoring network" if data == "cifar10" else "another dataset and scoring network")
    lines += ["", f"IS and FID: {scoring}.",
              "Thesis Table 3.1 (CIFAR-10, Inception network; inpainting: left half given, 4 steps): IS of samples "
              f"ALI {ali['inception_score_samples']} / GibbsNet {gibbs['inception_score_samples']}, of inpaintings "
              f"ALI {ali['inception_score_inpainting']} / GibbsNet {gibbs['inception_score_inpainting']}; "
              f"{other}: not comparable with the numbers above."]
    return "\n".join(lines)
