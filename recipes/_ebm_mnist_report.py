"""Figures and table of ebm_mnist: the energy histogram, the labelled rows of images, the summary."""

GROUPS = ("data", "samples", "buffer_samples", "noise")
LABELS = {"data": "test images", "samples": "Langevin from uniform noise", "buffer_samples": "Langevin from the buffer",
          "noise": "uniform noise"}


def energy_histogram(path, energy):
    """One labelled histogram of the energies of each group on shared bins."""
    import numpy as np

    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    bins = np.linspace(min(e.min() for e in energy.values()), max(e.max() for e in energy.values()), 60)
    for k in GROUPS:
        ax.hist(energy[k], bins=bins, alpha=0.55, density=True, label=f"{LABELS[k]} (mean {energy[k].mean():.2f})")
    ax.set(xlabel="energy E(x) (lower = more probable under the model)", ylabel="density",
           title="Energies of test digits, model samples and noise")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def sample_rows(path, images, steps, columns=12):
    """Rows of test images, samples from noise, samples from the buffer and noise, each row labelled."""
    import numpy as np

    from tfgm.training.figures import labelled_image_rows

    rows = np.stack([images[k][:columns] for k in GROUPS])
    labels = [LABELS[k] + ("" if k in ("data", "noise") else f"\n({steps} steps)") for k in GROUPS]
    return labelled_image_rows(path, rows, labels, title="Deep energy model: data, samples, noise")


def summary_table(metrics):
    """Mean and std of the energy of each group, beside the AUROC of energy and of the blind energy separating
    test images from it."""
    lines = ["energies (lower = likelier under the model) and the AUROC of energy separating test images from "
             "each group (1: always higher; 0.5: indistinguishable, the ideal for samples)",
             f"{'group':30s} {'mean E':>9s} {'std':>8s} {'AUROC':>7s} {'blind ‖x−x̄‖²':>13s}"]
    for k in GROUPS:
        e = metrics["energy"][k]
        auroc = "" if k == "data" else f"{metrics['auroc']['data_vs_' + k]:7.3f}"
        blind = "" if k == "data" else f"{metrics['baseline_auroc']['data_vs_' + k]:13.3f}"
        lines.append(f"{LABELS[k]:30s} {e['mean']:9.3f} {e['std']:8.3f} {auroc:>7s} {blind:>13s}")
    lines.append(f"(samples: {metrics['protocol']['sample_steps']} Langevin steps; Du & Mordatch report no "
                 f"MNIST energies to compare with)")
    return "\n".join(lines)
