"""Bind policy parameters to values: the command line over a parameters file over the risk tier over the default."""

from __future__ import annotations

import datetime
import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from govdsl.compiler.plan import Plan
from govdsl.diagnostics import Diagnostic, Span, error
from govdsl.engine.expressions import Duration, Environment, Evaluator, display
from govdsl.errors import InvalidInputError
from govdsl.yamlfiles import load_yaml, locate

_TYPE_EXAMPLES = {
    "number": "write a number such as 0.1 or a percentage such as 10%",
    "bool": "write true or false",
    "duration": "write a duration such as 90d, 12w, 48h or 1y",
    "date": "write a date as YYYY-MM-DD",
    "string": "write any text",
    "list[string]": "write the items separated by commas, such as race,sex",
    "list[number]": "write numbers separated by commas, such as 0.1,0.2",
}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([dwhy])$")
_DURATION_DAYS = {"d": 1.0, "w": 7.0, "h": 1.0 / 24.0, "y": 365.0}


@dataclass(frozen=True)
class BoundParam:
    name: str
    type: str
    value: object
    source: str  # "default", "tier high", "file PATH" or "command line"

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "value": display(self.value), "source": self.source}


def parse_value(text, type_name: str):
    """Convert a value from the command line (text) or a parameters file (YAML) to a parameter's type."""
    if type_name == "number":
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            number = float(text)
        else:
            raw = str(text).strip()
            number = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
        # inf and nan compare as always true or always false, so they would decide a gate by themselves.
        if not math.isfinite(number):
            raise ValueError("expected a finite number, not infinity or NaN")
        return number
    if type_name == "bool":
        if isinstance(text, bool):
            return text
        lowered = str(text).strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError("expected true or false")
    if type_name == "duration":
        match = _DURATION.match(str(text).strip())
        if not match:
            raise ValueError("expected a duration such as 90d, 12w, 48h or 1y")
        return Duration(float(match.group(1)) * _DURATION_DAYS[match.group(2)])
    if type_name == "date":
        if isinstance(text, datetime.date):
            return text
        return datetime.date.fromisoformat(str(text).strip())
    if type_name.startswith("list["):
        items = text if isinstance(text, list) else [item.strip() for item in str(text).split(",") if item.strip()]
        element = type_name[5:-1]
        return [parse_value(item, element) for item in items]
    if isinstance(text, (dict, list)):
        raise ValueError("expected a single value")
    return str(text)


def _resolve_name(plan: Plan, name: str) -> str | None:
    if name in plan.params:
        return name
    matches = [qualified for qualified in plan.params if qualified.split(".", 1)[1] == name]
    return matches[0] if len(matches) == 1 else None


class ParamValues(dict):
    """Parameter values read from a file, with the file's text and the position of each name's key."""

    def __init__(self, values: dict, text: str = "", file: str = "", keys: dict | None = None) -> None:
        super().__init__(values)
        self.text = text
        self.file = file
        self.keys = keys or {}  # flat name -> its key path in the YAML document

    def span(self, name: str) -> Span | None:
        position = locate(self.text, self.keys[name]) if name in self.keys else None
        return Span.point(self.file, *position) if position else None


def read_params_file(path: str) -> ParamValues:
    """Read a YAML parameters file: `name: value` pairs, or `policy: {name: value}` mappings."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = load_yaml(text)
    except FileNotFoundError:
        raise InvalidInputError([error("E704", f"parameters file `{path}` not found")]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError([error("E704", f"cannot read parameters file `{path}`: {exc}")]) from None
    if data is None:
        return ParamValues({}, text, path)
    if not isinstance(data, dict):
        raise InvalidInputError([error("E704", f"parameters file `{path}` must be a mapping of names to values")])
    flat: dict[str, object] = {}
    keys: dict[str, list] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = item
                keys[f"{key}.{inner}"] = [key, inner]
        else:
            flat[str(key)] = value
            keys[str(key)] = [key]
    return ParamValues(flat, text, path, keys)


def bind_params(
    plan: Plan,
    model: dict,
    as_of: datetime.date,
    command_line: dict[str, str] | None = None,
    file_values: dict[str, object] | None = None,
    file_name: str = "",
) -> dict[str, BoundParam]:
    """Give every parameter its value; raise InvalidInputError naming each unknown, mistyped or unset parameter."""
    diagnostics: list[Diagnostic] = []
    explicit: dict[str, tuple[object, str]] = {}
    for values, source, code in ((file_values or {}, f"file {file_name}", "E705"), (command_line or {}, "command line", "E701")):
        for name, raw in values.items():
            qualified = _resolve_name(plan, name)
            if qualified is None:
                bare = {q.split(".", 1)[1]: q for q in plan.params}
                close = difflib.get_close_matches(name, list(plan.params), n=1) or [
                    bare[m] for m in difflib.get_close_matches(name, list(bare), n=1)
                ]
                ambiguous = [q for q in plan.params if q.split(".", 1)[1] == name]
                help_text = (
                    f"`{name}` is declared by several policies; write one of {', '.join(ambiguous)}"
                    if ambiguous
                    else (f"did you mean `{close[0]}`?" if close else f"parameters: {', '.join(sorted(plan.params)) or 'none'}")
                )
                diagnostics.append(error(code, f"unknown parameter `{name}` from the {source}", _span_of(values, name), help_text))
                continue
            spec = plan.params[qualified]
            try:
                explicit[qualified] = (parse_value(raw, spec.type), source)
            except (ValueError, TypeError):
                diagnostics.append(
                    error(
                        "E702",
                        f"parameter `{qualified}` is a `{spec.type}`, but `{raw}` from the {source} is not",
                        _span_of(values, name),
                        _TYPE_EXAMPLES.get(spec.type, f"give a `{spec.type}`"),
                    )
                )
    evaluator = Evaluator(Environment({}, model, None, as_of))
    bound: dict[str, BoundParam] = {}
    tier = model.get("risk_tier")
    for name, spec in sorted(plan.params.items()):
        if name in explicit:
            value, source = explicit[name]
        elif tier in spec.tiers:
            value, source = evaluator.evaluate(spec.tiers[tier]), f"tier {tier}"
        elif spec.default is not None:
            value, source = evaluator.evaluate(spec.default), "default"
        else:
            diagnostics.append(
                error("E703", f"parameter `{name}` has no value", help=f"set it with --param {name}=VALUE or in a parameters file")
            )
            continue
        bound[name] = BoundParam(name, spec.type, value, source)
    if diagnostics:
        sources = {file_values.file: file_values.text} if isinstance(file_values, ParamValues) and file_values.file else None
        raise InvalidInputError(diagnostics, sources)
    return bound


def _span_of(values: dict, name: str) -> Span | None:
    """Return where a parameters file sets `name`; None for values from the command line."""
    return values.span(name) if isinstance(values, ParamValues) else None
