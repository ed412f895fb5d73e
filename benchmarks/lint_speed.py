"""Measure how long `govdsl lint` takes from a cold start: on the shipped policies and on 1,000 generated policy files.

Each run is a fresh Python subprocess, so the times include interpreter start-up,
imports, parsing, compiling and every rule. Two kinds of run are measured:

- first run: an empty cache folder, as on the first run of govdsl on a machine,
  which reads and validates the shipped regulation catalogs;
- catalogs cached: a cache folder in which govdsl linted one other file before, so
  the validated catalogs come from the cache and nothing about the measured files does.

The table compares the median of `--runs` runs (default 3) with the targets: under
1 s for the shipped policies and under 2 s for 1,000 files.

Run from the repository root:

    python benchmarks/lint_speed.py

The script exits 0 whether or not a target is met, and 1 when lint itself fails
with invalid input (exit code 2), because the times would then mean nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"shipped policies": 1.0, "1,000 generated files": 2.0}

CONTROL = """policy bench_{number:04d} {{
  version "1.0.0"
  control gap_{number:04d} {{
    title "Error rates are similar across groups"
    owner "model-risk@example.org"
    maps ["EU-AI-ACT:Art.10(2)(f)", "NIST-AI-RMF:MEASURE 2.11"]
    enforcement soft
    remediation "Recalibrate or retrain, then re-run the gate."
    check false_positive_rate_difference(by = "race", min_group_size = 30) <= 0.1
    check demographic_parity_ratio(by = "sex", min_group_size = 30) >= 0.8
  }}
}}
"""


def write_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"bench_{number:04d}.gov").write_text(CONTROL.format(number=number), encoding="utf-8")


def timed(arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Return the wall-clock and CPU (user + system) seconds of one lint run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "govdsl", "lint", *arguments], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode == 2:
        sys.stderr.write(completed.stderr[-3000:])
        raise SystemExit(1)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def environment(scratch: Path, cache_dir: str) -> dict[str, str]:
    """Return the environment of the measured runs: the cache folder `cache_dir`, bytecode kept in `scratch`."""
    env = dict(os.environ, GOVDSL_CACHE_DIR=cache_dir)
    env.pop("GOVDSL_NO_CACHE", None)
    # An installed package has its bytecode compiled, so imports should not recompile
    # govdsl on every run even where PYTHONDONTWRITEBYTECODE is set. The prefix keeps
    # the .pyc files out of the repository.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the table shows the median (default 3)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govdsl-lint-bench-") as scratch_name:
        scratch = Path(scratch_name)
        generated = scratch / "policies"
        write_files(generated, 1000)
        cases = {
            "shipped policies": [str(REPO / "policies"), "--fail-level", "error"],
            "1,000 generated files": [str(generated), "--fail-level", "error"],
        }
        # Compile the bytecode once, untimed.
        timed(cases["shipped policies"], environment(scratch, tempfile.mkdtemp(dir=scratch)))
        # A cache folder in which govdsl already ran once, on another file: the validated
        # catalogs are cached, nothing else about the measured files is.
        warmed = tempfile.mkdtemp(dir=scratch)
        write_files(scratch / "other", 1)
        timed([str(scratch / "other"), "--fail-level", "error"], environment(scratch, warmed))
        rows = []
        for name, arguments in cases.items():
            cold, cached = [], []
            for _ in range(options.runs):
                # First run on the machine: an empty cache folder for every run.
                cold.append(timed(arguments, environment(scratch, tempfile.mkdtemp(dir=scratch))))
                cached.append(timed(arguments, environment(scratch, warmed)))
            row = [name]
            for times in (cold, cached):
                wall = statistics.median(wall for wall, _ in times)
                cpu = statistics.median(cpu for _, cpu in times)
                verdict = "met" if wall < TARGETS[name] else "missed"
                row += [f"{wall:.2f}", f"{cpu:.2f}", f"< {TARGETS[name]:g} s {verdict}"]
            rows.append("| " + " | ".join(row) + " |")
    print("| lint run | first run: wall-clock (s) | CPU (s) | target | catalogs cached: wall-clock (s) | CPU (s) | target |")
    print("| --- | ---: | ---: | --- | ---: | ---: | --- |")
    print("\n".join(rows))
    print()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " load average %.2f %.2f %.2f;" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"median of {options.runs} runs;{load} Python {platform.python_version()} on {platform.system()} {platform.machine()}, {cpus} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
