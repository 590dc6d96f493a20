"""Schemathesis against a real server: generated GraphQL operations, counting 5xx answers,
timeouts, unmasked errors and the server's memory.

Usage: .venv/bin/pip install schemathesis && .venv/bin/python bench/fuzz.py [--examples 250]

One `llmref serve` (uvicorn, one process, JSON logs) on a fresh SQLite database that it
fills with the offline catalog at start. Schemathesis reads the schema by introspection and
generates ``--examples`` operations per root field (queries and mutations), with random
arguments and selections (its fuzzing phase, going on after a failure), for at most ``--seconds`` (it goes on shrinking and exploring
for long; the figures count what the server answered). While it runs, the server's RSS is sampled every second. Then
its log is read: answers by HTTP status (uvicorn's access lines), errors masked as
INTERNAL (each logged once with a traceback) and tracebacks in all.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.live import rss_bytes, serving

BIN = Path(sys.executable).parent


def sample_rss(pid: int, stop: threading.Event, samples: list[int]) -> None:
    while not stop.is_set():
        samples.append(rss_bytes(pid))
        stop.wait(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=250)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--seconds", type=float, default=600, help="stop schemathesis after this long"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "LLMREF_DATABASE_URL": f"sqlite:///{Path(scratch) / 'llmref.db'}",
            "LLMREF_RUN_FEEDS": "false",
            "LLMREF_LOG_FORMAT": "json",
        }
        with serving(Path(scratch), env, timeout=300) as (service, base):
            httpx.post(f"{base}/graphql", json={"query": "{ providers { slug } }"}, timeout=30)
            start_rss = rss_bytes(service.pid)
            samples: list[int] = []
            stop = threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(service.pid, stop, samples))
            sampler.start()
            started = time.monotonic()
            command = [
                str(BIN / "schemathesis"),
                "run",
                f"{base}/graphql",
                "--phases",
                "fuzzing",
                "--continue-on-failure",
                "--max-examples",
                str(args.examples),
                "--workers",
                str(args.workers),
                "--request-timeout",
                "10",
                "--no-color",
            ]
            output = Path(scratch) / "schemathesis.out"
            with output.open("w") as sink:
                run = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
                try:
                    run.wait(timeout=args.seconds)
                except subprocess.TimeoutExpired:  # schemathesis may go on for long: stop it
                    run.terminate()
                    run.wait(timeout=30)
            elapsed = time.monotonic() - started
            report = output.read_text(errors="replace")
            stop.set()
            sampler.join()
            end_rss = rss_bytes(service.pid)
            log = service.log()
    statuses: Counter[str] = Counter()
    internal = tracebacks = 0
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry["logger"] == "uvicorn.access":
            statuses[entry["message"].rsplit('" ', 1)[-1].split()[0]] += 1
        if entry["message"].startswith("unexpected error"):
            internal += 1
        if "exception" in entry:
            tracebacks += 1
    print(report[-4000:], file=sys.stderr)
    print(
        json.dumps(
            {
                "command": " ".join([command[0], "run", "<base>/graphql", *command[3:]]),
                "seconds": round(elapsed, 1),
                "requests_by_status": dict(statuses),
                "internal_errors": internal,
                "tracebacks_logged": tracebacks,
                "rss_mb": {
                    "start": round(start_rss / 2**20, 1),
                    "max": round(max(samples, default=start_rss) / 2**20, 1),
                    "end": round(end_rss / 2**20, 1),
                },
                "schemathesis_exit": run.returncode,
                "flagged_answers_by_code": dict(
                    Counter(re.findall(r'"code":"([A-Z_]+)"', report)).most_common()
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
