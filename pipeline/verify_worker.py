"""A verification worker: imports the heavy libraries once, then forks one child per code block.

Run as ``python -m pipeline.verify_worker TIMEOUT``; reads one JSON job per line on stdin and
writes one JSON result per line on stdout. Each block runs in its own forked process (so no
block sees another's state), in a fresh temporary directory, with a time limit and with every
network connection except loopback refused. Forking after the imports saves ~1 s per block.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import select
import signal
import socket
import sys
import tempfile
import time
import traceback
import types
from typing import Any

PRELOAD = ("fastapi", "fastapi.testclient", "pydantic", "pydantic_settings", "starlette", "httpx",
           "sqlalchemy", "sqlalchemy.ext.asyncio", "anyio", "jwt", "pwdlib", "multipart", "typing",
           "asyncio", "json", "dataclasses", "enum", "datetime", "uuid")
"""Modules imported before forking (import errors are ignored: a block that needs one will say)."""


class NetworkBlocked(OSError):
    """Raised when verified code tries to reach the network."""


_LOCAL_HOSTS = ("localhost", "127.", "::1", "testserver", "test")


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    return host.startswith(_LOCAL_HOSTS) or host in ("", "0.0.0.0")


def _block_network() -> None:
    """Refuse any connection or name lookup that leaves this machine."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _is_local(address):
            raise NetworkBlocked(f"network access is disabled in deck verify (tried {address!r})")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _is_local(address):
            raise NetworkBlocked(f"network access is disabled in deck verify (tried {address!r})")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if name and not name.startswith(_LOCAL_HOSTS):
            raise NetworkBlocked(f"network access is disabled in deck verify (looked up {name!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


def _compile(text: str, first_line: int, filename: str) -> Any:
    tree = ast.parse(text, filename)
    ast.increment_lineno(tree, first_line - 1)  # tracebacks then name the YAML file's own lines
    # dont_inherit: this module's own `from __future__ import annotations` must not leak into
    # the block (it would turn its annotations into strings, unlike `python block.py`).
    return compile(tree, filename, "exec", dont_inherit=True)


def _run_child(job: dict[str, Any], write_fd: int, timeout: int) -> None:
    """In the forked child: run src then check; report through ``write_fd``; never return."""
    result: dict[str, Any] = {"ok": True}
    output = io.StringIO()
    try:
        signal.alarm(timeout)
        os.chdir(tempfile.mkdtemp(prefix="deck-verify-"))
        _block_network()
        # A real module installed as __main__, as `python block.py` would have: SQLAlchemy,
        # Pydantic and mock.patch("__main__.x") resolve names through sys.modules.
        module = types.ModuleType("__main__")
        module.__file__ = os.path.join(os.getcwd(), "main.py")
        # The file exists too, for code that reads or collects it (pytest.main([__file__])).
        with open(module.__file__, "w", encoding="utf-8") as script:
            script.write(job["src"] + "\n" + (job.get("check") or "") + "\n")
        sys.modules["__main__"] = module
        sys.argv = [module.__file__]
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exec(_compile(job["src"], job["src_line"], job["path"]), module.__dict__)
            if job.get("check"):
                exec(_compile(job["check"], job["check_line"], job["path"]), module.__dict__)
    except BaseException as exc:  # everything a block raises is a finding, SystemExit included
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == job["path"]]
        result = {"ok": False, "line": frames[-1].lineno if frames else None,
                  "error": f"{type(exc).__name__}: {exc}".strip(),
                  "in_check": bool(frames and job.get("check_line") and frames[-1].lineno >= job["check_line"]),
                  "output": output.getvalue()[-2000:]}
    with os.fdopen(write_fd, "w") as pipe:
        pipe.write(json.dumps(result))
    os._exit(0)


def _read_until(fd: int, seconds: float) -> str | None:
    """Everything written to ``fd`` until EOF, or ``None`` if EOF does not come in time."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks).decode()
            chunks.append(chunk)
    finally:
        os.close(fd)


def run_job(job: dict[str, Any], timeout: int) -> dict[str, Any]:
    """Fork a child for ``job``, wait at most ``timeout`` seconds, and return its result."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.setpgid(0, 0)  # its own process group, so a hang can be killed with its children
        os.close(read_fd)
        _run_child(job, write_fd, timeout)
    os.close(write_fd)
    data = _read_until(read_fd, timeout + 5)
    if data is None:  # the block disarmed its alarm, or a grandchild holds the pipe open
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"ok": False, "line": None, "error": f"timed out after {timeout} s", "in_check": False}
    _, status = os.waitpid(pid, 0)
    if data:
        return dict(json.loads(data))
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        return {"ok": False, "line": None, "error": f"timed out after {timeout} s", "in_check": False}
    code = os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"ok": False, "line": None, "error": f"the process died (status {code})", "in_check": False}


def main() -> None:
    """Preload, then serve jobs from stdin until it closes."""
    timeout = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            __import__(name)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        job = json.loads(line)
        result = run_job(job, timeout)
        result["id"] = job["id"]
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
