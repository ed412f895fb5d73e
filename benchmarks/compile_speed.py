"""Measure how long `govdsl compile` takes on generated policy sets of 1,000 and 10,000 controls.

Each run is a fresh Python subprocess, so the times include interpreter start-up,
imports, catalog loading and writing the plan: the time a user at a terminal or a
CI job waits. For each size the script measures four commands and reports the
median of `--runs` runs (default 3), as wall-clock and as CPU seconds:

- Lark parse only: Lark's LALR parser, with the options govdsl uses, on the same
  files. It builds Lark's parse tree but no govdsl AST and runs no compiler pass.
  This is the baseline.
- govdsl cold: `python -m govdsl compile FILES -o /dev/null` with an empty cache
  folder, as on the first run of govdsl on a machine. The cold targets apply here.
- govdsl new files: the same command with a cache folder in which govdsl compiled
  one other policy (a shipped example) before, so the validated catalogs are
  cached, as when a user compiles files for the first time.
- govdsl warm: the same command again on unchanged files, which the plan cache of
  govdsl/compiler/plan_cache.py serves.

Run from the repository root:

    python benchmarks/compile_speed.py

The script prints the tables and exits 0, whether or not a target is met. It exits 1
only when a compile fails, because then the times would not mean anything. It needs
a POSIX system, for the CPU times of child processes.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 10_000)
FILES_PER_SET = 100

# Targets in wall-clock seconds for one `govdsl compile` run, cold and warm.
COLD_TARGETS = {1_000: 1.0, 10_000: 6.0}
WARM_TARGET = 0.5

# A shipped policy that the new-files runs compile first, untimed, to fill the catalog cache.
COMPILE_OTHER_POLICY = [sys.executable, "-m", "govdsl", "compile", "govdsl:examples/compas.gov", "-o", os.devnull]

# Leaf clauses of the shipped catalogs that a fairness or data-governance control
# maps to. The generator checks each id against the catalogs before writing files.
CLAUSES = (
    "EU-AI-ACT:Art.10(2)(f)",
    "EU-AI-ACT:Art.10(2)(g)",
    "EU-AI-ACT:Art.10(3)",
    "EU-AI-ACT:Art.15(1)",
    "EU-AI-ACT:AnnexIV(2)(g)",
    "NIST-AI-RMF:MEASURE 2.11",
    "NIST-AI-RMF:MEASURE 2.5",
    "NIST-AI-RMF:MAP 2.3",
    "ISO-42001:A.6.2.4",
    "ISO-42001:A.7.4",
)

# Metric calls for the checks, each with a threshold in its own range.
CHECKS = (
    'false_positive_rate_difference(by = "{feature}") <= 0.1',
    'false_negative_rate_difference(by = "{feature}") <= 0.1',
    'demographic_parity_difference(by = "{feature}") <= 0.1',
    'demographic_parity_ratio(by = "{feature}") >= 0.8',
    'equalized_odds_difference(by = "{feature}") <= 0.15',
    'equal_opportunity_ratio(by = "{feature}") >= 0.8',
    'selection_rate_difference(by = "{feature}") <= 0.1',
    'true_positive_rate_ratio(by = "{feature}") >= 0.8',
)
FEATURES = ("race", "sex", "age_band")
SEVERITIES = ("low", "medium", "high", "critical")
ENFORCEMENTS = ("advisory", "soft", "hard")

# The same LALR parser options as govdsl/syntax/lark_parser.py, without the comment callback.
LARK_DRIVER = """
import sys
from pathlib import Path
from lark import Lark
grammar = Path(sys.argv[1]).read_text(encoding="utf-8")
parser = Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)
for name in sys.argv[2:]:
    parser.parse(Path(name).read_text(encoding="utf-8"))
"""


def check_clauses() -> None:
    """Raise SystemExit when a clause id in CLAUSES is not a leaf clause of the shipped catalogs."""
    from govdsl.catalog import load_catalogs

    catalogs = load_catalogs()
    for reference in CLAUSES:
        prefix, clause_id = reference.split(":", 1)
        catalog = catalogs.catalogs.get(prefix)
        if catalog is None or catalog.find(clause_id) is None:
            raise SystemExit(f"clause `{reference}` is not in the shipped catalogs, so update CLAUSES in {__file__}")
        if not catalog.is_leaf(catalog.find(clause_id).id):
            raise SystemExit(f"clause `{reference}` is not a leaf clause, so update CLAUSES in {__file__}")


def control_text(number: int) -> str:
    """Return the source of one control of about ten lines, varied by its number."""
    feature = FEATURES[number % len(FEATURES)]
    clauses = [CLAUSES[(number + step * 3) % len(CLAUSES)] for step in range(2 + number % 2)]
    maps = ", ".join(f'"{clause}"' for clause in dict.fromkeys(clauses))
    lines = [
        f"  control gap_{number:05d} {{",
        f'    title "Error rates of model {number} are similar across {feature} groups"',
        f'    owner "model-risk-{number % 17}@example.org"',
        f"    maps [{maps}]",
        f"    severity {SEVERITIES[number % len(SEVERITIES)]}",
        f"    enforcement {ENFORCEMENTS[number % len(ENFORCEMENTS)]}",
        f'    remediation "Compare the per-group rates for {feature}, then recalibrate or retrain and re-run the gate."',
    ]
    for step in range(2 + number % 2):
        check = CHECKS[(number + step) % len(CHECKS)].format(feature=feature)
        lines.append(f"    check c{step}: {check}")
    lines.append("  }")
    return "\n".join(lines)


def write_policy_set(folder: Path, controls: int, files: int = FILES_PER_SET) -> list[Path]:
    """Write `controls` controls spread evenly over `files` policy files in `folder` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    per_file = controls // files
    paths = []
    for index in range(files):
        numbers = range(index * per_file, (index + 1) * per_file)
        body = "\n\n".join(control_text(number) for number in numbers)
        text = (
            f"# Generated by benchmarks/compile_speed.py: {per_file} controls.\n\n"
            f"policy bench_{index:03d} {{\n"
            '  version "1.0.0"\n\n'
            f"{body}\n"
            "}\n"
        )
        path = folder / f"bench_{index:03d}.gov"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def subprocess_environment(scratch: Path, cache_dir: Path) -> dict[str, str]:
    """Return the environment of the measured runs: the cache folder `cache_dir`, bytecode kept in `scratch`."""
    env = dict(os.environ, GOVDSL_CACHE_DIR=str(cache_dir))
    env.pop("GOVDSL_NO_CACHE", None)
    # An installed package has its bytecode compiled, so imports should not recompile
    # govdsl on every run even where PYTHONDONTWRITEBYTECODE is set. The prefix keeps
    # the .pyc files out of the repository.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def warm_up_imports(env: dict[str, str]) -> None:
    """Import everything the measured runs import once, untimed, so their bytecode exists."""
    modules = (
        "govdsl.cli, govdsl.compiler.passes, govdsl.compiler.plan_cache, govdsl.catalog, "
        "govdsl.syntax.fastparse, govdsl.syntax.lark_parser, lark"
    )
    subprocess.run([sys.executable, "-c", f"import {modules}"], env=env, check=True)
    subprocess.run(COMPILE_OTHER_POLICY, env=env, check=True, capture_output=True)


def run_timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Run `command` and return its wall-clock and CPU (user + system) seconds. Exit 1 when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if completed.returncode != 0:
        sys.stderr.write(f"command failed with exit code {completed.returncode}: {' '.join(command[:4])} ...\n")
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(1)
    return elapsed, cpu


def measure(paths: list[Path], folder: Path, runs: int) -> dict[str, tuple[float, float]]:
    """Return the median (wall-clock, CPU) seconds of the Lark baseline and of the cold, new-files and warm compiles."""
    cache_dir = folder / "cache"
    env = subprocess_environment(folder.parent, cache_dir)
    names = [path.name for path in paths]
    compile_command = [sys.executable, "-m", "govdsl", "compile", *names, "-o", os.devnull]

    from govdsl import resources

    grammar = resources.data_path("grammar") / "govdsl.lark"
    lark_command = [sys.executable, "-c", LARK_DRIVER, str(grammar), *names]
    lark_times = [run_timed(lark_command, env, folder) for _ in range(runs)]

    cold_times = []
    for _ in range(runs):
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold_times.append(run_timed(compile_command, env, folder))

    new_files_times = []
    for _ in range(runs):
        shutil.rmtree(cache_dir, ignore_errors=True)
        subprocess.run(COMPILE_OTHER_POLICY, env=env, cwd=folder, check=True, capture_output=True)
        new_files_times.append(run_timed(compile_command, env, folder))

    # The last new-files run filled the plan cache, and every warm run reads it.
    warm_times = [run_timed(compile_command, env, folder) for _ in range(runs)]
    return {
        "lark": medians(lark_times),
        "cold": medians(cold_times),
        "new_files": medians(new_files_times),
        "warm": medians(warm_times),
    }


def medians(times: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(wall for wall, _ in times), statistics.median(cpu for _, cpu in times)


def format_table(results: dict[int, dict[str, tuple[float, float]]], column: int) -> str:
    """Return one Markdown table, one row per size: wall-clock times for column 0, CPU times for column 1."""
    header = (
        "| controls | Lark parse only (s) | govdsl cold (s) | govdsl new files (s) | govdsl warm (s) "
        "| targets (cold / warm) |"
    )
    rule = "| ---: | ---: | ---: | ---: | ---: | --- |"
    rows = [header, rule]
    for controls, times in results.items():
        lark, cold, new_files, warm = (times[name][column] for name in ("lark", "cold", "new_files", "warm"))
        cold_mark = "met" if cold < COLD_TARGETS[controls] else "missed"
        warm_mark = "met" if warm < WARM_TARGET else "missed"
        targets = f"< {COLD_TARGETS[controls]:g} s {cold_mark} / < {WARM_TARGET:g} s {warm_mark}"
        rows.append(f"| {controls:,} | {lark:.2f} | {cold:.2f} | {new_files:.2f} | {warm:.2f} | {targets} |")
    return "\n".join(rows)


def main() -> int:
    argument_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    argument_parser.add_argument("--runs", type=int, default=3, help="runs per measurement, of which the tables show the median (default 3)")
    argument_parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), choices=list(SIZES), help="numbers of controls to measure"
    )
    argument_parser.add_argument("--keep", metavar="DIR", help="write the policy sets to DIR and keep them, for profiling")
    options = argument_parser.parse_args()

    check_clauses()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="govdsl-bench-") as scratch:
        root = Path(options.keep) if options.keep else Path(scratch)
        warm_up_imports(subprocess_environment(root, root / "warm-up-cache"))
        for controls in options.sizes:
            folder = root / f"controls-{controls}"
            paths = write_policy_set(folder, controls)
            results[controls] = measure(paths, folder, options.runs)
            print(f"measured {controls:,} controls", file=sys.stderr)

    print("Wall-clock seconds:")
    print()
    print(format_table(results, 0))
    print()
    print("CPU seconds (user + system) of the same runs, less sensitive to other load on the machine:")
    print()
    print(format_table(results, 1))
    print()
    print(f"median of {options.runs} runs, wall-clock, each run a fresh subprocess; {FILES_PER_SET} files per set")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", load average %.2f %.2f %.2f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {cpus} CPUs{load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
