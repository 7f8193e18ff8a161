"""A real `chroma run` server for the tests that share one index between app servers or
restart it under a running app."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on ``path`` and ``port``, once it answers its heartbeat."""
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).raise_for_status()
            return server
        except httpx.HTTPError:
            assert server.poll() is None, "chroma run exited"
            assert time.monotonic() < deadline, "chroma run did not start in 60 s"
            time.sleep(0.2)


def stop_chroma(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)
