"""Reliability: bad inputs and injected faults on recipes with tiny flags, each in a subprocess (a benchmark:
numbers, not pass/fail).

A bad input is "clear" when the recipe exits 2 with one message and no traceback before any training step,
"silent" when it exits 0 (a run that lies), "unclear" otherwise. A fault is "survived" when the run (or its
--resume) ends as it should, and "lost" data when it finished while losing work that was saved intact (a
restart from scratch, a resume that differs from the uninterrupted run, a run folder another process wrote).

    python benchmarks/reliability.py                 # every case, a few minutes on 2 CPU cores
    python benchmarks/reliability.py --only bad      # or: --only faults
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAN = ["gan_mnist", "--quick", "--train-examples", "128", "--batch-size", "32", "--width", "4", "--latent-dim", "4",
       "--fid-network", "none", "--image-every", "2", "--no-export", "--deterministic"]
DISCREG = ["discreg_celeba", "--quick", "--train-examples", "40", "--eval-examples", "20", "--no-export"]
KILL_AFTER = """
import os, sys
from tfgm.training import checkpoint
save = checkpoint.ResumableCheckpoint.on_epoch_end
def on_epoch_end(self, epoch, logs=None):
    save(self, epoch, logs)
    if epoch + 1 == {epochs}:
        os._exit(137)  # killed right after the checkpoint of epoch {epochs}
checkpoint.ResumableCheckpoint.on_epoch_end = on_epoch_end
from recipes import {recipe}
sys.exit({recipe}.main(sys.argv[1:]))
"""


def run(argv, kill_after=None, timeout=600):
    """(exit status, stdout, stderr) of `python -m recipes.<argv[0]> argv[1:]`; `kill_after`: the process dies
    (os._exit) right after that epoch's checkpoint."""
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    recipe, flags = argv[0], argv[1:]
    command = ([sys.executable, "-c", KILL_AFTER.format(epochs=kill_after, recipe=recipe)] if kill_after
               else [sys.executable, "-m", f"recipes.{recipe}"])
    done = subprocess.run(command + flags, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    return done.returncode, done.stdout, done.stderr


def npz(folder, name, **arrays):
    path = os.path.join(folder, name)
    np.savez(path, **arrays)
    return path


def image_folder(work, files=1300):
    """A flat folder of `files` 28×28 PNGs (more than tfgm.data decodes eagerly) whose first file is garbled: a
    readable header, damaged pixel data (so only the decoding pipeline can find it)."""
    from PIL import Image

    folder = os.path.join(work, "folder")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(1, files):
        Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8)).save(os.path.join(folder, f"{i:04d}.png"))
    with open(os.path.join(folder, "0001.png"), "rb") as f:
        contents = bytearray(f.read())
    contents[60:-20] = bytes(rng.integers(0, 256, len(contents) - 80, dtype=np.uint8))
    with open(os.path.join(folder, "0000.png"), "wb") as f:
        f.write(contents)
    return folder


def bad_inputs(work, finished):
    """[(case, argv)]: flags and files no run can use; `finished` is a finished gan_mnist run's --out."""
    rng = np.random.default_rng(0)
    digits = (rng.random((64, 28, 28)) * 255).astype(np.uint8)
    faces = (rng.random((60, 64, 64, 3)) * 255).astype(np.uint8)
    attributes = rng.integers(0, 2, (60, 40)).astype(np.float32)
    out = ["--out", os.path.join(work, "bad")]
    a_file = npz(work, "a_file.npz", x=digits)
    cases = [
        ("--epochs -1", GAN + ["--epochs", "-1"]),
        ("--gan-epochs 0", GAN + ["--gan-epochs", "0"]),
        ("--layers nosuchlayer", DISCREG + ["--layers", "nosuchlayer"]),
        ("--likelihood poisson", DISCREG + ["--likelihood", "poisson"]),
        ("a garbled PNG among 1,300 files of a folder", GAN + ["--data", "folder", "--data-path", image_folder(work)]),
        ("--batch-size -5", GAN + ["--batch-size", "-5"]),
        ("--train-examples 10 --batch-size 25 (no batch)", GAN + ["--train-examples", "10", "--batch-size", "25"]),
        ("--seed -1", GAN + ["--seed", "-1"]),
        ("--precision float8", GAN + ["--precision", "float8"]),
        ("--strategy nosuch", GAN + ["--strategy", "nosuch"]),
        ("--image-every 0", GAN + ["--image-every", "0"]),
        ("--fid-samples 1", GAN + ["--fid-network", "classifier", "--fid-samples", "1"]),
        ("--out is a file", GAN + ["--out", a_file]),
        ("--data nosuch", GAN + ["--data", "nosuch"]),
        ("--data npz, no such file", GAN + ["--data", "npz", "--data-path", os.path.join(work, "none.npz")]),
        ("npz with boolean images", GAN + ["--data", "npz", "--data-path", npz(work, "bool.npz", x=digits > 127,
                                                                                 y=np.arange(64) % 10)]),
        ("npz with 8×8 images for 28×28", GAN + ["--data", "npz", "--data-path",
                                                 npz(work, "small.npz", x=digits[:, :8, :8], y=np.arange(64) % 10)]),
        ("npz attributes in {-1, 1}", DISCREG + ["--data", "npz", "--data-path",
                                                 npz(work, "pm1.npz", x=faces, y=attributes * 2 - 1)]),
        ("npz attributes in {0, 2}", DISCREG + ["--data", "npz", "--data-path",
                                                npz(work, "02.npz", x=faces, y=attributes * 2)]),
        ("npz x_test without y_test", DISCREG + ["--data", "npz", "--data-path",
                                                 npz(work, "noytest.npz", x_train=faces, y_train=attributes,
                                                     x_test=faces[:20])]),
        ("npz y_test K=5 against K=40", DISCREG + ["--data", "npz", "--data-path",
                                                   npz(work, "k5.npz", x_train=faces, y_train=attributes,
                                                       x_test=faces[:20], y_test=attributes[:20, :5])]),
        ("--resume without --name", GAN + ["--resume"]),
        ("--resume of a run that does not exist", GAN + ["--resume", "--name", "nosuch"]),
        ("--resume --epochs 3 of a finished run", GAN + ["--out", finished, "--name", "whole", "--resume",
                                                         "--epochs", "3"]),
        ("--resume --width 8 of a trained run", GAN + ["--out", finished, "--name", "whole", "--resume",
                                                       "--width", "8"]),
    ]
    return [(case, argv if "--out" in argv else argv + out) for case, argv in cases]


def verdict(status, stdout, stderr):
    if status == 0:
        return "silent"
    clear = status == 2 and "Traceback" not in stderr and stderr.strip() and "Epoch 1/" not in stdout
    return "clear" if clear else "unclear"


def weights(run_path, name):
    import h5py

    arrays = {}
    with zipfile.ZipFile(os.path.join(run_path, "models", f"{name}.keras")) as saved, \
            saved.open("model.weights.h5") as f, h5py.File(f, "r") as h5:
        h5.visititems(lambda key, obj: arrays.__setitem__(key, obj[()]) if hasattr(obj, "shape") else None)
    return arrays


def same_run(a, b):
    """The metrics and the saved weights of two gan_mnist runs agree exactly."""
    metrics = [json.load(open(os.path.join(p, "metrics.json"))) for p in (a, b)]
    wa, wb = weights(a, "gan"), weights(b, "gan")
    return metrics[0] == metrics[1] and wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def faults(work, whole):
    """[(fault, survived, lost)] for faults injected into gan_mnist runs; `whole` is the uninterrupted run."""
    out = os.path.join(work, "faults")
    flags = GAN + ["--out", out]
    results = []

    run(flags + ["--name", "killed1"], kill_after=1)
    status, _, _ = run(flags + ["--name", "killed1", "--resume"])
    results.append(("killed after epoch 1, resumed: equals the uninterrupted run", status == 0,
                    status == 0 and not same_run(whole, os.path.join(out, "gan_mnist", "killed1"))))

    three = flags + ["--gan-epochs", "3"]
    run(three + ["--name", "base"], kill_after=2)  # checkpoints 1 and 2 of 3 epochs
    base = os.path.join(out, "gan_mnist", "base")

    def resumed(name, damage, expect_epoch):
        shutil.copytree(base, os.path.join(out, "gan_mnist", name))
        extra = damage(os.path.join(out, "gan_mnist", name), os.path.join(out, "gan_mnist", name, "checkpoints", "gan"))
        status, stdout, stderr = run(three + ["--name", name, "--resume"])
        ok = status == 0 and os.path.exists(os.path.join(out, "gan_mnist", name, "metrics.json"))
        lost = ok and f"resuming after epoch {expect_epoch}" not in stdout
        return ok and (extra is None or extra()), lost, stdout + stderr

    def truncate(suffix):
        def damage(run_path, ckpt):
            name = next(f for f in os.listdir(ckpt) if f.startswith("ckpt-2") and f.endswith(suffix))
            with open(os.path.join(ckpt, name), "r+b") as f:
                f.truncate(os.path.getsize(os.path.join(ckpt, name)) // 2)
        return damage

    for fault, damage, epoch in [
        ("newest checkpoint's .data truncated", truncate(".data-00000-of-00001"), 1),
        ("newest checkpoint's .index truncated", truncate(".index"), 1),
        ("checkpoint state file deleted", lambda run_path, ckpt: os.remove(os.path.join(ckpt, "checkpoint")), 2),
    ]:
        survived, lost, _ = resumed(fault.split()[0] + str(len(results)), damage, epoch)
        results.append((fault, survived, lost))

    def temporaries(run_path, ckpt):
        left = [os.path.join(ckpt, "ckpt-3_temp", "part-00000-of-00001.data-00000-of-00001"),
                os.path.join(run_path, "models", ".gan.keras.0123456789ab.tmp.keras")]
        for path in left:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "wb").write(b"x" * 10_000)
        return lambda: not any(os.path.exists(p) for p in left)

    survived, lost, _ = resumed("temps", temporaries, 2)
    results.append(("temporary files of killed saves left behind", survived, lost))

    def dead_lock(run_path, ckpt):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        open(os.path.join(run_path, "run.lock"), "w").write(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))

    survived, lost, _ = resumed("deadlock", dead_lock, 2)
    results.append(("stale lock of a dead process", survived, lost))

    live = os.path.join(out, "gan_mnist", "live")
    shutil.copytree(base, live)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        open(os.path.join(live, "run.lock"), "w").write(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename}))
        before = open(os.path.join(live, "config.json")).read()
        status, _, stderr = run(three + ["--name", "live", "--resume"])
        after = open(os.path.join(live, "config.json")).read()
        results.append(("--resume of a run another live process holds", status == 2 and "in use" in stderr,
                        before != after or os.path.exists(os.path.join(live, "metrics.json"))))
    finally:
        sleeper.kill()
        sleeper.wait()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("bad", "faults"), help="run one half only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (printed)")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="tfgm-reliability-")
    try:
        finished = os.path.join(work, "finished")
        status, _, stderr = run(GAN + ["--gan-epochs", "2", "--out", finished, "--name", "whole"])
        if status != 0:
            print(f"the reference run failed (exit {status}):\n{stderr[-2000:]}", file=sys.stderr)
            return 1
        whole = os.path.join(finished, "gan_mnist", "whole")
        if args.only != "faults":
            counts = {"clear": 0, "unclear": 0, "silent": 0}
            for case, argv in bad_inputs(work, finished):
                status, stdout, stderr = run(argv)
                kind = verdict(status, stdout, stderr)
                counts[kind] += 1
                message = (stderr.strip().splitlines() or [""])[-1]
                print(f"  bad input  {kind:8s} exit {status}  {case}: {message[:150]}", flush=True)
            print(f"bad inputs tried {sum(counts.values())} / clear errors {counts['clear']} / "
                  f"unclear {counts['unclear']} / silent {counts['silent']}")
        if args.only != "bad":
            results = faults(work, whole)
            for fault, survived, lost in results:
                print(f"  fault  {'survived' if survived else 'FAILED':8s} {'LOST DATA' if lost else '':9s} {fault}")
            print(f"faults injected {len(results)} / survived {sum(s for _, s, _ in results)} / "
                  f"data lost {sum(bool(lost) for _, _, lost in results)}")
    finally:
        if args.keep:
            print(f"scratch folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
