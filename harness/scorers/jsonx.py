"""Getting a JSON value out of model text, and comparing JSON fields fairly.

Extraction has two modes:

- strict: the whole reply (surrounding whitespace aside) must be one JSON value.
- lenient: try strict first; then the first ```json (or bare ```) fenced
  block that parses; then the largest top-level object or array embedded
  in the text (so `Sure! {"a": 1} Hope this helps.` yields `{"a": 1}` and
  `Step [1]: ... Answer: {"a": 1}` yields `{"a": 1}`, not `[1]`). A bracket
  inside a structure that does not parse is never a candidate of its own:
  a truncated object (`{"a": {"b": 1}, "c": `) or a Python dict
  (`{'a': [1, 2]}`) yields nothing rather than a fragment of itself.

Both modes accept only what RFC 8259 allows: `NaN`, `Infinity` and numbers
that overflow a double (`1e400`) are not JSON.

Field normalizers make "RM 1,234.50" equal 1234.5 and "25/12/2018" equal
"2018-12-25" where a task says the field is a number or a date.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|json5)?[ \t]*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Extraction:
    """The outcome of pulling JSON from text: `value` is meaningful only when `ok`."""

    ok: bool
    value: Any = None
    method: str = ""  # whole | fenced | embedded
    error: str = ""


class _NotJson(ValueError):
    """A token Python's json module accepts but JSON does not (NaN, Infinity, an overflowing number)."""


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotJson(f"{text} overflows a double")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _loads(text: str) -> tuple[bool, Any, str]:
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError as exc:
        return False, None, f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except ValueError as exc:  # _NotJson, or an integer longer than Python converts
        return False, None, str(exc)
    if end != len(text):
        return False, None, f"extra data at char {end}"
    return True, value, ""


def extract_strict(text: str) -> Extraction:
    ok, value, err = _loads(text.strip())
    return Extraction(True, value, "whole") if ok else Extraction(False, error=f"not JSON: {err}")


_OPEN = re.compile(r"[\[{]")


def _bracket_pairs(text: str) -> dict[int, int]:
    """Each opening bracket's index -> its closing bracket's index (one pass; strings are not special)."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, ch in enumerate(text):
        if ch in "[{":
            stack.append(i)
        elif ch in "]}" and stack:
            pairs[stack.pop()] = i
    return pairs


def _truncated(text: str, exc: ValueError) -> bool:
    """Decoding ran off the end of the text: all that follows is inside the unfinished value."""
    if not isinstance(exc, json.JSONDecodeError):
        return False
    return exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")


def _embedded(text: str) -> Extraction:
    """The largest top-level JSON object or array in `text` (the first of equal size).

    Scanning from each `{` / `[`: a value that decodes is a candidate and the
    scan resumes after it. A value cut off by the end of the text ends the
    scan (every later bracket is inside it: its fragments are not answers).
    A value with a syntax error is skipped whole, up to its closing bracket,
    so nothing nested in it is a candidate; with no closing bracket (a stray
    `{` in prose) the scan resumes where decoding failed.
    """
    best: tuple[int, Any] | None = None
    pairs: dict[int, int] | None = None
    pos = 0
    while (match := _OPEN.search(text, pos)) is not None:
        start = match.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError as exc:
            if _truncated(text, exc):
                break
            pairs = _bracket_pairs(text) if pairs is None else pairs
            failed_at = exc.pos if isinstance(exc, json.JSONDecodeError) else start + 1
            pos = pairs[start] + 1 if start in pairs else max(start + 1, failed_at)
            continue
        if best is None or end - start > best[0]:
            best = (end - start, value)
        pos = end
    if best is None:
        return Extraction(False, error="no JSON object or array found in the output")
    return Extraction(True, best[1], "embedded")


def extract_lenient(text: str) -> Extraction:
    whole = extract_strict(text)
    if whole.ok:
        return whole
    for block in _FENCE.finditer(text):
        ok, value, _ = _loads(block.group(1).strip())
        if ok:
            return Extraction(True, value, "fenced")
    # an unclosed fence (the model ran out of tokens) still may hold a value
    return _embedded(text)


def extract(text: str, mode: str = "lenient") -> Extraction:
    """Extract one JSON value from `text` with mode 'strict' or 'lenient'."""
    if mode == "strict":
        return extract_strict(text)
    if mode == "lenient":
        return extract_lenient(text)
    raise ValueError(f"unknown extraction mode {mode!r} (strict | lenient)")


# ------------------------------------------------------------ normalization

NORMALIZERS = ("text", "number", "date", "exact")

_CURRENCY = re.compile(r"[$€£¥₹₩₽]|\b(?:rm|usd|eur|gbp|jpy|myr|sgd|inr|aud|cad|chf)\b", re.IGNORECASE)
# digits with ',' '.' separators, or a space (also no-break / thin / narrow no-break) before a group of
# exactly three digits ("1 234,50"), then an optional exponent ("1e3")
_NUMBER = re.compile(r"[-+]?\d(?:[\d,.]|[ \u00a0\u2009\u202f](?=\d{3}(?!\d)))*(?:[eE][-+]?\d+)?")

_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d/%m/%Y",  # day first before month first: most of the world, and SROIE
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%y",
    "%d.%m.%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %y",
    "%Y%m%d",
)


def normalize_text(value: Any) -> str:
    """Casefold and collapse whitespace."""
    return " ".join(str(value).casefold().split())


def parse_number(value: Any) -> float | None:
    """A float from 12, "1,234.50", "$ 9.00", "RM60.30", "-5.59", "1.234,50", "1 234,50", "1e3"; None if none.

    When both ',' and '.' occur, the later one is the decimal point. A lone
    ',' followed by exactly three digits is a thousands separator ("1,234"),
    otherwise a decimal comma ("9,50"). A space between digit groups of
    three is a thousands separator (French, SI). A number too large for a
    double ("1e400") is no number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = _CURRENCY.sub(" ", str(value)).strip()
    negative = text.startswith("(") and text.endswith(")")  # accounting style (5.00)
    match = _NUMBER.search(text)
    if not match:
        return None
    num = re.sub(r"\s", "", match.group(0)).rstrip(",.")
    if "," in num and "." in num:
        decimal_comma = num.rfind(",") > num.rfind(".")
        num = num.replace(".", "").replace(",", ".") if decimal_comma else num.replace(",", "")
    elif "," in num:
        parts = num.split(",")
        num = num.replace(",", "") if all(len(p) == 3 for p in parts[1:]) else num.replace(",", ".")
    if num.count(".") > 1:  # "1.234.567" thousands dots
        num = num.replace(".", "")
    try:
        number = float(num)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return -number if negative and number > 0 else number


def parse_date(value: Any) -> str | None:
    """ISO `YYYY-MM-DD` from common date spellings (a trailing time is ignored); None if unparsed."""
    text = re.sub(r"^(\d{4}-\d{2}-\d{2})T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?$", r"\1", str(value).strip())
    text = " ".join(text.replace(",", " ").split())
    # drop a time of day such as "8:13:39 PM" or "20:49"
    text = re.sub(r"\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?\s*$", "", text, flags=re.IGNORECASE).strip()
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed.isoformat()
    return None


def normalize(value: Any, how: str) -> Any:
    """A comparable form of `value` under normalizer `how` (text | number | date | exact).

    A value that does not parse as a number or date falls back to text
    normalization, so "n/a" still equals "N/A".
    """
    if how == "exact":
        return value
    if how == "text":
        return normalize_text(value)
    if how == "number":
        number = parse_number(value)
        return round(number, 6) if number is not None else normalize_text(value)
    if how == "date":
        iso = parse_date(value)
        return iso if iso is not None else normalize_text(value)
    raise ValueError(f"unknown normalizer {how!r}; known: {', '.join(NORMALIZERS)}")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths of a JSON value: {"a": {"b": 1}, "c": [2]} -> {"a.b": 1, "c.0": 2}.

    Null and empty-string leaves are dropped: a field the model sets to null
    or "" is a field it did not predict, and such a gold field has no answer
    (SROIE leaves some totals empty).
    """
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, sub in value.items():
            out.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        if not value and prefix:
            out[prefix] = []
        for i, sub in enumerate(value):
            out.update(flatten(sub, f"{prefix}.{i}" if prefix else str(i)))
    elif value is not None and value != "":
        out[prefix] = value
    return out


def normalizer_for(path: str, rules: dict[str, str]) -> str:
    """The rule for a leaf path: exact path, else its top-level field, else 'exact'."""
    if path in rules:
        return rules[path]
    return rules.get(path.split(".", 1)[0], "exact")


@dataclass(frozen=True)
class FieldMatch:
    precision: float
    recall: float
    f1: float
    exact: bool
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    wrong: tuple[str, ...]
    extra: tuple[str, ...]


def compare_fields(predicted: Any, gold: Any, rules: dict[str, str]) -> FieldMatch:
    """Field-level precision/recall/F1 of `predicted` against `gold` over flattened leaves.

    precision = matched / predicted leaves, recall = matched / gold leaves;
    both empty counts as a perfect match. `exact` means the same leaf set
    with every value equal after normalization.
    """
    pred = {k: normalize(v, normalizer_for(k, rules)) for k, v in flatten(predicted).items()}
    ref = {k: normalize(v, normalizer_for(k, rules)) for k, v in flatten(gold).items()}
    matched = tuple(sorted(k for k in ref if k in pred and pred[k] == ref[k]))
    missing = tuple(sorted(k for k in ref if k not in pred))
    wrong = tuple(sorted(k for k in ref if k in pred and pred[k] != ref[k]))
    extra = tuple(sorted(k for k in pred if k not in ref))
    if not pred and not ref:
        return FieldMatch(1.0, 1.0, 1.0, True, (), (), (), ())
    precision = len(matched) / len(pred) if pred else 0.0
    recall = len(matched) / len(ref) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FieldMatch(precision, recall, f1, pred == ref, matched, missing, wrong, extra)
