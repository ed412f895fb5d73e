"""Check a model card's YAML front matter against the metadata fields of Hugging Face model cards.

The fields and the `model-index` structure follow the Hub's model card metadata
specification (the `modelcard.md` template of huggingface/hub-docs) and the types of
`huggingface_hub.ModelCardData` (huggingface_hub 2.4). Only structure and types are checked:
the Hub's lists of license ids, languages, libraries and tasks change over time and
are not copied here. Fields the specification does not name are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from govdsl.yamlfiles import key_text, locate

# Fields whose value is one text.
_TEXT_FIELDS = ("library_name", "pipeline_tag", "model_name", "license", "license_name", "license_link")
# Fields whose value is one text or a list of texts.
_TEXT_OR_LIST_FIELDS = ("language", "tags", "datasets", "metrics", "base_model")

# An ISO 639 code with optional BCP 47 subtags, such as `en`, `fil` or `pt-BR`, or a Hub keyword.
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_LANGUAGE_KEYWORDS = ("multilingual", "code")

KeyPath = tuple  # a key path such as ("model-index", 0, "results")


@dataclass(frozen=True)
class MetadataProblem:
    field: str  # the key path, such as `model-index[0].results[0].metrics[1].value`
    message: str
    line: int | None  # the 1-based line of the card, where the YAML places it


def metadata_problems(metadata: dict, front_text: str, first_line: int) -> list[MetadataProblem]:
    """Return the problems of front matter `metadata`, whose YAML text starts at card line `first_line`."""
    found: list[tuple[KeyPath, str]] = []

    def report(path: KeyPath, message: str) -> None:
        found.append((path, message))

    for name in _TEXT_FIELDS:
        if name in metadata:
            _check_text(metadata[name], (name,), report)
    for name in _TEXT_OR_LIST_FIELDS:
        if name in metadata:
            _check_text_or_list(metadata[name], (name,), report)
    if isinstance(metadata.get("language"), (str, list)):
        _check_languages(metadata["language"], report)
    if isinstance(metadata.get("license"), str):
        _check_license(metadata, report)
    if "model-index" in metadata:
        _check_model_index(metadata["model-index"], report)

    problems = []
    for path, message in found:
        position = locate(front_text, list(path))
        line = first_line + position[0] - 1 if position else None
        problems.append(MetadataProblem(key_text(path), message, line))
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _shown(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"`{value}`"


def _is_text(value, numbers: bool = False) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return numbers and isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_text(value, path: KeyPath, report, numbers: bool = False) -> None:
    where = f"`{key_text(path)}`"
    if value is None:
        report(path, f"{where} has no value; give one or remove the field")
    elif isinstance(value, bool):
        report(path, f"{where} is {_shown(value)}, not text: quote a value that YAML reads as a boolean, such as \"no\"")
    elif isinstance(value, str) and not value.strip():
        report(path, f"{where} is empty; give a value or remove the field")
    elif not _is_text(value, numbers):
        report(path, f"{where} is {_shown(value)}, not text")


def _check_text_or_list(value, path: KeyPath, report) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, (*path, index), report)
    elif isinstance(value, dict):
        report(path, f"`{key_text(path)}` is a mapping, not text or a list of texts")
    else:
        _check_text(value, path, report)


def _check_languages(value, report) -> None:
    items = [(("language",), value)] if isinstance(value, str) else [(("language", i), v) for i, v in enumerate(value)]
    for path, item in items:
        if isinstance(item, str) and item.strip() and not (_LANGUAGE.match(item) or item in _LANGUAGE_KEYWORDS):
            report(path, f"`{key_text(path)}` is `{item}`, not a language code such as `en`, `fr` or `pt-BR`")


def _check_license(metadata: dict, report) -> None:
    license_id = metadata["license"]
    if license_id.strip() and re.search(r"\s", license_id.strip()):
        report(
            ("license",),
            f"`license` is `{license_id}`, not a license id such as `apache-2.0`; for a license without an id,"
            " write `license: other` with `license_name` and `license_link`",
        )
    if license_id == "other":
        for name, example in (("license_name", "my-license-1.0"), ("license_link", "LICENSE.md")):
            if name not in metadata:
                report(("license",), f"`license` is `other` but `{name}` is missing; give it, such as `{name}: {example}`")


def _check_mapping(value, path: KeyPath, report) -> bool:
    if isinstance(value, dict):
        return True
    report(path, f"`{key_text(path)}` is {_shown(value)}, not a mapping")
    return False


def _check_list(value, path: KeyPath, report) -> bool:
    if isinstance(value, list):
        return True
    report(path, f"`{key_text(path)}` is {_shown(value)}, not a list")
    return False


def _required(mapping: dict, name: str, path: KeyPath, report) -> bool:
    if name in mapping:
        return True
    report(path, f"`{key_text(path)}` has no `{name}`, which is required")
    return False


def _check_fields(mapping: dict, path: KeyPath, required: tuple[str, ...], optional: tuple[str, ...], report) -> None:
    """Check text fields of a mapping: `required` must be present; numbers count as text for `optional`."""
    for name in required:
        if _required(mapping, name, path, report):
            _check_text(mapping[name], (*path, name), report)
    for name in optional:
        if name in mapping:
            _check_text(mapping[name], (*path, name), report, numbers=True)


def _check_model_index(value, report) -> None:
    path: KeyPath = ("model-index",)
    if not _check_list(value, path, report):
        return
    if not value:
        report(path, "`model-index` is an empty list; give the model's `name` and `results`, or remove the field")
    for index, entry in enumerate(value):
        entry_path = (*path, index)
        if not _check_mapping(entry, entry_path, report):
            continue
        _check_fields(entry, entry_path, ("name",), (), report)
        if _required(entry, "results", entry_path, report) and _check_list(entry["results"], (*entry_path, "results"), report):
            for result_index, result in enumerate(entry["results"]):
                _check_result(result, (*entry_path, "results", result_index), report)


def _check_result(result, path: KeyPath, report) -> None:
    if not _check_mapping(result, path, report):
        return
    if _required(result, "task", path, report) and _check_mapping(result["task"], (*path, "task"), report):
        _check_fields(result["task"], (*path, "task"), ("type",), ("name",), report)
    if _required(result, "dataset", path, report) and _check_mapping(result["dataset"], (*path, "dataset"), report):
        dataset_path = (*path, "dataset")
        _check_fields(result["dataset"], dataset_path, ("type", "name"), ("config", "split", "revision"), report)
        _check_arguments(result["dataset"], dataset_path, report)
    if _required(result, "metrics", path, report) and _check_list(result["metrics"], (*path, "metrics"), report):
        for metric_index, metric in enumerate(result["metrics"]):
            _check_metric(metric, (*path, "metrics", metric_index), report)
    if "source" in result and _check_mapping(result["source"], (*path, "source"), report):
        _check_fields(result["source"], (*path, "source"), ("url",), ("name",), report)


def _check_metric(metric, path: KeyPath, report) -> None:
    if not _check_mapping(metric, path, report):
        return
    _check_fields(metric, path, ("type",), ("name", "config"), report)
    if _required(metric, "value", path, report):
        value = metric["value"]
        if value is None or isinstance(value, (bool, dict, list)) or (isinstance(value, str) and not value.strip()):
            report((*path, "value"), f"`{key_text((*path, 'value'))}` is {_shown(value)}, not a number or text such as `0.91`")
    _check_arguments(metric, path, report)
    if "verified" in metric and not isinstance(metric["verified"], bool):
        report((*path, "verified"), f"`{key_text((*path, 'verified'))}` is {_shown(metric['verified'])}, not `true` or `false`")


def _check_arguments(mapping: dict, path: KeyPath, report) -> None:
    if "args" in mapping and not isinstance(mapping["args"], (dict, str)):
        report((*path, "args"), f"`{key_text((*path, 'args'))}` is {_shown(mapping['args'])}, not a mapping of arguments")
