"""Start the real pieces as child processes and wait until they answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _without_llmref_settings(environ: os._Environ[str]) -> dict[str, str]:
    """The test's own LLMREF_* variables must not leak into a "no configuration" start."""
    return {name: value for name, value in environ.items() if not name.startswith("LLMREF_")}


@contextmanager
def llmref_serve(
    cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[str]:
    """Run `llmref serve` on a free port; yield its base URL; stop it afterwards."""
    port = free_port()
    log = (cwd / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "llmref"), "serve", "--port", str(port)],
        cwd=cwd,
        env={**_without_llmref_settings(os.environ), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llmref serve exited: {(cwd / log.name).read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"llmref serve did not answer: {Path(log.name).read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
