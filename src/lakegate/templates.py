"""Key templates: how a dataset names its files, and how values are made from those names.

A **key template** describes the landing keys of one dataset and captures named fields::

    landing/{customer}/sales_{date:%Y%m%d}.csv

``{name}`` matches one or more characters within one folder level; ``{name:%Y%m%d}`` matches a
date or time written with those ``strftime`` directives and captures it as a date; ``{name:**}``
matches across folders. ``*`` and ``**`` match the same without capturing. Every other
character is literal (``.``, ``+`` and ``(`` included); ``{{`` and ``}}`` are literal braces.

A **value template** makes a database, table or partition value from the captured fields::

    {customer}          the text as delivered
    dt={date:%Y-%m-%d}  a captured date, reformatted
    {file}              the delivered file name (always available)
    {arrival:%Y-%m-%d}  when the file arrived (its landing time), in UTC or the dataset's time zone;
                        ``{arrival}`` alone is ``%Y-%m-%d``
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lakegate.errors import ConfigError

# strftime directives a key template may use, with what each matches.
_DIRECTIVES = {
    "Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}",
    "S": r"\d{2}", "j": r"\d{3}", "b": r"[A-Za-z]{3}", "B": r"[A-Za-z]{3,9}", "%": "%",
}  # fmt: skip
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILTINS = {"file", "arrival"}
ARRIVAL_FORMAT = "%Y-%m-%d"


class TemplateError(ConfigError):
    code = "config.template"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | path | date
    fmt: str = ""  # the strftime format of a date


Value = str | dt.datetime


def _pieces(text: str, *, wildcards: bool) -> list[str | Field]:
    """Literal strings and fields, in order; with ``wildcards``, ``*`` and ``**`` are unnamed fields."""
    out: list[str | Field] = []
    literal = ""
    i = 0
    while i < len(text):
        c = text[i]
        if text.startswith(("{{", "}}"), i):
            literal += c
            i += 2
        elif c == "{":
            end = text.find("}", i)
            if end < 0:
                raise TemplateError(
                    f"template {text!r}: the `{{` at {i + 1} is never closed",
                    hint="write {name} or {name:%Y%m%d}; a literal brace is {{",
                )
            name, _, spec = text[i + 1 : end].partition(":")
            if not _NAME.fullmatch(name):
                raise TemplateError(
                    f"template {text!r}: {name!r} is not a field name",
                    hint="field names are letters, digits and _, not starting with a digit",
                )
            out += [literal, _field(text, name, spec)]
            literal = ""
            i = end + 1
        elif c == "}":
            raise TemplateError(
                f"template {text!r}: the `}}` at {i + 1} closes nothing", hint="a literal brace is }}"
            )
        elif c == "*" and wildcards:
            double = text.startswith("**", i)
            out += [literal, Field("", "path" if double else "text")]
            literal = ""
            i += 2 if double else 1
        else:
            literal += c
            i += 1
    out.append(literal)
    return [p for p in out if p != ""]


def _field(text: str, name: str, spec: str) -> Field:
    if not spec:
        return Field(name, "text")
    if spec == "**":
        return Field(name, "path")
    if "%" not in spec:
        raise TemplateError(
            f"template {text!r}: {{{name}:{spec}}} is neither a date format nor **",
            hint="write {name}, {name:**} or a date such as {name:%Y%m%d}",
        )
    _date_regex(text, spec)
    return Field(name, "date", spec)


def _date_regex(text: str, fmt: str) -> str:
    out = ""
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1 : i + 2]
            if directive not in _DIRECTIVES:
                raise TemplateError(
                    f"template {text!r}: %{directive} is not a supported date directive",
                    hint="use %Y %y %m %d %H %M %S %j %b %B or %%",
                )
            out += _DIRECTIVES[directive]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return out


class KeyTemplate:
    """A landing key pattern with named fields."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces = _pieces(text, wildcards=True)
        self.fields: dict[str, Field] = {}
        pattern = ""
        for piece in self.pieces:
            if isinstance(piece, str):
                pattern += re.escape(piece)
                continue
            if piece.name in self.fields or piece.name in BUILTINS:
                why = "twice" if piece.name in self.fields else "but it is a built-in name"
                raise TemplateError(
                    f"template {text!r}: the field {piece.name!r} is named {why}",
                    hint="give each field its own name",
                )
            body = {"text": r"[^/]+?", "path": r".+?", "date": _date_regex(text, piece.fmt)}[piece.kind]
            if piece.name:
                self.fields[piece.name] = piece
                pattern += f"(?P<{piece.name}>{body})"
            else:
                pattern += f"(?:{body})"
        self.regex = re.compile(pattern)

    def match(self, key: str) -> dict[str, Value] | None:
        """The fields of ``key``, or ``None`` when it does not fit (or a date is not a real date)."""
        found = self.regex.fullmatch(key)
        if found is None:
            return None
        values: dict[str, Value] = {}
        for name, text in found.groupdict().items():
            field = self.fields[name]
            if field.kind == "date":
                try:
                    values[name] = dt.datetime.strptime(text, field.fmt)
                except ValueError:
                    return None  # 20261341 has the shape of a date, but is none
            else:
                values[name] = text
        return values

    def render(self, values: dict[str, Value]) -> str:
        """The key these field values make (the inverse of ``match``); unnamed wildcards need none."""
        out = ""
        for piece in self.pieces:
            if isinstance(piece, str):
                out += piece
            elif not piece.name:
                raise TemplateError(f"template {self.text!r} has unnamed wildcards: it cannot make keys")
            else:
                value = values[piece.name]
                out += value.strftime(piece.fmt) if isinstance(value, dt.datetime) else value
        return out


class ValueTemplate:
    """A database, table or partition value made from the fields a key template captured."""

    def __init__(self, text: str, key: KeyTemplate) -> None:
        self.text = text
        self.pieces = _pieces(text, wildcards=False)
        self._formats = {n: f.fmt for n, f in key.fields.items() if f.kind == "date"}
        for piece in self.pieces:
            if isinstance(piece, str):
                continue
            field = key.fields.get(piece.name)
            if field is None and piece.name not in BUILTINS:
                known = ", ".join(sorted([*key.fields, *BUILTINS]))
                raise TemplateError(
                    f"{text!r} uses {{{piece.name}}}, which {key.text!r} does not capture",
                    hint=f"use one of: {known}",
                )
            if piece.kind == "date" and piece.name != "arrival" and (field is None or field.kind != "date"):
                raise TemplateError(
                    f"{text!r} formats {{{piece.name}}} as a date, but it is captured as text",
                    hint=f"capture it as a date in the key template: {{{piece.name}:%Y%m%d}}",
                )

    def names_pattern(self) -> re.Pattern[str]:
        """Matches the identifiers this template can make (for a database or table name)."""
        body = "".join(
            re.escape(re.sub(r"[^a-z0-9_]", "_", p.lower())) if isinstance(p, str) else ".+"
            for p in self.pieces
        )
        return re.compile(f"_?{body}")

    @property
    def uses_arrival(self) -> bool:
        return any(isinstance(p, Field) and p.name == "arrival" for p in self.pieces)

    def render(self, values: dict[str, Value], file: str, arrival: dt.datetime | None = None) -> str:
        """The value for one key's fields; ``arrival`` is the (zoned) landing time, when used."""
        out = ""
        for piece in self.pieces:
            if isinstance(piece, str):
                out += piece
                continue
            if piece.name == "arrival":
                assert arrival is not None, "the template uses {arrival}"
                out += arrival.strftime(piece.fmt or ARRIVAL_FORMAT)
                continue
            value: Value = file if piece.name == "file" else values[piece.name]
            if piece.kind == "date":
                assert isinstance(value, dt.datetime)
                out += value.strftime(piece.fmt)
            elif isinstance(value, dt.datetime):
                out += value.strftime(self._formats[piece.name])  # as it was delivered
            else:
                out += value
        return out
