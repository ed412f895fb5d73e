"""Compare govdsl's group metrics with fairlearn's MetricFrame on in-memory DataFrames of 1M and 10M rows.

For each configuration (rows, number of sensitive features, dtype of the sensitive
features) a fresh Python subprocess builds one pandas DataFrame and times both sides
on it:

- govdsl: `group_confusion_frame(frame, "label", "prediction", features, 1)`, then
  demographic parity difference, equalized odds difference, and the false positive
  and false negative rate differences computed from those counts.
- fairlearn: one `MetricFrame` with selection_rate, true_positive_rate,
  false_positive_rate, false_negative_rate and count by the same sensitive
  features, then `.difference()`.

Both sides start from the same DataFrame, so the timed work includes encoding the
group columns. The sensitive features are race (6 values), sex (2) and age_cat (3):
the first two for two features, all three for three. They are either pandas
categoricals (as Parquet dictionary columns load) or plain Python strings in object
columns, one string object per distinct value (as `pd.read_csv(dtype=object)` makes
them). Label and prediction are 0/1 integers.

Wall time is the median of `--runs` runs (default 3). fairlearn is much slower, so at
10M rows or more it runs `--large-fairlearn-runs` times (default 1). Peak memory is
the growth of the process's peak resident set size during one call: before each call
the script resets the peak through /proc/self/clear_refs (Linux), then reads
`resource.getrusage(RUSAGE_SELF).ru_maxrss` after it. The largest growth of the runs
is reported. Both sides must give the same four values and the same per-group rates
within 1e-12; otherwise the script stops with exit status 1.

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
import resource
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

# govdsl metric name -> components passed to between_groups_difference.
GOVDSL_METRICS = {
    "demographic_parity_difference": ("selection_rate",),
    "equalized_odds_difference": ("true_positive_rate", "false_positive_rate"),
    "false_positive_rate_difference": ("false_positive_rate",),
    "false_negative_rate_difference": ("false_negative_rate",),
}
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
    """Per-group counts and the four metrics with govdsl; return the values and the per-group rates."""
    from govdsl.evidence.reductions import group_confusion_frame
    from govdsl.metrics.fairness import between_groups_difference, rate

    table = group_confusion_frame(frame, "label", "prediction", features, 1)
    values = {name: between_groups_difference(table, components).value for name, components in GOVDSL_METRICS.items()}
    groups = {key: {name: rate(name, counts) for name in RATES} for key, counts in table.groups.items()}
    return values, groups


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


def _current_rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def measure(function, frame, features, runs: int):
    """Run `function` `runs` times; return the result, wall seconds per run and the largest peak growth in MiB."""
    seconds, growths, result = [], [], None
    for _ in range(runs):
        result = None
        _release_free_memory()
        can_reset = _reset_peak()
        before = _current_rss_kib() if can_reset else None
        start = time.perf_counter()
        result = function(frame, features)
        seconds.append(time.perf_counter() - start)
        if before is not None:
            growths.append((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    return result, seconds, (max(growths) if growths else None)


def compare(govdsl_result, fairlearn_result, label: str) -> float:
    """Return the largest difference between the two sides; raise SystemExit when one is above TOLERANCE."""
    govdsl_values, govdsl_groups = govdsl_result
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
    # Import both sides first, so that neither time nor peak memory includes imports.
    import fairlearn.metrics  # noqa: F401

    import govdsl.evidence.reductions  # noqa: F401
    import govdsl.metrics.fairness  # noqa: F401

    frame, features = build_frame(rows, feature_count, dtype)
    frame_mib = frame.memory_usage(deep=dtype == "object").sum() / 2**20
    record = {"rows": rows, "features": list(features), "dtype": dtype, "frame_mib": frame_mib}
    govdsl_result, seconds, peak = measure(run_govdsl, frame, features, runs)
    record.update(govdsl_seconds=seconds, govdsl_peak_mib=peak, values=govdsl_result[0])
    if fairlearn_runs:
        fairlearn_result, seconds, peak = measure(run_fairlearn, frame, features, fairlearn_runs)
        record.update(fairlearn_seconds=seconds, fairlearn_peak_mib=peak)
        record["largest_gap"] = compare(govdsl_result, fairlearn_result, f"{rows} rows, {features}, {dtype}")
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
    return f"{median:.4f}" if median < 1 else f"{median:.2f}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(records: list[dict]) -> str:
    lines = [
        "| rows | features | dtype | fairlearn s | govdsl s | speed-up | target | fairlearn peak MiB | govdsl peak MiB |",
        "| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for record in records:
        fairlearn_seconds = record.get("fairlearn_seconds")
        govdsl_median = statistics.median(record["govdsl_seconds"])
        if fairlearn_seconds:
            speedup = statistics.median(fairlearn_seconds) / govdsl_median
            target = TARGETS[record["dtype"]]
            verdict = f"{target}x {'met' if speedup >= target else 'missed'}"
            speed = f"{speedup:,.0f}x"
            runs = f" ({len(fairlearn_seconds)} run{'s' if len(fairlearn_seconds) > 1 else ''})"
        else:
            speed, verdict, runs = "-", "-", ""
        lines.append(
            f"| {record['rows']:,} | {', '.join(record['features'])} | {record['dtype']} "
            f"| {_seconds(fairlearn_seconds)}{runs} | {_seconds(record['govdsl_seconds'])} | {speed} | {verdict} "
            f"| {_mib(record.get('fairlearn_peak_mib'))} | {_mib(record['govdsl_peak_mib'])} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROWS))
    parser.add_argument("--features", type=int, nargs="+", choices=FEATURE_COUNTS, default=list(FEATURE_COUNTS))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--runs", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument(
        "--large-fairlearn-runs", type=int, default=1, help=f"fairlearn runs at {LARGE_ROWS:,} rows or more (default 1)"
    )
    parser.add_argument("--govdsl-only", action="store_true", help="time govdsl alone, without fairlearn")
    parser.add_argument("--json", metavar="FILE", help="also write the raw measurements to FILE")
    parser.add_argument("--child", nargs=3, metavar=("ROWS", "FEATURES", "DTYPE"), help=argparse.SUPPRESS)
    parser.add_argument("--fairlearn-runs", type=int, help=argparse.SUPPRESS)
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
                if args.govdsl_only:
                    fairlearn_runs = 0
                else:
                    fairlearn_runs = args.large_fairlearn_runs if rows >= LARGE_ROWS else args.runs
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
                print(
                    f"{rows:,} rows, {feature_count} features, {dtype}: govdsl {record['govdsl_seconds']}, "
                    f"fairlearn {record.get('fairlearn_seconds', '-')}",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": machine(), "versions": versions(), "records": records}, handle, indent=1)
    print()
    print(table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
