"""Run one function in a forked child process, so that the two writers use both cores.

A forked child starts with everything the parent has already loaded (the deck, its parsed
markdown, the imported modules) at no cost, which is why we fork rather than spawn. The child
only computes: it sends its return value (or its exception) back through a pipe and exits, and
the parent does every file write, so a killed or failing child leaves nothing behind. The parent
can pass values to the child after the start (:meth:`Job.send`), for input that is known only
later (the PDF needs the release date, which the lock reconciliation computes); the child can
pass values back before it ends (:func:`emit`, :meth:`Job.poll`), for work handed over as it
is done (see prefetch.py).

Where forking is not possible or not safe (no ``os.fork``, other threads running, or
``DECK_SERIAL=1`` in the environment), :func:`start` returns a job that runs the function in
this process when its result is asked for: the same results, one core.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

SERIAL_ENV = "DECK_SERIAL"
"""Set to 1 to never fork (debugging, profiling, or a platform where fork misbehaves)."""

class WorkerError(RuntimeError):
    """The child process died or could not report its result."""


def can_fork() -> bool:
    """Whether :func:`start` will run the function in a child process."""
    # Forking a process with other threads running can deadlock the child (a lock held by a
    # thread that does not exist there), so a multi-threaded host gets the serial path.
    return (hasattr(os, "fork") and os.environ.get(SERIAL_ENV, "") in ("", "0")
            and threading.active_count() == 1)


class Job:
    """A function call running in a child process (or deferred, on the serial path)."""

    def result(self) -> Any:
        """Wait for the call and return its value, or raise the exception it raised."""
        raise NotImplementedError

    forked = False
    """Whether the call runs in another process (and so in parallel with this one)."""

    def send(self, value: Any) -> None:
        """Hand ``value`` to the call: its ``receive()`` returns the values sent, in order."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop the call if it still runs; safe to call more than once and after :meth:`result`."""

    def poll(self) -> list[Any]:
        """The values the call passed to :func:`emit` since the last poll, without waiting."""
        return []


class _Deferred(Job):
    """The serial path: the call runs in this process when its result is asked for."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args
        self.values: list[Any] = []

    def send(self, value: Any) -> None:
        self.values.append(value)

    def _receive(self) -> Any:
        if not self.values:
            raise WorkerError("the job asked for a value that was never sent")
        return self.values.pop(0)

    def result(self) -> Any:
        def receive() -> Any:
            return self._receive()

        receive.ready = lambda: True  # type: ignore[attr-defined] - everything was sent by now
        return self.fn(receive, *self.args)


class _Forked(Job):
    """A call running in a forked child; values, results and exceptions travel pickled."""

    forked = True

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        result_read, result_write = os.pipe()
        value_read, value_write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # or the child would print the parent's buffer too
            stream.flush()
        # Everything allocated so far (the deck, its parsed markdown) lives until the end: keep
        # it out of the collector's scans, which in the child would also copy every page they
        # touch (copy-on-write). This process unfreezes when the job ends (see _done).
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (coverage does not follow forks)
            os.close(result_read)
            os.close(value_write)
            _child(fn, args, value_read, result_write)
        os.close(result_write)
        os.close(value_read)
        self.pid: int | None = pid
        self.result_fd: int | None = result_read
        self.value_fd: int | None = value_write
        self.writer: threading.Thread | None = None
        self.inbox = bytearray()
        """Bytes from the child not yet read as whole messages."""
        self.outcome: tuple[bool, Any] | None = None

    def send(self, value: Any) -> None:
        # A thread writes, so that a large value does not stop this process until the child
        # gets round to reading it (the pipe holds 64 KiB); values still go in order.
        assert self.value_fd is not None
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._join_writer()
        self.writer = threading.Thread(target=_write_quietly, daemon=True,
                                       args=(self.value_fd, len(data).to_bytes(8, "big") + data))
        self.writer.start()

    def _join_writer(self) -> None:
        if self.writer is not None:
            self.writer.join()
            self.writer = None

    def _messages(self) -> list[Any]:
        """Whole messages in the inbox (emitted values; the outcome is kept aside)."""
        values = []
        while len(self.inbox) >= 8:
            size = int.from_bytes(self.inbox[:8], "big")
            if len(self.inbox) < 8 + size:
                break
            kind, payload = pickle.loads(self.inbox[8:8 + size])
            del self.inbox[:8 + size]
            if kind == "emit":
                values.append(payload)
            else:
                self.outcome = payload
        return values

    def poll(self) -> list[Any]:
        fd = self.result_fd
        while fd is not None and self.outcome is None and select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            self.inbox += chunk
        return self._messages()

    def result(self) -> Any:
        assert self.result_fd is not None and self.pid is not None
        self._join_writer()
        if self.value_fd is not None:  # no more values: a child still waiting for one fails
            os.close(self.value_fd)
            self.value_fd = None
        with os.fdopen(self.result_fd, "rb") as pipe:
            self.result_fd = None
            while self.outcome is None:
                chunk = pipe.read1(1 << 20)
                if not chunk:
                    break
                self.inbox += chunk
                self._messages()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        gc.unfreeze()
        if self.outcome is None:
            raise WorkerError(f"the worker process {_describe(status)} without a result")
        ok, payload = self.outcome
        if ok:
            return payload
        raise payload

    def cancel(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
            gc.unfreeze()
        self._join_writer()  # its write fails at once now that the child is gone
        for fd in (self.result_fd, self.value_fd):
            if fd is not None:
                os.close(fd)
        self.result_fd = self.value_fd = None


def start(fn: Callable[..., Any], *args: Any) -> Job:
    """Start ``fn(receive, *args)`` in a forked child (or defer it, see :func:`can_fork`).

    ``receive()`` returns the next value the parent passes with :meth:`Job.send`, waiting for it;
    ``receive.ready()`` says, without waiting, whether one has arrived. Arguments go to the
    child by inheritance, never pickled; the return value and any exception come back pickled. Call :meth:`Job.result` or :meth:`Job.cancel` exactly once.
    """
    return _Forked(fn, args) if can_fork() else _Deferred(fn, args)


_emit_fd: int | None = None


def in_worker() -> bool:
    """Whether this is a forked child running a job (the serial path runs in the parent)."""
    return _emit_fd is not None


def emit(value: Any) -> None:
    """From a forked call: pass ``value`` to the parent now (it gets it from :meth:`Job.poll`).

    Elsewhere (the serial path) it does nothing: whoever waits for the result has it all then.
    """
    if _emit_fd is not None:  # pragma: no cover - runs in the child
        _send_message(_emit_fd, ("emit", value))


def _send_message(fd: int, message: tuple[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, len(data).to_bytes(8, "big") + data)


def _child(fn: Callable[..., Any], args: tuple[Any, ...], value_fd: int,
           result_fd: int) -> None:  # pragma: no cover - runs in the child
    """The child's whole life: run, report, and leave without running the parent's cleanup."""
    global _emit_fd
    code = 0
    try:
        _die_with_parent()
        _emit_fd = result_fd

        def receive() -> Any:
            size = int.from_bytes(_read_exactly(value_fd, 8), "big")
            return pickle.loads(_read_exactly(value_fd, size))

        receive.ready = lambda: bool(select.select([value_fd], [], [], 0)[0])  # type: ignore[attr-defined]

        try:
            outcome: tuple[bool, Any] = (True, fn(receive, *args))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            outcome = (False, _portable(exc))
        try:
            _send_message(result_fd, ("done", outcome))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an unpicklable result
            _send_message(result_fd, ("done", (False, _portable(exc))))
    except BaseException:  # noqa: BLE001 - the parent sees "died without a result"
        code = 1
    finally:
        # os._exit: no atexit handlers, no buffered output of the parent, no slow teardown of
        # a large heap; and never return into the parent's code.
        os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a WorkerError with its text; with the child's traceback."""
    note = "in the worker process:\n" + "".join(traceback.format_exception(exc)).rstrip()
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        copy = WorkerError(f"{type(exc).__name__}: {exc}")
    copy.add_note(note)
    return copy


def _read_exactly(fd: int, size: int) -> bytes:  # pragma: no cover - runs in the child
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WorkerError("the parent stopped before sending a value")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_quietly(fd: int, data: bytes) -> None:
    try:
        _write_all(fd, data)
    except OSError:
        pass  # the child is gone (or the job was cancelled); result() says why


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to kill this child when the parent dies (a SIGKILLed build leaves no orphan)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"was killed by {name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
