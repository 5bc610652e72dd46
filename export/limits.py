"""Request limits of served endpoints: the largest batch, ``n`` and ``steps`` one request may ask for.

An input's role comes from its signature: a leading unknown dim is the batch; integer scalars named ``n``
(examples to draw) and ``steps`` (chain steps) are the sizes a request chooses. Defaults are sized for a
24 GiB host: the CelebA VAE's ``decode`` peaks near 1.4 MB per example (13.7 GB at batch 10000), so
1024 examples take about 1.4 GB and eight concurrent requests stay under half the host. A chain holds
one step in memory whatever ``steps`` is; ``max_steps`` bounds the time a request can take.
"""

from __future__ import annotations

import dataclasses

LIMIT_NAMES = ("max_batch", "max_n", "max_steps")
COUNT_INPUTS = {"n": "max_n", "steps": "max_steps"}
MIN_VALUE = {"n": 0, "steps": 1}
FLAGS = {"max_batch": "--max-batch", "max_n": "--max-n", "max_steps": "--max-steps"}


@dataclasses.dataclass(frozen=True)
class RequestLimits:
    """Largest batch (leading dim of every batched input), ``n`` and ``steps`` one request may ask for."""

    max_batch: int = 1024
    max_n: int = 1024
    max_steps: int = 1000

    def __post_init__(self):
        for name in LIMIT_NAMES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"request limit {name} must be a positive integer, got {value!r} "
                                 f"(set it with {FLAGS[name]} N)")

    def updated(self, overrides: dict | None) -> RequestLimits:
        """These limits with ``overrides`` ({limit name: int or None}; None keeps the value) applied."""
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(LIMIT_NAMES))
        if unknown:
            raise ValueError(f"unknown request limit {', '.join(unknown)}; known: {', '.join(LIMIT_NAMES)}")
        return dataclasses.replace(self, **overrides)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


DEFAULT_LIMITS = RequestLimits()


def is_batched(spec) -> bool:
    """True for an input whose leading dim is the (unknown) batch."""
    return spec.shape.rank is not None and spec.shape.rank >= 1 and spec.shape[0] is None


def count_input(spec) -> str | None:
    """``"n"`` or ``"steps"`` for an integer scalar of that name, else None."""
    if spec.name in COUNT_INPUTS and spec.shape.rank == 0 and spec.dtype.is_integer:
        return spec.name
    return None


def applicable(specs, limits: RequestLimits) -> dict:
    """The limits that ``specs`` use: ``{"max_batch": …}`` if any input is batched, ``max_n``/``max_steps``
    if there is an ``n``/``steps`` input. What ``export_report.json`` records per signature."""
    used = {}
    if any(is_batched(s) for s in specs):
        used["max_batch"] = limits.max_batch
    for spec in specs:
        role = count_input(spec)
        if role:
            used[COUNT_INPUTS[role]] = getattr(limits, COUNT_INPUTS[role])
    return used
