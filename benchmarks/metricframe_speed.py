"""Compare govdsl's group metrics with fairlearn's MetricFrame on in-memory DataFrames of 1M and 10M rows.

For each configuration (rows, number of sensitive features, dtype of the sensitive
features) a fresh Python subprocess builds one pandas DataFrame and times three
computations on it:

- govdsl: `group_confusion_frame(frame, "label", "prediction", features, 1)`, then
  demographic parity difference, equalized odds difference, and the false positive
  and false negative rate differences, each computed from those counts by the
  implementation that govdsl's metric registry names.
- fairlearn: one `MetricFrame` with selection_rate, true_positive_rate,
  false_positive_rate, false_negative_rate and count by the same sensitive
  features, then `.difference()`.
- pandas groupby, for context: the four confusion counts per group from one
  `DataFrame.groupby(features, observed=True).sum()` over boolean columns. It shows
  what plain vectorized pandas costs for the same counts.

Both sides start from the same DataFrame, so the timed work includes encoding the
group columns. The sensitive features are race (6 values), sex (2) and age_cat (3):
the first two for two features, all three for three. They are either pandas
categoricals (as Parquet dictionary columns load) or plain Python strings in object
columns, one string object per distinct value (as `pd.read_csv(dtype=object)` makes
them). Label and prediction are 0/1 integers.

Times are medians of `--runs` runs (default 5) for govdsl and pandas, and of
`--fairlearn-runs` runs (default 1) for fairlearn, which takes minutes per run. At
10M rows or more, fairlearn runs only for the feature counts in
`--large-fairlearn-features` (default: all). Both wall-clock and CPU seconds
(`time.process_time`, all threads of the process) are recorded; on a machine shared
with other jobs the CPU seconds are the steadier measure.

Peak memory is the growth of the process's peak resident set size during one call:
before each call the script resets the peak by writing 5 to /proc/self/clear_refs
(Linux 4.0 or later) and reads the resident set size, and after the call it reads
the peak (`VmHWM` in /proc/self/status). The largest growth of the runs is reported.

All three must give the same confusion counts per group, and govdsl and fairlearn
the same four values and the same per-group rates within 1e-12; otherwise the
script stops with exit status 1.

Run from the repository root:

    python benchmarks/metricframe_speed.py                  # 1M and 10M rows, all configurations
    python benchmarks/metricframe_speed.py --rows 1000000   # 1M rows only
    python benchmarks/metricframe_speed.py --govdsl-only    # skip fairlearn (no speed-up column)

The script prints a Markdown table and exits 0 whether or not a target is met.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROWS = (1_000_000, 10_000_000)
FEATURE_COUNTS = (2, 3)
DTYPES = ("category", "object")
LARGE_ROWS = 10_000_000

# Speed-up targets (fairlearn seconds / govdsl seconds) per dtype of the sensitive features.
TARGETS = {"category": 500, "object": 100}
TOLERANCE = 1e-12

FEATURES = {
    "race": ("White", "Black", "Hispanic", "Asian", "Native American", "Other"),
    "sex": ("Male", "Female"),
    "age_cat": ("25 - 45", "Less than 25", "Greater than 45"),
}
# Shares of each race value, so that groups differ in size as they do in real data.
RACE_SHARES = (0.45, 0.25, 0.15, 0.08, 0.02, 0.05)

# The govdsl metrics timed; each is computed as a check computes it, through the registry.
GOVDSL_METRICS = (
    "demographic_parity_difference",
    "equalized_odds_difference",
    "false_positive_rate_difference",
    "false_negative_rate_difference",
)
RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "false_negative_rate")


def build_frame(rows: int, feature_count: int, dtype: str, seed: int = 0):
    """Return a DataFrame with `feature_count` sensitive features of `dtype` and 0/1 label and prediction."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = list(FEATURES)[:feature_count]
    columns = {}
    base_rate = np.full(rows, 0.3)
    for position, name in enumerate(names):
        values = FEATURES[name]
        shares = RACE_SHARES if name == "race" else None
        codes = rng.choice(len(values), size=rows, p=shares).astype(np.int8)
        # Each value shifts the chance of a positive label a little, so the metrics are not all 0.
        base_rate += (codes - (len(values) - 1) / 2) * 0.01 * (position + 1)
        if dtype == "category":
            columns[name] = pd.Categorical.from_codes(codes, categories=list(values))
        else:
            # One str object per distinct value, as pd.read_csv(dtype=object) gives.
            columns[name] = pd.Series(np.array(values, dtype=object)[codes], dtype=object)
    label = (rng.random(rows) < base_rate).astype(np.int64)
    # A prediction that agrees with the label 80% of the time.
    flip = rng.random(rows) < 0.2
    prediction = np.where(flip, 1 - label, label).astype(np.int64)
    frame = pd.DataFrame(columns)
    frame["label"] = label
    frame["prediction"] = prediction
    return frame, tuple(names)


def run_govdsl(frame, features):
    """Per-group counts and the four metrics with govdsl; return the values, per-group rates and counts."""
    from govdsl.evidence.reductions import group_confusion_frame
    from govdsl.metrics.fairness import rate
    from govdsl.metrics.registry import REGISTRY

    table = group_confusion_frame(frame, "label", "prediction", features, 1)
    values = {}
    for name in GOVDSL_METRICS:
        declaration = REGISTRY[name]
        values[name] = declaration.load()(table, declaration.components).value
    groups = {key: {name: rate(name, counts) for name in RATES} for key, counts in table.groups.items()}
    counts = {key: counts.to_dict() for key, counts in table.groups.items()}
    return values, groups, counts


def run_pandas(frame, features):
    """The four confusion counts per group with one pandas groupby; return them by group key."""
    import pandas as pd

    actual = frame["label"].to_numpy() == 1
    predicted = frame["prediction"].to_numpy() == 1
    cells = {
        "tp": actual & predicted,
        "fp": ~actual & predicted,
        "fn": actual & ~predicted,
        "tn": ~actual & ~predicted,
    }
    table = pd.DataFrame({**{name: frame[name] for name in features}, **cells})
    sums = table.groupby(list(features), observed=True, sort=False).sum()
    return {
        (tuple(str(value) for value in key) if isinstance(key, tuple) else (str(key),)): {
            name: int(row[name]) for name in cells
        }
        for key, row in sums.iterrows()
    }


def run_fairlearn(frame, features):
    """The same with one fairlearn MetricFrame and `.difference()`."""
    import fairlearn.metrics as flm

    metric_frame = flm.MetricFrame(
        metrics={
            "selection_rate": flm.selection_rate,
            "true_positive_rate": flm.true_positive_rate,
            "false_positive_rate": flm.false_positive_rate,
            "false_negative_rate": flm.false_negative_rate,
            "count": flm.count,
        },
        y_true=frame["label"],
        y_pred=frame["prediction"],
        sensitive_features=frame[list(features)],
    )
    difference = metric_frame.difference()
    values = {
        "demographic_parity_difference": float(difference["selection_rate"]),
        "equalized_odds_difference": float(max(difference["true_positive_rate"], difference["false_positive_rate"])),
        "false_positive_rate_difference": float(difference["false_positive_rate"]),
        "false_negative_rate_difference": float(difference["false_negative_rate"]),
    }
    by_group = metric_frame.by_group
    groups = {}
    for key, row in by_group.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        groups[tuple(str(value) for value in key)] = {name: float(row[name]) for name in RATES}
    return values, groups


def _release_free_memory() -> None:
    """Collect garbage and hand freed heap memory back to the system, so the next peak starts low."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    """Reset this process's peak resident set size (Linux 4.0 or later); return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int:
    """Return a memory field of /proc/self/status, such as VmRSS or VmHWM, in KiB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def measure(function, frame, features, runs: int) -> dict:
    """Run `function` `runs` times; return its result, wall and CPU seconds per run, and the largest peak growth in MiB."""
    wall, cpu, growths, result = [], [], [], None
    for _ in range(runs):
        result = None
        _release_free_memory()
        before = _status_kib("VmRSS") if _reset_peak() else None
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        result = function(frame, features)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
        if before is not None:
            growths.append((_status_kib("VmHWM") - before) / 1024)
    return {"result": result, "wall": wall, "cpu": cpu, "peak_mib": max(growths) if growths else None}


def compare_counts(govdsl_counts: dict, pandas_counts: dict, label: str) -> None:
    """Raise SystemExit when govdsl and pandas count differently in any group."""
    if govdsl_counts != pandas_counts:
        differing = sorted(key for key in set(govdsl_counts) | set(pandas_counts) if govdsl_counts.get(key) != pandas_counts.get(key))
        raise SystemExit(f"govdsl and pandas count differently ({label}) in groups {differing[:10]}")


def compare(govdsl_result, fairlearn_result, label: str) -> float:
    """Return the largest difference between the two sides; raise SystemExit when one is above TOLERANCE."""
    govdsl_values, govdsl_groups, _ = govdsl_result
    fairlearn_values, fairlearn_groups = fairlearn_result
    problems, largest = [], 0.0
    for name, value in govdsl_values.items():
        if value is None:
            problems.append(f"{name}: govdsl value undefined")
            continue
        gap = abs(value - fairlearn_values[name])
        largest = max(largest, gap)
        if gap > TOLERANCE:
            problems.append(f"{name}: govdsl {value!r}, fairlearn {fairlearn_values[name]!r}")
    if set(govdsl_groups) != set(fairlearn_groups):
        problems.append(f"groups differ: govdsl {sorted(govdsl_groups)}, fairlearn {sorted(fairlearn_groups)}")
    else:
        for key, rates in govdsl_groups.items():
            for name, value in rates.items():
                gap = abs(value - fairlearn_groups[key][name]) if value is not None else float("inf")
                largest = max(largest, gap)
                if gap > TOLERANCE:
                    problems.append(f"{key} {name}: govdsl {value!r}, fairlearn {fairlearn_groups[key][name]!r}")
    if problems:
        raise SystemExit(f"govdsl and fairlearn disagree ({label}):\n  " + "\n  ".join(problems[:20]))
    return largest


def child(rows: int, feature_count: int, dtype: str, runs: int, fairlearn_runs: int) -> None:
    """Measure one configuration in this process and print the result as one JSON line."""
    # Import every side first, so that neither time nor peak memory includes imports.
    import fairlearn.metrics  # noqa: F401

    import govdsl.evidence.reductions  # noqa: F401
    import govdsl.metrics.fairness  # noqa: F401
    import govdsl.metrics.registry  # noqa: F401

    frame, features = build_frame(rows, feature_count, dtype)
    label = f"{rows} rows, {features}, {dtype}"
    frame_mib = frame.memory_usage(deep=dtype == "object").sum() / 2**20
    record = {"rows": rows, "features": list(features), "dtype": dtype, "frame_mib": frame_mib}

    # One untimed call loads the metric implementations that the registry imports lazily.
    run_govdsl(frame.head(1000), features)
    govdsl_side = measure(run_govdsl, frame, features, runs)
    record["govdsl"] = {key: govdsl_side[key] for key in ("wall", "cpu", "peak_mib")}
    record["values"] = govdsl_side["result"][0]

    pandas_side = measure(run_pandas, frame, features, runs)
    record["pandas"] = {key: pandas_side[key] for key in ("wall", "cpu", "peak_mib")}
    compare_counts(govdsl_side["result"][2], pandas_side["result"], label)

    if fairlearn_runs:
        fairlearn_side = measure(run_fairlearn, frame, features, fairlearn_runs)
        record["fairlearn"] = {key: fairlearn_side[key] for key in ("wall", "cpu", "peak_mib")}
        record["largest_gap"] = compare(govdsl_side["result"], fairlearn_side["result"], label)
    print(json.dumps(record))


def versions() -> str:
    import fairlearn
    import numpy
    import pandas
    import sklearn

    return (
        f"Python {platform.python_version()}, pandas {pandas.__version__}, numpy {numpy.__version__}, "
        f"fairlearn {fairlearn.__version__}, scikit-learn {sklearn.__version__}"
    )


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def _seconds(values: list[float] | None) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    return f"{median:.3f}" if median < 10 else f"{median:,.0f}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(records: list[dict], clock: str) -> str:
    """Render the records as a Markdown table of `clock` ("wall" or "cpu") seconds and peak memory."""
    lines = [
        "| rows | features | dtype | fairlearn s | pandas groupby s | govdsl s | speed-up vs fairlearn | target "
        "| fairlearn peak MiB | pandas peak MiB | govdsl peak MiB |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for record in records:
        fairlearn = record.get("fairlearn", {})
        govdsl_median = statistics.median(record["govdsl"][clock])
        if fairlearn:
            speedup = statistics.median(fairlearn[clock]) / govdsl_median
            target = TARGETS[record["dtype"]]
            verdict = f"{target}x {'met' if speedup >= target else 'missed'}"
            speed = f"{speedup:,.0f}x"
            count = len(fairlearn[clock])
            runs = f" ({count} run{'s' if count > 1 else ''})"
        else:
            speed, verdict, runs = "not run", "-", ""
        lines.append(
            f"| {record['rows']:,} | {', '.join(record['features'])} | {record['dtype']} "
            f"| {_seconds(fairlearn.get(clock))}{runs} | {_seconds(record['pandas'][clock])} "
            f"| {_seconds(record['govdsl'][clock])} | {speed} | {verdict} "
            f"| {_mib(fairlearn.get('peak_mib'))} | {_mib(record['pandas']['peak_mib'])} "
            f"| {_mib(record['govdsl']['peak_mib'])} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROWS))
    parser.add_argument("--features", type=int, nargs="+", choices=FEATURE_COUNTS, default=list(FEATURE_COUNTS))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--runs", type=int, default=5, help="runs of govdsl and of pandas per configuration (default 5)")
    parser.add_argument("--fairlearn-runs", type=int, default=1, help="runs of fairlearn per configuration (default 1)")
    parser.add_argument(
        "--large-fairlearn-features",
        type=int,
        nargs="+",
        choices=FEATURE_COUNTS,
        default=list(FEATURE_COUNTS),
        help=f"feature counts for which fairlearn runs at {LARGE_ROWS:,} rows or more (default: all)",
    )
    parser.add_argument("--govdsl-only", action="store_true", help="time govdsl and pandas, without fairlearn")
    parser.add_argument("--json", metavar="FILE", help="also write the raw measurements to FILE")
    parser.add_argument("--child", nargs=3, metavar=("ROWS", "FEATURES", "DTYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        rows, feature_count, dtype = args.child
        child(int(rows), int(feature_count), dtype, args.runs, args.fairlearn_runs)
        return 0

    print(f"Machine: {machine()}; {versions()}", flush=True)
    records = []
    for rows in args.rows:
        for feature_count in args.features:
            for dtype in args.dtypes:
                fairlearn_runs = args.fairlearn_runs
                if args.govdsl_only or (rows >= LARGE_ROWS and feature_count not in args.large_fairlearn_features):
                    fairlearn_runs = 0
                command = [
                    sys.executable, os.path.abspath(__file__), "--child", str(rows), str(feature_count), dtype,
                    "--runs", str(args.runs), "--fairlearn-runs", str(fairlearn_runs),
                ]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    sys.stderr.write(done.stderr)
                    print(f"configuration {rows} rows, {feature_count} features, {dtype} failed", file=sys.stderr)
                    return 1
                record = json.loads(done.stdout.strip().splitlines()[-1])
                records.append(record)
                fairlearn_cpu = record.get("fairlearn", {}).get("cpu", "-")
                print(
                    f"{rows:,} rows, {feature_count} features, {dtype}: CPU seconds govdsl {record['govdsl']['cpu']}, "
                    f"pandas {record['pandas']['cpu']}, fairlearn {fairlearn_cpu}",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "w") as handle:
                        json.dump({"machine": machine(), "versions": versions(), "records": records}, handle, indent=1)
    print()
    print("CPU seconds (median):\n")
    print(table(records, "cpu"))
    print("\nWall-clock seconds (median):\n")
    print(table(records, "wall"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
