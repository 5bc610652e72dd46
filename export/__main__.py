"""``python -m export RUN_DIR``: SavedModel (TF Serving) + ONNX export of a run, with parity checks."""

from __future__ import annotations

import argparse
import logging
import sys

from .limits import DEFAULT_LIMITS

EPILOG = """\
writes, under RUN_DIR/export/:
  savedmodel/<model>/<version>/   SavedModel, the layout TF Serving watches (every endpoint + serving_default)
  onnx/<model>_<graph>.onnx       deterministic sub-graphs (opset 17), e.g. the decoder
  export_report.json              signatures, request limits, parity per batch size, ONNX op counts, tool versions
                                  (merged: a failed re-export never replaces a passing entry; its own report
                                  is written next to it as export_report.failed-<time>.json)
models with nothing to serve (no serving endpoints, e.g. a classifier used in training) are skipped with a note.
exit status: 0 all checks passed, 1 a parity/validity check failed, 2 bad arguments or run directory.
serving instructions: export/SERVING.md
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m export", description=__doc__.split(":", 1)[1].strip(), epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory runs/<recipe>/<name>/ with models/*.keras")
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="export only these models (file names in RUN_DIR/models/ without .keras); default: all")
    parser.add_argument("--version", type=int, default=1,
                        help="SavedModel version folder (default 1); an existing one is replaced only if the new "
                             "export passes; a running TF Serving may keep the copy it loaded: bump it to redeploy")
    parser.add_argument("--no-onnx", dest="onnx", action="store_false", help="skip the ONNX export")
    parser.add_argument("--onnx-layout", choices=("nhwc_float", "nchw_uint8"), default="nhwc_float",
                        help="nchw_uint8: also write each z -> images graph as <model>_<graph>_nchw_uint8.onnx, "
                             "uint8 [B, 3, H, W] as torch-fidelity reads generators (default: only float NHWC)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 7, 64], metavar="B",
                        help="batch sizes of the parity checks (default: 1 7 64)")
    parser.add_argument("--atol", type=float, default=1e-4,
                        help="largest allowed |exported - Keras| per output value (default 1e-4)")
    limits = parser.add_argument_group(
        "request limits", "enforced inside every exported signature: a request over a limit fails with a message\n"
        "naming the signature, the input and the limit. Defaults sized for a 24 GiB host; recorded per\n"
        "signature in export_report.json")
    limits.add_argument("--max-batch", type=int, metavar="N",
                        help=f"largest batch (leading dim of every batched input) (default {DEFAULT_LIMITS.max_batch})")
    limits.add_argument("--max-n", type=int, metavar="N",
                        help=f"largest n (examples a sampling signature draws) (default {DEFAULT_LIMITS.max_n})")
    limits.add_argument("--max-steps", type=int, metavar="N",
                        help=f"largest steps of a chain signature (default {DEFAULT_LIMITS.max_steps})")
    limits.add_argument("--allow-nonfinite", action="store_true",
                        help="pass NaN/inf inputs through instead of refusing them (debugging only)")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow and tf2onnx log output")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from tfgm.training.environment import quiet_tensorflow

    quiet_tensorflow(args.verbose)
    if not args.verbose:
        logging.getLogger("tf2onnx").setLevel(logging.CRITICAL)
    from .report import format_table
    from .run import export_run, load_models, report_path

    try:
        models = load_models(args.run_dir, args.models)
        limits = {"max_batch": args.max_batch, "max_n": args.max_n, "max_steps": args.max_steps}
        report = export_run(args.run_dir, models, args.version, args.onnx, args.batch_sizes, args.atol, limits,
                            args.allow_nonfinite, args.onnx_layout)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_table(report))
    for name, entry in report["models"].items():
        if entry.get("skipped"):
            print(f"note ({name}): {entry['skipped']}")
        note = entry["precision"]["note"]
        if note:
            print(f"note ({name}): {note}")
        saved = entry.get("savedmodel", {})
        if saved.get("replaced_existing_version"):
            print(f"note ({name}): replaced version {saved['version']}; a running TF Serving may keep serving "
                  "the old one: use a higher --version to redeploy")
    if report["report_file"] != report_path(args.run_dir):
        print(f"note: {report_path(args.run_dir)} keeps the previous passing entries; this export's report is "
              "written next to it")
    print(f"{'passed' if report['passed'] else 'FAILED'}; report: {report['report_file']}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
