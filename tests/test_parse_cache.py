"""Tests of the on-disk parse cache: hits, misses, damaged entries, unusable folders and the off switch."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import govdsl
from govdsl.errors import InvalidInputError
from govdsl.syntax import cache
from govdsl.syntax.parser import parse

POLICY = """\
# A comment the AST keeps.
policy fairness {
  version "1.0.0"

  control fpr_parity {
    title "False positive rates are similar across races"
    owner "model-risk@example.org"
    maps ["EU-AI-ACT:Art.10(2)(f)", "NIST-AI-RMF:MEASURE 2.11"]
    severity high
    enforcement hard
    remediation "Recalibrate per group and re-run the gate."
    check fpr_gap: false_positive_rate_difference(by = "race") <= 0.1
    check ratio: demographic_parity_ratio(by = "race") >= 80%
  }
}
"""


@pytest.fixture(autouse=True)
def lark_only(monkeypatch):
    """Parse with Lark, because the cache stores only the Modules that Lark builds."""
    monkeypatch.setenv("GOVDSL_PARSER", "lark")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """Point the cache at an empty temporary folder and return the folder of this version's entries."""
    monkeypatch.setenv("GOVDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GOVDSL_NO_CACHE", raising=False)
    return tmp_path / "cache" / govdsl.__version__


@pytest.fixture
def parse_calls(monkeypatch):
    """Count the calls that reach the real parser through the cache module."""
    calls: list[str] = []

    def counting_parse(text: str, file: str = "<string>"):
        calls.append(file)
        return parse(text, file)

    monkeypatch.setattr(cache, "parse", counting_parse)
    return calls


def entries(folder: Path) -> list[Path]:
    """Return the parse cache entries of a folder; the validated catalogs are cached beside them."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.pickle") if not p.name.startswith("catalogs-"))


def spans(module) -> list[object]:
    """Return every span in the tree. AST equality ignores spans, so tests compare them separately."""
    return [node.span for node in module.walk()] + [comment.span for comment in module.comments]


def test_hit_equals_fresh_parse(cache_dir, parse_calls):
    first = cache.parse_cached(POLICY, "policies/fairness.gov")
    second = cache.parse_cached(POLICY, "policies/fairness.gov")
    fresh = parse(POLICY, "policies/fairness.gov")

    assert parse_calls == ["policies/fairness.gov"]
    assert len(entries(cache_dir)) == 1
    assert second == fresh
    assert spans(second) == spans(fresh)
    assert second.comments == fresh.comments
    assert second.file == "policies/fairness.gov"
    assert second is not first  # read back from disk, not kept in memory


def test_changed_text_misses(cache_dir, parse_calls):
    cache.parse_cached(POLICY, "fairness.gov")
    changed = POLICY.replace("<= 0.1", "<= 0.05")
    module = cache.parse_cached(changed, "fairness.gov")

    assert parse_calls == ["fairness.gov", "fairness.gov"]
    assert len(entries(cache_dir)) == 2
    assert module == parse(changed, "fairness.gov")


def test_changed_file_name_misses(cache_dir, parse_calls):
    cache.parse_cached(POLICY, "a.gov")
    module = cache.parse_cached(POLICY, "b.gov")

    assert parse_calls == ["a.gov", "b.gov"]
    assert module.file == "b.gov"
    assert module.policies[0].span.file == "b.gov"


def test_key_depends_on_every_part():
    key = cache.cache_key(POLICY, "a.gov")

    assert key == cache.cache_key(POLICY, "a.gov")
    assert key != cache.cache_key(POLICY + " ", "a.gov")
    assert key != cache.cache_key(POLICY, "b.gov")
    # Without length prefixes these two would hash the same bytes.
    assert cache.cache_key("bc", "a") != cache.cache_key("c", "ab")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a pickle",
        pickle.dumps(("govdsl-parse-cache-1", "another key", None)),
        pickle.dumps({"a": 1})[:-3],
    ],
    ids=["empty", "garbage", "wrong-key", "truncated"],
)
def test_corrupt_entry_is_ignored_and_rewritten(cache_dir, parse_calls, content):
    cache.parse_cached(POLICY, "fairness.gov")
    (entry,) = entries(cache_dir)
    entry.write_bytes(content)

    module = cache.parse_cached(POLICY, "fairness.gov")
    again = cache.parse_cached(POLICY, "fairness.gov")

    assert module == parse(POLICY, "fairness.gov")
    assert again == module
    assert parse_calls == ["fairness.gov", "fairness.gov"]
    assert entry.read_bytes() != content


CALLS_FROM_ENTRIES: list[str] = []


def record_call(text: str) -> None:
    CALLS_FROM_ENTRIES.append(text)


class _CallingEntry:
    """Pickles to a call of `record_call`, as a planted entry could call any function."""

    def __reduce__(self):
        return (record_call, ("called",))


def test_entry_calling_a_function_is_rejected(cache_dir, parse_calls):
    cache.parse_cached(POLICY, "fairness.gov")
    (entry,) = entries(cache_dir)
    entry.write_bytes(pickle.dumps(_CallingEntry()))

    module = cache.parse_cached(POLICY, "fairness.gov")

    assert CALLS_FROM_ENTRIES == []
    assert module == parse(POLICY, "fairness.gov")
    assert len(parse_calls) == 2


def test_unwritable_folder_still_parses(tmp_path, monkeypatch, caplog):
    # The cache path runs through a regular file, so mkdir fails even for root,
    # which ignores permission bits.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("GOVDSL_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("GOVDSL_NO_CACHE", raising=False)

    with caplog.at_level("DEBUG", logger="govdsl"):
        first = cache.parse_cached(POLICY, "fairness.gov")
        second = cache.parse_cached(POLICY, "fairness.gov")

    assert first == parse(POLICY, "fairness.gov")
    assert second == first
    not_written = [record for record in caplog.records if "not written" in record.getMessage()]
    assert len(not_written) == 1
    assert all(record.levelname == "DEBUG" for record in caplog.records)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX ownership and mode bits")
def test_folder_others_can_write_is_not_read(cache_dir, parse_calls):
    cache.parse_cached(POLICY, "fairness.gov")
    cache_dir.chmod(0o777)
    try:
        module = cache.parse_cached(POLICY, "fairness.gov")
    finally:
        cache_dir.chmod(0o700)

    assert module == parse(POLICY, "fairness.gov")
    assert len(parse_calls) == 2


def test_version_folder_is_private(cache_dir):
    cache.parse_cached(POLICY, "fairness.gov")

    assert cache_dir.is_dir()
    if hasattr(os, "geteuid"):
        assert cache_dir.stat().st_mode & 0o077 == 0
    assert list(cache_dir.glob("*.tmp")) == []


@pytest.mark.parametrize("value", ["1", "true"])
def test_no_cache_variable_disables(cache_dir, parse_calls, monkeypatch, value):
    monkeypatch.setenv("GOVDSL_NO_CACHE", value)

    cache.parse_cached(POLICY, "fairness.gov")
    cache.parse_cached(POLICY, "fairness.gov")

    assert len(parse_calls) == 2
    assert not cache_dir.parent.exists()


def test_no_cache_zero_keeps_cache(cache_dir, parse_calls, monkeypatch):
    monkeypatch.setenv("GOVDSL_NO_CACHE", "0")

    cache.parse_cached(POLICY, "fairness.gov")
    cache.parse_cached(POLICY, "fairness.gov")

    assert len(parse_calls) == 1


def test_invalid_input_raises_and_writes_nothing(cache_dir):
    broken = POLICY.replace("<= 0.1", "= 0.1")

    for _ in range(2):
        with pytest.raises(InvalidInputError) as raised:
            cache.parse_cached(broken, "broken.gov")
        assert raised.value.diagnostics[0].code == "E006"

    assert entries(cache_dir) == []


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_state_restored(cache_dir, enabled):
    broken = POLICY.replace("<= 0.1", "= 0.1")
    was_enabled = gc.isenabled()
    if not enabled:
        gc.disable()
    try:
        cache.parse_cached(POLICY, "fairness.gov")  # miss
        assert gc.isenabled() is enabled
        cache.parse_cached(POLICY, "fairness.gov")  # hit
        assert gc.isenabled() is enabled
        with pytest.raises(InvalidInputError):
            cache.parse_cached(broken, "broken.gov")
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()


def test_folder_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("GOVDSL_CACHE_DIR", raising=False)
    monkeypatch.delenv("GOVDSL_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_folder() == tmp_path / "xdg" / "govdsl" / govdsl.__version__

    # A relative XDG_CACHE_HOME is invalid under the XDG specification and is ignored.
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_folder() == tmp_path / "home" / ".cache" / "govdsl" / govdsl.__version__


def test_compile_uses_cache(cache_dir, tmp_path):
    from govdsl.compiler import compile_policies

    policy = tmp_path / "fairness.gov"
    policy.write_text(POLICY, encoding="utf-8")

    first, _ = compile_policies([str(policy)])
    second, _ = compile_policies([str(policy)])

    assert len(entries(cache_dir)) == 1
    assert second.to_json() == first.to_json()


def test_cache_imports_no_numeric_stack():
    code = (
        "import sys, govdsl.syntax.cache\n"
        "loaded = {'pandas', 'numpy', 'fairlearn'} & set(sys.modules)\n"
        "print(sorted(loaded))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert completed.stdout.strip() == "[]"


def test_fast_parser_text_not_stored(cache_dir, parse_calls, monkeypatch):
    monkeypatch.delenv("GOVDSL_PARSER")

    first = cache.parse_cached(POLICY, "fairness.gov")
    second = cache.parse_cached(POLICY, "fairness.gov")

    assert entries(cache_dir) == []
    assert parse_calls == []
    assert second == first


def test_text_fast_parser_declines_is_stored(cache_dir, parse_calls, monkeypatch):
    monkeypatch.delenv("GOVDSL_PARSER")
    # `not in` split over two lines is valid, but the fast parser leaves it to Lark.
    text = POLICY.replace("<= 0.1", "not\n in [0.1]")

    first = cache.parse_cached(text, "fairness.gov")
    second = cache.parse_cached(text, "fairness.gov")

    assert len(entries(cache_dir)) == 1
    assert parse_calls == ["fairness.gov"]
    assert second == first
    assert spans(second) == spans(first)
