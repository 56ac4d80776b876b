"""Cooperative cancellation: a user who cancels a run in the app stops the solver it is running.

The job's thread runs inside ``cancellable(event)``; another thread (the app's page) sets the event.
Every solve watches it (``stopping``) and asks the solver to stop, and the loops between solves call
``check``; both raise ``Cancelled`` so the partial result is discarded, never written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

POLL_S = 0.05  # how often a running solve looks at the cancel flag

_current: ContextVar[threading.Event | None] = ContextVar("maillage_cancel", default=None)


class Cancelled(Exception):
    """The run was cancelled by its user; nothing of it is kept."""

    def __init__(self) -> None:
        super().__init__("the run was cancelled")


@contextmanager
def cancellable(event: threading.Event) -> Iterator[None]:
    """Make the solves run in this context (this thread) stop when ``event`` is set."""
    token = _current.set(event)
    try:
        yield
    finally:
        _current.reset(token)


def cancel_scope(event: threading.Event | None) -> AbstractContextManager[None]:
    """``cancellable(event)`` for a solve given its ``cancel`` event; nothing when it has none."""
    return cancellable(event) if event is not None else nullcontext()


def is_cancelled() -> bool:
    """True when the current run has been cancelled (a stopping criterion for solvers polled by us)."""
    event = _current.get()
    return event is not None and event.is_set()


def check() -> None:
    """Raise ``Cancelled`` when the current run has been cancelled (between and inside long loops)."""
    if is_cancelled():
        raise Cancelled()


@contextmanager
def stopping(stop: Callable[[], None]) -> Iterator[None]:
    """Around a blocking solve: call ``stop`` (e.g. CP-SAT's ``stop_search``) as soon as the run is cancelled.

    Outside a cancellable run this costs nothing. Raises ``Cancelled`` after the solve when it was cut.
    """
    event = _current.get()
    if event is None:
        yield
        return
    check()
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(POLL_S):
            if event.is_set():
                stop()
                return

    watcher = threading.Thread(target=watch, name="maillage-cancel-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
    check()
