"""The load and soak benchmark: Locust, headless and on loopback, against `assistant serve`.

    .venv/bin/python -m benchmarks.load --users 8 --minutes 10      # the soak, embedded model
    .venv/bin/python -m benchmarks.load --users 4 --minutes 1 \\
        --llm-url http://127.0.0.1:9000/v1 --out /tmp/load.json     # another LLM endpoint

Starts `assistant serve` on a free loopback port over the index in ``--data-dir`` (ingested
first when empty), waits for ``/api/ready``, then runs Locust (``benchmarks/locustfile.py``)
with bounded users and duration. Meanwhile, every ``--sample-s`` it records the server's
RSS (its process and children) and how long ``/api/health`` takes to answer.

Every Locust user comes from 127.0.0.1, so the per-client limits (``server.max_answers_per_client``,
``server.client_requests_per_minute``) are lifted: the run measures the shared queue
(``server.max_pending``), not one address's quota.

Writes ``benchmarks/results/load.json``: success rate, first-token p50/p95, deliberate 429s,
5xx count, RSS over time and its growth after warm-up, and health latency, with the machine
and the command.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.run import GOLD, PROJECT_ROOT, RESULTS_DIR, machine
from benchmarks.schema import MACHINE, Either, List, Map, Record, nullable
from evals.gold import load_gold

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# RSS growth is taken from the first sample after this share of the run: the model and
# caches load while the first questions are answered.
WARM_UP_SHARE = 0.2
SUMMARY = Record(
    {
        "requests": int,
        "answered": int,
        "deliberate_429": int,
        "failures": int,
        "server_errors_5xx": int,
        "failure_reasons": Map(int),
        "success_rate": nullable(float),
        "answered_of_admitted": nullable(float),
        "first_token_p50_s": nullable(float),
        "first_token_p95_s": nullable(float),
        "rss_mb_after_warm_up": nullable(float),
        "rss_mb_end": nullable(float),
        "rss_growth_after_warm_up": nullable(float),
        "health_p95_ms": nullable(float),
        "health_max_ms": nullable(float),
        "health_failures": int,
    }
)
RESULT_SCHEMAS = {
    "load.json": Record(
        {
            "command": str,
            "machine": MACHINE,
            "config": Record(
                {
                    "users": int,
                    "minutes": float,
                    "llm": str,
                    "max_pending": nullable(int),
                    "per_client_limits": str,
                }
            ),
            "summary": SUMMARY,
            "samples": List(
                Record(
                    {
                        "t_s": float,
                        "rss_mb": float,
                        "health_ms": float,
                        "health_status": Either((int, str)),
                    }
                )
            ),
        }
    )
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    overrides = {
        "ASSISTANT_DATA_DIR": str(args.data_dir),
        "ASSISTANT_SERVER__MAX_ANSWERS_PER_CLIENT": str(args.users),
        "ASSISTANT_SERVER__CLIENT_REQUESTS_PER_MINUTE": "0",
    }
    if args.model_cache_dir:
        overrides["ASSISTANT_MODEL_CACHE_DIR"] = str(args.model_cache_dir)
    if args.llm_url:
        overrides |= {
            "ASSISTANT_LLM__BASE_URL": args.llm_url,
            "ASSISTANT_LLM__MODEL": args.llm_model,
        }
    if args.max_pending is not None:
        overrides["ASSISTANT_SERVER__MAX_PENDING"] = str(args.max_pending)
    return os.environ | overrides


def wait_ready(url: str, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/api/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"assistant serve exited with code {server.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"assistant serve was not ready in {timeout_s:.0f} s")
        time.sleep(1)


def rss_mb(process: psutil.Process) -> float:
    members = [process, *process.children(recursive=True)]
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that just ended
            total += member.memory_info().rss
    return total / 2**20


class Sampler(threading.Thread):
    """RSS and health latency every ``interval_s`` until stopped."""

    def __init__(self, url: str, process: psutil.Process, interval_s: float):
        super().__init__(daemon=True)
        self.url, self.process, self.interval_s = url, process, interval_s
        self.samples: list[dict] = []
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopped.wait(self.interval_s):
                began = time.perf_counter()
                try:
                    status = client.get(f"{self.url}/api/health").status_code
                except httpx.HTTPError as error:  # a hung or refused health check, recorded
                    status = type(error).__name__
                health_ms = (time.perf_counter() - began) * 1000
                self.samples.append({
                    "t_s": round(time.monotonic() - self.started_at, 1),
                    "rss_mb": round(rss_mb(self.process), 1),
                    "health_ms": round(health_ms, 1),
                    "health_status": status,
                })  # fmt: skip


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def read_stats(prefix: Path) -> tuple[dict[str, dict], list[dict]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    with open(f"{prefix}_failures.csv", encoding="utf-8") as file:
        failures = list(csv.DictReader(file))
    return rows, failures


def summarise(rows: dict[str, dict], failures: list[dict], samples: list[dict]) -> dict:
    def count(name: str, column: str = "Request Count") -> int:
        return int(rows[name][column]) if name in rows else 0

    def ms(name: str, column: str) -> float | None:
        return float(rows[name][column]) if count(name) else None

    asks = count("ask (whole answer)")
    failed = count("ask (whole answer)", "Failure Count")
    busy = count("429 busy")
    server_errors = sum(
        int(row["Occurrences"]) for row in failures if row["Error"].startswith("HTTP 5")
    )
    warm = [s for s in samples if s["t_s"] >= WARM_UP_SHARE * samples[-1]["t_s"]] if samples else []
    health = [s["health_ms"] for s in samples]
    return {
        "requests": asks,
        "answered": count("first token"),
        "deliberate_429": busy,
        "failures": failed,
        "server_errors_5xx": server_errors,
        "failure_reasons": {row["Error"]: int(row["Occurrences"]) for row in failures},
        "success_rate": round((asks - failed) / asks, 4) if asks else None,
        "answered_of_admitted": round(count("first token") / (asks - busy), 4)
        if asks > busy
        else None,
        "first_token_p50_s": round(ms("first token", "50%") / 1000, 2)
        if count("first token")
        else None,
        "first_token_p95_s": round(ms("first token", "95%") / 1000, 2)
        if count("first token")
        else None,
        "rss_mb_after_warm_up": warm[0]["rss_mb"] if warm else None,
        "rss_mb_end": samples[-1]["rss_mb"] if samples else None,
        "rss_growth_after_warm_up": round(warm[-1]["rss_mb"] / warm[0]["rss_mb"] - 1, 4)
        if warm
        else None,
        "health_p95_ms": percentile(health, 0.95),
        "health_max_ms": max(health) if health else None,
        "health_failures": sum(s["health_status"] != 200 for s in samples),
    }


def run(args: argparse.Namespace) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = server_environment(args)
    assistant = [str(Path(sys.executable).with_name("assistant"))]
    subprocess.run([*assistant, "ingest"], env=environment, check=True, cwd=PROJECT_ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    server = subprocess.Popen(
        [*assistant, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    questions = [item.question for item in load_gold(GOLD) if not item.history]
    try:
        wait_ready(url, server, args.ready_timeout_s)
        sampler = Sampler(url, psutil.Process(server.pid), args.sample_s)
        sampler.start()
        with tempfile.TemporaryDirectory() as scratch:
            prefix = Path(scratch) / "locust"
            locust = [
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                "--host", url, "--users", str(args.users), "--spawn-rate", str(args.users),
                "--run-time", f"{int(args.minutes * 60)}s",
                "--stop-timeout", str(args.stop_timeout_s),
                "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            ]  # fmt: skip
            subprocess.run(
                locust, env=os.environ | {"LOAD_QUESTIONS": json.dumps(questions)},
                check=False, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            sampler.stopped.set()
            sampler.join()
            rows, failures = read_stats(prefix)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "command": " ".join(shlex.quote(part) for part in sys.argv),
        "machine": machine(),
        "config": {
            "users": args.users,
            "minutes": args.minutes,
            "llm": args.llm_url or "embedded (Qwen2.5-Coder-1.5B-Instruct Q4_K_M)",
            "max_pending": args.max_pending,
            "per_client_limits": "lifted: every Locust user comes from 127.0.0.1",
        },
        "summary": summarise(rows, failures, sampler.samples),
        "samples": sampler.samples,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / ".assistant")
    parser.add_argument("--model-cache-dir", type=Path, default=None)
    parser.add_argument(
        "--llm-url",
        default=None,
        help="An OpenAI-compatible endpoint; default: the embedded model.",
    )
    parser.add_argument("--llm-model", default="fake-model")
    parser.add_argument("--max-pending", type=int, default=None, help="server.max_pending")
    parser.add_argument(
        "--stop-timeout-s", type=int, default=120, help="Wait for answers in flight at the end."
    )
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--ready-timeout-s", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "load.json")
    args = parser.parse_args(argv)
    result = run(args)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
