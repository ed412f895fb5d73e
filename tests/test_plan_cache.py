"""Plan cache: a repeated `govdsl compile` of unchanged inputs reuses the stored output, byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import govdsl
import govdsl.compiler
from govdsl import resources
from govdsl.catalog import loader
from govdsl.cli import main
from govdsl.compiler import plan_cache

MAIN = """\
import "lib/base.gov"
policy fairness {
  version "1.0.0"
  param max_gap: number
  control fpr_parity {
    title "False positive rates are similar"
    maps ["EU-AI-ACT:Art.10(2)(f)"]
    requires [base.data_ok]
    check gap: false_positive_rate_difference(by = "race") <= 0.1
  }
}
"""

BASE = """\
policy base {
  control data_ok {
    title "Enough rows"
    check selection_rate() >= 0.1
  }
}
"""

AS_OF = "2026-01-15"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Write the policies into a working folder, point the cache at an empty folder and return both."""
    folder = tmp_path / "work"
    (folder / "lib").mkdir(parents=True)
    (folder / "main.gov").write_text(MAIN, encoding="utf-8")
    (folder / "lib" / "base.gov").write_text(BASE, encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("GOVDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GOVDSL_NO_CACHE", raising=False)
    return folder, tmp_path / "cache" / govdsl.__version__


@pytest.fixture
def compiles(monkeypatch):
    """Count the compiles that run, as opposed to those the cache serves."""
    calls: list[tuple[str, ...]] = []
    original = govdsl.compiler.compile_policies

    def counting(arguments, *args, **kwargs):
        calls.append(tuple(arguments))
        return original(arguments, *args, **kwargs)

    monkeypatch.setattr(govdsl.compiler, "compile_policies", counting)
    return calls


def compile_to(output: Path, *arguments: str):
    """Run `govdsl compile` with -o; return the exit code, the stderr text and the bytes written."""
    result = CliRunner().invoke(main, ["compile", *arguments, "-o", str(output)], catch_exceptions=False)
    written = output.read_bytes() if output.exists() else None
    return result.exit_code, result.stderr, written


def uncached(monkeypatch, output: Path, *arguments: str):
    with monkeypatch.context() as patch:
        patch.setenv("GOVDSL_NO_CACHE", "1")
        return compile_to(output, *arguments)


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*.plan")) if cache_dir.is_dir() else []


def test_repeat_compile_served_from_cache(workspace, compiles, tmp_path):
    _, cache_dir = workspace
    first = compile_to(tmp_path / "first.json", "main.gov", "--as-of", AS_OF)
    second = compile_to(tmp_path / "second.json", "main.gov", "--as-of", AS_OF)

    assert compiles == [("main.gov",)]
    assert len(entries(cache_dir)) == 1
    assert first[0] == second[0] == 0
    assert second[2] == first[2]
    assert second[1] == first[1]


def test_cached_output_identical_to_uncached(workspace, compiles, tmp_path, monkeypatch):
    expected = uncached(monkeypatch, tmp_path / "expected.json", "main.gov", "--as-of", AS_OF)
    compile_to(tmp_path / "store.json", "main.gov", "--as-of", AS_OF)
    cached = compile_to(tmp_path / "cached.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 2
    assert cached == expected
    # The replayed diagnostics include the warning with its source line, and count the info note.
    assert "warning[W343]" in cached[1]
    assert "govdsl: 1 info note (I207) not shown; -v shows them" in cached[1]
    assert "  |" in cached[1]


def test_cached_stdout_identical(workspace, compiles):
    runner = CliRunner()
    arguments = ["compile", "main.gov", "--as-of", AS_OF]
    first = runner.invoke(main, arguments, catch_exceptions=False)
    second = runner.invoke(main, arguments, catch_exceptions=False)

    assert len(compiles) == 1
    assert second.stdout_bytes == first.stdout_bytes
    assert json.loads(second.stdout)["plan_version"] == 2


def test_changed_imported_file_recompiles(workspace, compiles, tmp_path, monkeypatch):
    folder, _ = workspace
    compile_to(tmp_path / "before.json", "main.gov", "--as-of", AS_OF)
    (folder / "lib" / "base.gov").write_text(BASE.replace(">= 0.1", ">= 0.2"), encoding="utf-8")
    after = compile_to(tmp_path / "after.json", "main.gov", "--as-of", AS_OF)
    expected = uncached(monkeypatch, tmp_path / "expected.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 3
    assert after == expected
    assert b"selection_rate() >= 0.2" in after[2]


def test_changed_root_file_recompiles(workspace, compiles, tmp_path):
    folder, _ = workspace
    compile_to(tmp_path / "before.json", "main.gov", "--as-of", AS_OF)
    (folder / "main.gov").write_text(MAIN.replace("<= 0.1", "<= 0.05"), encoding="utf-8")
    after = compile_to(tmp_path / "after.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 2
    assert b"<= 0.05" in after[2]


def test_deleted_imported_file_reports_error(workspace, compiles, tmp_path):
    folder, _ = workspace
    compile_to(tmp_path / "before.json", "main.gov", "--as-of", AS_OF)
    (folder / "lib" / "base.gov").unlink()
    code, stderr, _ = compile_to(tmp_path / "after.json", "main.gov", "--as-of", AS_OF)

    assert code == 2
    assert "E501" in stderr


def test_changed_option_recompiles(workspace, compiles, tmp_path, monkeypatch):
    compile_to(tmp_path / "early.json", "main.gov", "--as-of", AS_OF)
    later = compile_to(tmp_path / "later.json", "main.gov", "--as-of", "2028-01-01")
    expected = uncached(monkeypatch, tmp_path / "expected.json", "main.gov", "--as-of", "2028-01-01")

    assert len(compiles) == 3
    assert later == expected
    assert "I207" not in later[1]


def test_changed_arguments_recompile(workspace, compiles, tmp_path):
    compile_to(tmp_path / "one.json", "main.gov", "--as-of", AS_OF)
    compile_to(tmp_path / "two.json", "main.gov", "lib/base.gov", "--as-of", AS_OF)

    assert compiles == [("main.gov",), ("main.gov", "lib/base.gov")]


@pytest.fixture
def catalog_copy(tmp_path, monkeypatch):
    """Load the catalogs from a copy that a test may edit, and return the copy's folder."""
    copy = tmp_path / "regulations"
    shutil.copytree(resources.data_path("regulations"), copy)
    original = resources.data_path

    def data_path(kind: str) -> Path:
        return copy if kind == "regulations" else original(kind)

    monkeypatch.setattr(resources, "data_path", data_path)
    loader.load_catalogs.cache_clear()
    yield copy
    loader.load_catalogs.cache_clear()


def test_changed_catalog_recompiles(workspace, catalog_copy, compiles, tmp_path):
    before = compile_to(tmp_path / "before.json", "main.gov", "--as-of", AS_OF)
    catalog = next(path for path in sorted(catalog_copy.glob("*.yaml")) if "Art.10(2)(f)" in path.read_text(encoding="utf-8"))
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text + "\n# edited\n", encoding="utf-8")
    loader.load_catalogs.cache_clear()
    after = compile_to(tmp_path / "after.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 2
    assert after == before


def test_environment_digest_follows_sources(tmp_path, monkeypatch):
    package = tmp_path / "govdsl"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "sub" / "code.py").write_text("A = 1\n", encoding="utf-8")
    (package / "sub" / "__pycache__" / "code.cpython-311.pyc").write_bytes(b"\x00")
    monkeypatch.setattr(govdsl, "__file__", str(package / "__init__.py"))

    first = plan_cache.environment_digest()
    (package / "sub" / "__pycache__" / "code.cpython-311.pyc").write_bytes(b"\x01")
    unchanged = plan_cache.environment_digest()
    (package / "sub" / "code.py").write_text("A = 2\n", encoding="utf-8")
    changed = plan_cache.environment_digest()

    assert unchanged == first
    assert changed != first


@pytest.mark.parametrize(
    "damage",
    ["empty", "garbage", "no header line", "wrong key", "truncated output", "changed output", "bad diagnostics"],
)
def test_damaged_entry_falls_back(workspace, compiles, tmp_path, monkeypatch, damage):
    _, cache_dir = workspace
    compile_to(tmp_path / "store.json", "main.gov", "--as-of", AS_OF)
    (entry,) = entries(cache_dir)
    data = entry.read_bytes()
    header, _, body = data.partition(b"\n")
    fields = json.loads(header)
    if damage == "empty":
        data = b""
    elif damage == "garbage":
        data = b"\x80\x81 not json\n" + body
    elif damage == "no header line":
        data = header
    elif damage == "wrong key":
        data = json.dumps({**fields, "key": "0" * 64}).encode() + b"\n" + body
    elif damage == "truncated output":
        data = data[:-10]
    elif damage == "changed output":
        data = header + b"\n" + body.replace(b'"plan_version": 2', b'"plan_version": 3')
    elif damage == "bad diagnostics":
        data = json.dumps({**fields, "diagnostics": [{"code": "W1"}]}).encode() + b"\n" + body
    entry.write_bytes(data)

    result = compile_to(tmp_path / "after.json", "main.gov", "--as-of", AS_OF)
    expected = uncached(monkeypatch, tmp_path / "expected.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 3
    assert result == expected
    # The compile replaced the damaged entry with a good one.
    compile_to(tmp_path / "again.json", "main.gov", "--as-of", AS_OF)
    assert len(compiles) == 3


def test_no_cache_variable_stores_nothing(workspace, compiles, tmp_path, monkeypatch):
    _, cache_dir = workspace
    monkeypatch.setenv("GOVDSL_NO_CACHE", "1")
    compile_to(tmp_path / "one.json", "main.gov", "--as-of", AS_OF)
    compile_to(tmp_path / "two.json", "main.gov", "--as-of", AS_OF)

    assert len(compiles) == 2
    assert entries(cache_dir) == []


def test_failed_compile_stores_nothing(workspace, compiles, tmp_path):
    folder, cache_dir = workspace
    (folder / "main.gov").write_text(MAIN.replace("<= 0.1", "= 0.1"), encoding="utf-8")
    for _ in range(2):
        code, stderr, _ = compile_to(tmp_path / "out.json", "main.gov", "--as-of", AS_OF)
        assert code == 2
        assert "E006" in stderr

    assert len(compiles) == 2
    assert entries(cache_dir) == []


def test_shipped_policy_served_from_cache(workspace, compiles, tmp_path):
    first = compile_to(tmp_path / "first.json", "govdsl:examples/compas.gov", "--as-of", AS_OF)
    second = compile_to(tmp_path / "second.json", "govdsl:examples/compas.gov", "--as-of", AS_OF)

    assert len(compiles) == 1
    assert second == first


def test_entry_is_private(workspace, tmp_path):
    _, cache_dir = workspace
    compile_to(tmp_path / "out.json", "main.gov", "--as-of", AS_OF)

    (entry,) = entries(cache_dir)
    assert cache_dir.stat().st_mode & 0o077 == 0
    assert list(cache_dir.glob("*.tmp")) == []
    assert entry.read_bytes().startswith(b'{"format": "govdsl-plan-cache-1"')


def test_hit_imports_no_compiler(workspace, tmp_path):
    folder, _ = workspace
    compile_to(tmp_path / "store.json", "main.gov", "--as-of", AS_OF)
    code = (
        "import sys\n"
        "from govdsl.cli import main\n"
        f"main(['compile', 'main.gov', '--as-of', '{AS_OF}', '-o', {str(tmp_path / 'hit.json')!r}], standalone_mode=False)\n"
        "heavy = ['lark', 'networkx', 'jsonschema', 'yaml', 'pandas', 'numpy', 'govdsl.syntax.ast',\n"
        "         'govdsl.syntax.fastparse', 'govdsl.compiler.passes', 'govdsl.catalog']\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=True)

    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "hit.json").read_bytes() == (tmp_path / "store.json").read_bytes()
