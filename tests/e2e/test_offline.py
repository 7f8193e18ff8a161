"""No network: every command, run as a user runs it with the default settings and the real
models, makes no connection and no DNS query beyond this machine's loopback. Each command
runs under strace, which records every connect/sendto/sendmsg of every process it starts
(ONNX Runtime's telemetry, for one, looked up mobile.events.data.microsoft.com before the
CLI set its opt-out)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.paths import PROJECT_ROOT

ASSISTANT = Path(sys.executable).parent / "assistant"
BUNDLED_GOLD = PROJECT_ROOT / "evals" / "gold.jsonl"
# A socket address in strace's output: the family, then the port and the host.
INET = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((\d+)\),"
    r"(?: sin6_flowinfo=[^,]*,)? (?:sin_addr=inet_addr\(|inet_pton\(AF_INET6, )\"([^\"]+)\""
)
LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace"),
]


def outbound(trace: Path) -> list[str]:
    """The traced calls that reach for an address off this machine (DNS included)."""
    return [
        line.strip()
        for line in trace.read_text(errors="replace").splitlines()
        for port, host in INET.findall(line)
        if not LOOPBACK.match(host)
    ]


@pytest.fixture(scope="module")
def environment(tmp_path_factory, model_cache_dir) -> dict[str, str]:
    """A user's environment: no opt-out variables of our own, a fresh data directory, the
    converted models shared with the other tests."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "HF_"))}
    for name in ("ORT_DISABLE_TELEMETRY", "ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED",
                 "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):  # fmt: skip
        base.pop(name, None)
    return base | {
        "ASSISTANT_DATA_DIR": str(tmp_path_factory.mktemp("offline")),
        "ASSISTANT_MODEL_CACHE_DIR": str(model_cache_dir),
    }


def traced(args: list[str], trace: Path) -> list[str]:
    # --seccomp-bpf stops the traced processes only at these calls, not at every system call
    # (llama.cpp's threads make millions): the commands run at nearly full speed.
    return [
        "strace",
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=connect,sendto,sendmsg",
        "-o",
        str(trace),
        *args,
    ]


def run_traced(args: list[str], environment: dict, trace: Path, timeout: int = 600) -> None:
    result = subprocess.run(
        traced([str(ASSISTANT), *args], trace),
        env=environment, cwd=trace.parent, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def ingest_trace(environment, tmp_path_factory) -> Path:
    """``assistant ingest`` traced, once: the commands below read the index it writes."""
    trace = tmp_path_factory.mktemp("ingest") / "trace.log"
    run_traced(["ingest", "--no-progress"], environment, trace)
    return trace


def test_ingest_connects_to_nothing_off_this_machine(ingest_trace):
    assert outbound(ingest_trace) == []


@pytest.mark.parametrize(
    "args",
    [
        ["search", "Hà Tĩnh nhận được bao nhiêu kiến nghị?", "--json"],
        ["ask", "Wie viele Dialoge fanden seit 2015 auf Provinzebene statt?", "--json"],
        ["eval", "--gold", str(BUNDLED_GOLD), "--out", "run", "--limit", "1"],
    ],
    ids=["search", "ask", "eval"],
)
@pytest.mark.usefixtures("ingest_trace")
def test_a_command_connects_to_nothing_off_this_machine(args, environment, tmp_path):
    trace = tmp_path / "trace.log"
    run_traced(args, environment, trace)
    assert outbound(trace) == []


@pytest.mark.usefixtures("ingest_trace")
def test_the_server_connects_to_nothing_off_this_machine(environment, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    trace = tmp_path / "trace.log"
    server = subprocess.Popen(
        traced([str(ASSISTANT), "serve", "--port", str(port)], trace),
        env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        assert httpx.get(f"{base}/", timeout=30).status_code == 200
        question = {"question": "Wie viele Dialoge fanden seit 2015 auf Provinzebene statt?"}
        assert httpx.post(f"{base}/api/ask", json=question, timeout=300).status_code == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    assert outbound(trace) == []


def test_the_trace_check_sees_a_lookup_and_spares_loopback(tmp_path):
    """The check itself, on lines strace wrote when ONNX Runtime's telemetry was on."""
    trace = tmp_path / "trace.log"
    trace.write_text(
        "21891 connect(8, {sa_family=AF_INET, sin_port=htons(53), "
        'sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>\n'
        "21950 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), "
        'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr)}, 28) = 0\n'
        "21900 connect(5, {sa_family=AF_INET, sin_port=htons(7860), "
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        "21901 connect(6, {sa_family=AF_INET6, sin6_port=htons(7860), "
        'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr)}, 28) = 0\n'
        '21902 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1\n'
    )
    assert [line.split()[0] for line in outbound(trace)] == ["21891", "21950"]
