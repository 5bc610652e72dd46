"""Run a recipe as N local workers of one MultiWorkerMirroredStrategy job (loopback only).

    python -m recipes.launch --workers 2 discreg_celeba --quick --name try2
    python -m recipes.launch --workers 2 discreg_celeba --quick --name try3 --sync-bn   # BN over all workers
    python -m recipes.launch --workers 2 path/to/script.py --flag value

Starts N copies of `python -m recipes.RECIPE [flags] --strategy multiworker` (or of a .py script), each
with TF_CONFIG {"cluster": {"worker": ["127.0.0.1:P0", ...]}, "task": {"type": "worker", "index": i}}
on free loopback ports. Worker 0 is the chief: its output is streamed here and it alone writes the run
directory; the others' output goes to --logs (default: a temporary folder, printed if a worker fails).
SIGINT/SIGTERM are forwarded to every worker. If any worker fails, the others are stopped (they would
wait for it forever in the next all-reduce) and the launcher exits non-zero; rerun with --resume
--name NAME to continue from the chief's last checkpoint. On one machine N workers share its cores:
this is for trying multi-worker runs and for tests, not for speed (benchmarks/scaling.py measures the cost).

Several hosts: start the same command on each host with `--strategy multiworker` and its own TF_CONFIG:
    TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]},
                "task": {"type": "worker", "index": 0}}'   # index 1 on host1
    python -m recipes.discreg_celeba --strategy multiworker --name run1 --out /shared/runs
--out must be storage every worker reads (shared filesystem, gs://...): only the chief writes there, and
the other workers read its checkpoints to resume. Kubernetes (Kubeflow TFJob) and Vertex AI custom
training set TF_CONFIG for you (Vertex may name the first task "chief": that task is then the chief).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct ports free on `host` now (all sockets held open until every port is chosen)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(addresses: list[str], index: int) -> str:
    """The TF_CONFIG JSON of worker `index` of a cluster of `addresses` (worker 0 is the chief)."""
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}})


def worker_command(target: str, flags: list[str]) -> list[str]:
    """The command line of one worker: a recipe module or a .py script, with `--strategy multiworker`."""
    for i, flag in enumerate(flags):
        value = flag.split("=", 1)[1] if flag.startswith("--strategy=") else (
            flags[i + 1] if flag == "--strategy" and i + 1 < len(flags) else None)
        if value is not None and value != "multiworker":
            raise ValueError(f"the launcher runs workers with --strategy multiworker; remove --strategy {value}")
    chosen = any(f == "--strategy" or f.startswith("--strategy=") for f in flags)
    extra = [] if chosen else ["--strategy", "multiworker"]
    if target.endswith(".py"):
        if not os.path.isfile(target):
            raise ValueError(f"no script {target}")
        return [sys.executable, target, *flags, *extra]
    module = target if target.startswith("recipes.") else f"recipes.{target}"
    return [sys.executable, "-m", module, *flags, *extra]


def _stop(procs, grace: float) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def _tail(path: str, lines: int = 30) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def launch(target: str, flags: list[str], workers: int = 2, timeout: float = 0.0, grace: float = 10.0,
           logs: str | None = None, host: str = "127.0.0.1") -> int:
    """Run `workers` local workers of `target`; return 0 if all succeed, else the first failure's code (or 1).

    `timeout` (seconds, 0: none) bounds the whole job; on expiry every worker is stopped and 124 returned.
    """
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    command = worker_command(target, flags)
    addresses = [f"{host}:{p}" for p in free_ports(workers, host)]
    log_dir = logs or tempfile.mkdtemp(prefix="tfgm-launch-")
    os.makedirs(log_dir, exist_ok=True)
    procs, files, log_paths = [], [], []
    received = []

    def forward(signum, frame):
        received.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        for i in range(workers):
            env = dict(os.environ, TF_CONFIG=tf_config(addresses, i))
            if i == 0:
                out = None  # the chief's output streams to ours
            else:
                log_paths.append(os.path.join(log_dir, f"worker{i}.log"))
                out = open(log_paths[-1], "w", encoding="utf-8")
                files.append(out)
            procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT if out else None))
        print(f"launch: {workers} workers on {', '.join(addresses)}; worker 0 (chief) output below"
              + (f", others in {log_dir}" if workers > 1 else ""), flush=True)
        started = time.monotonic()
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                print(f"launch: worker {i} exited with code {code}; stopping the others", file=sys.stderr, flush=True)
                if i > 0:
                    print(f"--- last lines of worker {i} ---\n{_tail(log_paths[i - 1])}", file=sys.stderr, flush=True)
                status = code if code > 0 else 128 - code  # killed by signal -s: 128 + s, as shells report
                break
            if all(c == 0 for c in codes):
                break
            if received:
                status = 128 + received[0]
                break
            if timeout and time.monotonic() - started > timeout:
                print(f"launch: timed out after {timeout:.0f} s; stopping all workers", file=sys.stderr, flush=True)
                status = 124
                break
            time.sleep(0.2)
    finally:
        _stop(procs, grace)
        for f in files:
            f.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
        if logs is None and status == 0:
            shutil.rmtree(log_dir, ignore_errors=True)
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.launch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="number of local workers (default: 2)")
    parser.add_argument("--timeout", type=float, default=0.0, help="stop every worker after this many seconds "
                        "and exit 124 (default 0: no limit)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL when "
                        "stopping workers (default: 10)")
    parser.add_argument("--logs", default=None, help="folder for the non-chief workers' output "
                        "(default: a temporary folder, kept only if a worker fails)")
    parser.add_argument("recipe", help="recipe name (discreg_celeba, recipes.gan_toy, ...) or a .py script")
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="flags passed to every worker")
    args = parser.parse_args(argv)
    try:
        return launch(args.recipe, args.flags, args.workers, args.timeout, args.grace, args.logs)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
