"""Write JSON text byte-identical to `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)`.

CPython's json module uses its C encoder only when `indent` is None, so the indented
plan of 10,000 controls (about 55 MB) took longer to write than to compile. This
writer walks dicts in Python, with the text before each value prepared once per set
of keys and indentation, and hands runs of plain values to C code:

- a list of strings becomes one `str.join` of the C string encoder's results;
- a list of dicts whose values are all scalars, such as the graph's nodes and edges,
  goes through the C encoder in one call. Its item separator is a comma, a line
  break and a NUL character, and the NUL is then replaced by the indentation of its
  level. The encoder writes a NUL inside a string as the escape `\\u0000`, so every
  NUL in its output is one of these markers.

A value the writer does not handle (a key that is not a string, a subclass of str,
int, float, list or dict, NaN or infinity, or any other type) makes it hand the
whole value to `json.dumps`, which returns the same text or raises the same error.
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring

_INDENT = "  "
_MARKER = "\x00"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STRING = frozenset({str})
_DICT = frozenset({dict})
_float_repr = float.__repr__
_int_repr = int.__repr__
_INFINITY = float("inf")


def _reject(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Arguments: markers (None skips the circular reference check), default, string encoder,
# indent (unused by the C encoder), key separator, item separator, sort_keys, skipkeys, allow_nan.
_encode_flat = (
    c_make_encoder(None, _reject, encode_basestring, None, ": ", "," + "\n" + _MARKER, True, False, False)
    if c_make_encoder is not None
    else None
)


class _NotHandled(Exception):
    """The value needs json.dumps."""


def dumps(value) -> str:
    """Return `value` as indented JSON text with sorted keys, exactly as json.dumps writes it."""
    parts: list[str] = []
    try:
        _write(value, "\n", parts)
    except (_NotHandled, TypeError, ValueError):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return "".join(parts)


def _scalar(value) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return _int_repr(value)
    if kind is float and value == value and value != _INFINITY and value != -_INFINITY:
        return _float_repr(value)
    raise _NotHandled


def _write(value, newline: str, parts: list[str]) -> None:
    """Append the text of `value`; `newline` is a line break followed by the indentation of its level."""
    kind = type(value)
    if kind is dict:
        _write_dict(value, newline, parts)
    elif kind is list or kind is tuple:
        _write_list(value, newline, parts)
    else:
        parts.append(_scalar(value))


def _is_flat(mapping: dict) -> bool:
    """Return whether `mapping` has items and only scalar values, so the C encoder can write it."""
    return bool(mapping) and _SCALARS.issuperset(map(type, mapping.values()))


# The text before each value of a dict, by the dict's indentation and sorted keys: the first
# opens the dict, the others follow a comma. Most plans have a few dozen distinct key sets.
_prefixes: dict[tuple[str, ...], list[str]] = {}
_MAX_PREFIXES = 4096


def _write_dict(mapping: dict, newline: str, parts: list[str]) -> None:
    if not mapping:
        parts.append("{}")
        return
    # sorted() raises TypeError for keys of mixed types, and encode_basestring for a key
    # that is not a string; dumps() then falls back to json.dumps either way.
    keys = sorted(mapping)
    shape = (newline, *keys)
    prefixes = _prefixes.get(shape)
    inner = newline + _INDENT
    if prefixes is None:
        prefixes = ["," + inner + encode_basestring(key) + ": " for key in keys]
        prefixes[0] = "{" + prefixes[0][1:]
        if len(_prefixes) < _MAX_PREFIXES:
            _prefixes[shape] = prefixes
    append = parts.append
    for prefix, key in zip(prefixes, keys):
        value = mapping[key]
        kind = type(value)
        if kind is str:
            append(prefix + encode_basestring(value))
        elif kind is dict:
            append(prefix)
            _write_dict(value, inner, parts)
        elif kind is list or kind is tuple:
            append(prefix)
            _write_list(value, inner, parts)
        else:
            append(prefix + _scalar(value))
    append(newline + "}")


def _write_list(items, newline: str, parts: list[str]) -> None:
    if not items:
        parts.append("[]")
        return
    inner = newline + _INDENT
    if _STRING.issuperset(map(type, items)):
        parts.append("[" + inner + ("," + inner).join(map(encode_basestring, items)) + newline + "]")
        return
    if _encode_flat is not None and _DICT.issuperset(map(type, items)) and all(map(_is_flat, items)):
        _write_records(items, newline, parts)
        return
    separator = "[" + inner
    for item in items:
        parts.append(separator)
        _write(item, inner, parts)
        separator = "," + inner
    parts.append(newline + "]")


def _write_records(items, newline: str, parts: list[str]) -> None:
    """Append a list of non-empty dicts of scalars, encoded by one call of the C encoder."""
    inner = newline + _INDENT
    field = inner + _INDENT
    text = "".join(_encode_flat(list(items), 0))
    # The separator between two dicts is the only marker followed by `{`; a separator inside
    # a dict is followed by the `"` of the next key.
    text = text[2:-2].replace("},\n" + _MARKER + "{", inner + "}," + inner + "{" + field)
    parts.append("[" + inner + "{" + field + text.replace("\n" + _MARKER, field) + inner + "}" + newline + "]")
