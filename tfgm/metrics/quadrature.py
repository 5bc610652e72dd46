"""Normalizers and distances of low-dimensional densities by quadrature on an even grid (for toy problems whose
truth must be known exactly, e.g. whether NCE's learned log Z is the model's real one)."""

import numpy as np


def box_grid(bounds, points):
    """Midpoints of `points` cells per axis over the box `bounds` [(low, high)] * d: (x [points^d, d] float32,
    cell volume). d ≤ 3 (points^d evaluations)."""
    bounds = np.asarray(bounds, np.float64).reshape(-1, 2)
    if len(bounds) > 3 or np.any(bounds[:, 1] <= bounds[:, 0]) or int(points) < 2:
        raise ValueError(f"box_grid: 1 to 3 axes with low < high and points >= 2, got {bounds.tolist()}, {points}")
    widths = (bounds[:, 1] - bounds[:, 0]) / int(points)
    axes = [low + width * (np.arange(int(points)) + 0.5) for (low, _), width in zip(bounds, widths)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(bounds))
    return grid.astype(np.float32), float(np.prod(widths))


def log_densities_on_grid(log_density_fn, bounds, points=2000, batch=65536):
    """(log f(x) [M] float64 at the grid's midpoints, cell volume) for `log_density_fn`: x [B, d] → [B]."""
    grid, cell = box_grid(bounds, points)
    values = [np.asarray(log_density_fn(grid[i:i + batch]), np.float64).reshape(-1)
              for i in range(0, len(grid), batch)]
    return np.concatenate(values), cell


def log_partition_on_grid(energy_fn, bounds, points=2000):
    """log ∫_box exp(−E(x)) dx by the midpoint rule (a logsumexp in float64): energy_fn x [B, d] → [B]. Exact up
    to the mass outside the box and O(cell²) — choose a box that holds all of it."""
    log_f, cell = log_densities_on_grid(lambda x: -np.asarray(energy_fn(x), np.float64).reshape(-1), bounds, points)
    top = log_f.max()
    return float(top + np.log(np.exp(log_f - top).sum() * cell))


def total_variation_on_grid(log_p, log_q, cell):
    """½ ∫ |p − q| from log densities on the same grid ([M] each, nats) and its cell volume: in [0, 1]."""
    return float(0.5 * np.abs(np.exp(np.asarray(log_p, np.float64)) - np.exp(np.asarray(log_q, np.float64))).sum()
                 * cell)
