"""Distributed ingest on this machine: a local Ray cluster (a head and N worker processes, on
loopback) and a `chroma run` server, the bundled corpus ingested by ``ingest.ray_ingest``,
timed with 1 and 2 workers, and once with a worker killed mid-job.

    .venv/bin/python -m benchmarks.ray_ingest --workers 1 2 --kill-worker-after 4

Each worker is a Ray node of one CPU (one embedding actor, the embedder on one thread); the
head runs no task. Each size starts a fresh cluster and Chroma server, so the figures
include the actors' model loading: on the bundled corpus (41 chunks) that fixed cost is
most of the time, and chunks/s says what a cluster costs to start as much as how fast it
embeds. Writes benchmarks/results/ray_ingest.json with the machine and the command.
``LocalRayCluster`` is also what the Ray test (tests/ingest/test_ray_ingest.py) runs on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.run import RESULTS_DIR, machine
from benchmarks.schema import MACHINE, List, Record, nullable

BIN = Path(sys.executable).parent  # chroma
OBJECT_STORE_BYTES = 200_000_000  # per node: the corpus's pieces are small; the machine is shared
START_TIMEOUT_S = 120
# `ray start`, with every address Ray would take for this machine's on loopback: told
# 127.0.0.1, Ray puts the machine's own network address in its place ("remotely
# reachable", ray._private.services.resolve_ip_for_localhost), and a node that is not in
# its single-machine mode cannot join another.
RAY_START_ON_LOOPBACK = (
    "import ray._private.services as services\n"
    "services.resolve_ip_for_localhost = lambda host: '127.0.0.1'\n"
    "services.node_ip_address_from_perspective = lambda address=None: '127.0.0.1'\n"
    "from ray.scripts.scripts import main\n"
    "main()\n"
)
RESULT_SCHEMAS = {
    "ray_ingest.json": Record(
        {
            "command": str,
            "machine": MACHINE,
            "runs": List(
                Record(
                    {
                        "workers": int,
                        "killed_worker_after_s": nullable(float),
                        "cluster_start_s": float,
                        "completed": bool,
                        "error": nullable(str),
                        "documents": int,
                        "chunks": int,
                        "failed": int,
                        "ingest_s": float,
                        "chunks_per_s": float,
                        "rerun_new": int,
                        "rerun_repaired": int,
                        "rerun_skipped": int,
                    }
                )
            ),
            "note": str,
        }
    )
}
NOTE = (
    "The bundled corpus (5 articles, 41 chunks) ingested by `assistant ingest --ray` "
    "(ingest.ray_ingest) into a `chroma run` server, on a fresh local Ray cluster: a head "
    "running no task and N worker nodes of 1 CPU each, one embedding actor per worker "
    "(multilingual-e5-small, onnx-int8, one thread), all on loopback on this one machine. "
    "ingest_s: from the call until the last record is written, the actors' model loading "
    "included (most of it at this size); cluster_start_s apart. killed_worker_after_s: one "
    "worker node killed (SIGKILL) that many seconds into the ingest; completed says whether "
    "the job still finished (Ray Data retries a lost task on the other worker), error what "
    "it raised if not. rerun_*: a second ingest of the same files right after: what it "
    "redid (new), repaired (left incomplete) and skipped (unchanged)."
)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalRayCluster:
    """A Ray head (no CPUs: the driver's tasks go to the workers) and ``workers`` worker
    nodes of one CPU each, each its own ``ray start --block`` in a session of its own, every
    address on loopback (``RAY_START_ON_LOOPBACK``), stopped by killing those sessions (never
    `ray stop`, which would stop every Ray process of the machine)."""

    def __init__(self, root: Path, workers: int, environment: dict[str, str] | None = None):
        self.root, self.port = Path(root), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.environment = (environment or dict(os.environ)) | {
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        self.nodes: list[subprocess.Popen] = []
        self.workers = workers

    def start(self) -> LocalRayCluster:
        """The head, then each worker once the previous one joined (started together on a
        busy machine, a worker's start timed out: "GCS overloaded"); a worker whose start
        fails is started again, once. Everything started is stopped if it fails."""
        import ray

        try:
            self._node(["--head", f"--port={self.port}", "--num-cpus=0",
                        "--include-dashboard=false", f"--temp-dir={self.root}"])  # fmt: skip
            self._wait_for_head()
            on_loopback(ray)  # this process joins as a driver: its address too
            ray.init(
                address=self.address,
                _node_ip_address="127.0.0.1",
                logging_level="WARNING",
                log_to_driver=False,
            )
            for joined in range(1, self.workers + 1):
                worker = [f"--address={self.address}", "--num-cpus=1"]
                self._node(worker)
                if not self._joined(joined):  # once more, from scratch
                    self._kill(self.nodes.pop(), signal.SIGKILL)
                    self._node(worker)
                    if not self._joined(joined):
                        raise RuntimeError(f"Ray worker {joined} did not join: {self._log()}")
        except BaseException:
            self.stop()
            raise
        return self

    def _joined(self, workers: int) -> bool:
        """Whether the cluster has ``workers`` CPUs, waiting for them unless the newest
        node exits first or the start timeout passes."""
        import ray

        deadline = time.monotonic() + START_TIMEOUT_S
        while ray.cluster_resources().get("CPU", 0) < workers:
            if self.nodes[-1].poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def _log(self) -> str:
        """The end of the newest node's output."""
        log = self.root / f"node-{len(self.nodes) - 1}.log"
        return log.read_text(errors="replace")[-2000:] if log.is_file() else ""

    def _node(self, arguments: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Into a file, not a pipe: a pipe nobody reads would block the node once full.
        with (self.root / f"node-{len(self.nodes)}.log").open("w") as log:
            self.nodes.append(
                subprocess.Popen(
                    [sys.executable, "-c", RAY_START_ON_LOOPBACK, "start", "--block",
                     "--node-ip-address=127.0.0.1", f"--object-store-memory={OBJECT_STORE_BYTES}",
                     "--disable-usage-stats", *arguments],
                    env=self.environment, start_new_session=True,
                    stdout=subprocess.DEVNULL, stderr=log,
                )
            )  # fmt: skip

    def _wait_for_head(self) -> None:
        import socket

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with socket.socket() as probe, contextlib.suppress(OSError):
                probe.settimeout(1)
                probe.connect(("127.0.0.1", self.port))
                return
            if self.nodes[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start: {self._log()}")
            time.sleep(0.3)

    def kill_worker(self) -> None:
        """The last worker node and everything it started, killed at once (SIGKILL)."""
        self._kill(self.nodes[-1], signal.SIGKILL)

    def stop(self) -> None:
        import ray

        ray.shutdown()
        for node in reversed(self.nodes):
            self._kill(node, signal.SIGTERM)
        self.nodes = []

    @staticmethod
    def _kill(node: subprocess.Popen, how: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, how)
        try:
            node.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait()


def on_loopback(ray) -> None:
    """This process's Ray addresses on loopback (as ``RAY_START_ON_LOOPBACK`` does)."""
    ray._private.services.resolve_ip_for_localhost = lambda host: "127.0.0.1"
    ray._private.services.node_ip_address_from_perspective = lambda address=None: "127.0.0.1"


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run` on ``path`` and a free loopback port, stopped on leaving; its URL."""
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(workers: int, models_dir: Path, scratch: Path, kill_after_s: float | None) -> dict:
    """One fresh cluster and Chroma server: the bundled corpus ingested, then again."""
    from assistant.settings import Settings
    from ingest.ray_ingest import ingest_on_ray
    from ingest.store import make_store

    began = time.perf_counter()
    cluster = LocalRayCluster(scratch / f"ray-{workers}-{kill_after_s}", workers).start()
    started = time.perf_counter() - began
    try:
        with chroma_server(scratch / f"chroma-{workers}-{kill_after_s}") as url:
            settings = Settings(
                data_dir=scratch / f"data-{workers}-{kill_after_s}",
                model_cache_dir=models_dir,
                index={"chroma_url": url},
            )

            def ingest():
                return ingest_on_ray(
                    [settings.corpus_dir], settings, address=cluster.address,
                    store=make_store(settings), progress=False,
                )  # fmt: skip

            if kill_after_s is not None:
                threading.Timer(kill_after_s, cluster.kill_worker).start()
            began = time.perf_counter()
            error, report = None, None
            try:
                report = ingest()
            except Exception as failure:  # what a lost worker does to the job, recorded
                error = f"{type(failure).__name__}: {failure}"[:500]
            seconds = time.perf_counter() - began
            rerun = ingest()
    finally:
        cluster.stop()
    return {
        "workers": workers,
        "killed_worker_after_s": kill_after_s,
        "cluster_start_s": round(started, 1),
        "completed": report is not None,
        "error": error,
        "documents": len(report.new) if report else 0,
        "chunks": report.chunks if report else 0,
        "failed": len(report.failed) if report else 0,
        "ingest_s": round(seconds, 2),
        "chunks_per_s": round(report.chunks / seconds, 2) if report else 0.0,
        "rerun_new": len(rerun.new),
        "rerun_repaired": len(rerun.repaired),
        "rerun_skipped": len(rerun.skipped),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--kill-worker-after",
        type=float,
        default=None,
        help="Also run with the most workers, killing one this many seconds in.",
    )
    parser.add_argument(
        "--model-cache-dir",
        type=Path,
        default=Path(os.environ.get("ASSISTANT_MODEL_CACHE_DIR", ".assistant/models")),
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "ray_ingest.json")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ray-ingest-", dir="/tmp") as scratch:
        plan = [(workers, None) for workers in args.workers]
        if args.kill_worker_after is not None:
            plan.append((max(args.workers), args.kill_worker_after))
        for workers, kill_after_s in plan:
            run = measure(workers, args.model_cache_dir.resolve(), Path(scratch), kill_after_s)
            print(json.dumps(run), flush=True)
            runs.append(run)
    payload = {
        "command": " ".join(
            ["python -m benchmarks.ray_ingest", *map(shlex.quote, argv or sys.argv[1:])]
        ),
        "machine": machine(),
        "runs": runs,
        "note": NOTE,
    }  # fmt: skip
    args.out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
