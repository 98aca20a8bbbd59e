"""Exclusive use of a run folder: two harness processes never write the same run at once.

The lock is a POSIX record lock (`fcntl.lockf`) on `<run>/.lock`. The kernel drops it when its
holder exits, even on kill -9, so a crashed run never leaves a stale lock behind; and, unlike an
`flock`, a record lock is not inherited by forked children, so the DataLoader workers that
decode images for the run never keep the folder locked after the main process is gone.

Record locks are per process: a second lock on the same file from the same process would
succeed, and closing any descriptor of the file would drop the lock. So this process keeps a
registry of the run folders it holds, refuses a second claim on one, and never opens a held
lock file a second time.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

LOCK_NAME = ".lock"

_HELD_BY_THIS_PROCESS: set[Path] = set()


class RunFolderBusy(HarnessError):
    """Another live process (or another run in this one) holds the run folder."""


def _busy(run_dir: Path, holder: str) -> RunFolderBusy:
    return RunFolderBusy(
        f"run folder {run_dir} is in use by another harness process (pid {holder}); "
        "wait for it to finish or pass another --run-id"
    )


class RunLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._key = Path(os.path.abspath(self.path))
        self._fh = None

    def acquire(self) -> None:
        if self._key in _HELD_BY_THIS_PROCESS:
            raise _busy(self.path.parent, str(os.getpid()))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # EACCES or EAGAIN: another process holds it
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise _busy(self.path.parent, holder) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        _HELD_BY_THIS_PROCESS.add(self._key)

    def release(self) -> None:
        if self._fh is not None:
            fcntl.lockf(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
            _HELD_BY_THIS_PROCESS.discard(self._key)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
