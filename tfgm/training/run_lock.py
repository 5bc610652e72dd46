"""One process at a time in a run folder: two `--resume` runs of the same `--name` would write the same
checkpoints and models over each other."""

from __future__ import annotations

import json
import os
import socket


class RunLocked(RuntimeError):
    """Another live process holds the run folder's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """`<folder>/run.lock` holding {"pid", "host"} while a run works in `folder`. A context manager.

    `acquire()` creates the file atomically (O_EXCL). A lock left by a process that no longer exists on this
    host (a killed run) is taken over; a lock of a live process, or of another host (it cannot be checked from
    here), raises `RunLocked` naming the process and how to go on. `release()` removes the file if it is ours.
    """

    def __init__(self, folder: str | os.PathLike):
        self.path = os.path.join(os.fspath(folder), "run.lock")
        self.held = False

    def _owner(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def acquire(self) -> RunLock:
        mine = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                pid, host = owner.get("pid"), owner.get("host")
                if host == mine["host"] and isinstance(pid, int) and not _alive(pid):
                    os.remove(self.path)  # a killed run's lock
                    continue
                raise RunLocked(
                    f"run folder {os.path.dirname(self.path)} is in use by process {pid} on {host}; wait for it to "
                    f"finish, or choose another --name (if that process is gone, remove {self.path})") from None
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(mine, f)
            self.held = True
            return self
        raise RunLocked(f"could not take the lock {self.path}: it keeps reappearing")

    def release(self) -> None:
        if self.held and self._owner().get("pid") == os.getpid():
            os.remove(self.path)
        self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
