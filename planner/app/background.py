"""A long job (a scenario run) in a worker thread that its caller can watch and cancel.

The app's page stays responsive while the job runs: it shows the job's progress messages and an
elapsed time, and when the user cancels (or leaves the page) ``cancel`` stops the running solver
within a fraction of a second (``optimize._cancel``) and waits for the thread to end.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from optimize._cancel import Cancelled, cancellable, check

T = TypeVar("T")
JOIN_S = 60.0  # the longest a cancel waits for the job to notice (a step between solver checks)


class BackgroundJob(Generic[T]):
    """Run ``work(progress)`` in a daemon thread; collect its progress messages; cancel it on request."""

    def __init__(self, work: Callable[[Callable[[str], None]], T]) -> None:
        self.started = time.perf_counter()
        self._messages: queue.Queue[str] = queue.Queue()
        self._cancel = threading.Event()
        self.cancelled_after_s: float | None = None
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="maillage-job", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Callable[[str], None]], T]) -> None:
        def progress(message: str) -> None:
            check()  # between stages too, a cancelled run stops
            self._messages.put(message)

        with cancellable(self._cancel):
            try:
                self._result = work(progress)
            except BaseException as exc:  # handed to the caller by ``result``
                self._error = exc

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the job to end; True when it has."""
        self._thread.join(seconds)
        return not self._thread.is_alive()

    def messages(self) -> list[str]:
        """The progress messages posted since the last call."""
        out: list[str] = []
        while True:
            try:
                out.append(self._messages.get_nowait())
            except queue.Empty:
                return out

    @property
    def elapsed_s(self) -> float:
        """Seconds since the job started."""
        return time.perf_counter() - self.started

    def cancel(self) -> bool:
        """Stop the job if it still runs and wait for its thread; True when it was running."""
        if not self._thread.is_alive():
            return False
        if self.cancelled_after_s is None:
            self.cancelled_after_s = self.elapsed_s
        self._cancel.set()
        self._thread.join(JOIN_S)
        return True

    def result(self) -> T:
        """The job's return value, or its exception re-raised (``Cancelled`` after a cancel)."""
        if self._thread.is_alive():
            raise RuntimeError("the job is still running")
        if self._error is not None:
            raise self._error
        if self._cancel.is_set():
            raise Cancelled()
        return self._result  # type: ignore[return-value]
