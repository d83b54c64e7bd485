"""One ``freqbook run`` at a time per staging folder: a lock file that names its holder.

The lock is a small JSON file (pid, process start time, host, start time, command) created
atomically: it is written to a temporary file first and hard-linked into place, which fails when
the lock exists. A second run finds it and is refused with one line naming the first. A run that
crashed (killed, power loss) leaves its file behind; the file is *stale* when its process is gone,
or when its pid now belongs to a process started at another time (pid reuse), and a new run
replaces it. Replacing a stale lock happens under an ``flock`` guard where the platform has one,
so two runs starting at once after a crash cannot both take it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_NAME = ".freqbook-run.lock"


class LockHeld(RuntimeError):
    """Another live run holds the lock; the message is one line naming it."""


def process_start(pid: int) -> str | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so split after its closing ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def holder_alive(info: dict[str, Any]) -> bool:
    """Whether the process recorded in a lock file still runs (same host, same process)."""
    if info.get("host") not in (None, socket.gethostname()):
        return True  # another machine's run on a shared disk: cannot tell, assume it runs
    try:
        pid = int(info["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    recorded, now = info.get("proc_start"), process_start(pid)
    return not (recorded and now and recorded != now)


def read_lock(path: Path) -> dict[str, Any] | None:
    """The holder recorded in ``path``; ``None`` when there is no (readable) lock."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def describe(info: dict[str, Any]) -> str:
    """``pid 123, started 2026-12-05 09:12:03 UTC (freqbook run --profile cpu)``."""
    started = str(info.get("started", "?")).replace("T", " ").replace("+00:00", " UTC")
    command = f" ({info['command']})" if info.get("command") else ""
    return f"pid {info.get('pid', '?')}, started {started}{command}"


def _command() -> str:
    """The holder's command line, as the user typed it (``freqbook run ...``)."""
    if not sys.argv:
        return ""
    first = Path(sys.argv[0])
    as_module = first.name == "__main__.py" and first.parent.name == "freqbook"
    name = "freqbook" if as_module else first.name
    return " ".join([name, *sys.argv[1:]])


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the link below is still atomic
        yield
        return
    with open(path.with_name(path.name + ".guard"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def acquire(path: Path, what: str = "this checkout") -> dict[str, Any]:
    """Take the lock at ``path`` or raise :class:`LockHeld`; returns what was recorded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "pid": os.getpid(),
        "proc_start": process_start(os.getpid()),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _command(),
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info))
    try:
        with _guard(path):
            for _ in range(2):
                try:
                    os.link(tmp, path)
                    return info
                except FileExistsError:
                    holder = read_lock(path)
                    if holder is not None and holder_alive(holder):
                        raise LockHeld(
                            f"another freqbook run is using {what}: {describe(holder)}; "
                            "wait for it to finish or stop it, then rerun"
                        ) from None
                    path.unlink(missing_ok=True)  # stale: its process is gone
            raise LockHeld(f"could not take the run lock {path}")
    finally:
        tmp.unlink(missing_ok=True)


def release(path: Path) -> None:
    """Remove the lock at ``path`` if this process holds it."""
    holder = read_lock(path)
    if holder is not None and holder.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


@contextmanager
def locked(path: Path, what: str = "this checkout") -> Iterator[dict[str, Any]]:
    """Hold the lock at ``path`` for the duration of the ``with`` block."""
    info = acquire(path, what)
    try:
        yield info
    finally:
        release(path)
