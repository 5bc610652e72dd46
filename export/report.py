"""``export_report.json`` and the summary table printed by ``python -m export``."""

from __future__ import annotations

import importlib.metadata

from tfgm.training.atomic import write_json_atomic

TOOLS = ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime")


def tool_versions() -> dict[str, str | None]:
    """Installed versions of the tools that made the export (``None`` if one is missing)."""
    versions = {}
    for name in TOOLS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_report(path: str, report: dict) -> None:
    """Write the report atomically (non-finite errors become ``null``)."""
    write_json_atomic(path, report)


def _err(value) -> str:
    return "-" if value is None else f"{value:.1e}"


def table_rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """``(model, format, endpoint or graph, max |error|, status)`` per exported piece."""
    rows = []
    for model, entry in report["models"].items():
        if entry.get("skipped"):
            rows.append((model, "-", "-", "-", "skipped (nothing to serve)"))
            continue
        if entry.get("error"):
            rows.append((model, "-", "-", "-", "FAIL: " + entry["error"].splitlines()[0][:100]))
            continue
        saved = entry["savedmodel"]
        chains = saved.get("chain_statistics", {})
        for name, parity in saved["parity"].items():
            err = max(r["max_abs_error"] for r in parity)
            ok = all(r["passed"] for r in parity)
            status = "ok" if ok else "FAIL parity"
            if name in chains:
                status += "; chain statistics " + ("ok" if chains[name]["passed"] else "FAIL")
            rows.append((model, "savedmodel", name, _err(err), status))
        for name, graph in entry.get("onnx", {}).items():
            if graph.get("error"):
                rows.append((model, "onnx", name, "-", "FAIL: " + graph["error"].splitlines()[0][:100]))
            else:
                rows.append((model, "onnx", name, _err(graph["max_abs_error"]),
                             "ok" if graph["passed"] else "FAIL parity"))
    return rows


def format_table(report: dict) -> str:
    """A plain-text table of ``table_rows`` with a header."""
    rows = [("model", "format", "endpoint", "max|err|", "status")] + table_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows)
