"""SIGTERM handled like Ctrl-C: `timeout`, `kill` and cluster schedulers stop a run the same way.

Inside `sigterm_as_interrupt()`, SIGTERM raises `Terminated`, a KeyboardInterrupt, in the main
thread. The run then unwinds exactly as on Ctrl-C: the batch in flight is dropped (finished
batches are already in the prediction cache), run.json is marked `interrupted`, the lock is
released and the loader workers are shut down. The command exits 143 (128 + SIGTERM), as a
process killed by SIGTERM would, and 130 after Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received signal {signal.Signals(signum).name}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into `Terminated` for the duration (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code_of(interrupt: KeyboardInterrupt) -> int:
    return EXIT_SIGTERM if isinstance(interrupt, Terminated) else EXIT_SIGINT
