"""What the kernel says about this CPU (/proc/cpuinfo), without importing TensorFlow."""

from __future__ import annotations


def cpu_fields(path: str = "/proc/cpuinfo") -> dict[str, str]:
    """The first processor's fields, keys lower-cased ("model name", "cpu family", "model", "flags", ...); empty
    where ``path`` does not exist (e.g. not Linux)."""
    fields: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    return fields


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where ``path`` does not exist)."""
    return frozenset(cpu_fields(path).get("flags", "").split())
