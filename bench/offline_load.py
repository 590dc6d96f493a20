"""Time the offline catalog load of `llmref serve` on an empty SQLite database.

Usage: .venv/bin/python bench/offline_load.py [--rounds N]

Starts `llmref serve --port 0` (feeds not polled) in a scratch folder and reports the
seconds from the start of the command to its "Offline catalog loaded" line (interpreter
start, migrations, the curated file and the five bundled feeds), then stops it. Set
PYTHONPATH to another checkout to time that one with this venv.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LLMREF = Path(sys.executable).parent / "llmref"


def load_seconds() -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(
            os.environ,
            LLMREF_DATABASE_URL=f"sqlite:///{folder}/llmref.db",
            LLMREF_RUN_FEEDS="false",
        )
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(LLMREF), "serve", "--port", "0"],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            for line in process.stderr:
                if "Offline catalog loaded" in line:
                    return time.perf_counter() - started, line.strip()
            raise RuntimeError(f"llmref serve ended with {process.wait()} before loading")
        finally:
            process.terminate()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.rounds):
        seconds, line = load_seconds()
        print(f"{seconds:.1f} s  {line}")


if __name__ == "__main__":
    main()
