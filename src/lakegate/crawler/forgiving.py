"""A forgiving CSV parser, for files a strict reader cannot split into records.

Hand-written files put quotes where the rules do not allow them: an apostrophe inside a field
quoted with apostrophes (``'won't let you down'``), a stray quote before a quoted value
(``""https://…",``), a quote inside an unquoted value (``Men's boots``). A careful person reads
each of them without a second thought; this parser reads them the same way:

* a quote opens a quoted field only as the field's first character;
* inside it, a doubled quote (or the escape character and a quote) is one quote, and a quote
  closes the field only when a delimiter, the line's end or the file's end comes next — any
  other quote is a character of the value;
* a quote that does not close on its line opened nothing: it is a character of a plain field.
  Quoted fields do not span lines here — in a file whose quotes are already broken, a field
  "continuing" on the next line is far more often one broken record swallowing the next.

Memory stays bounded: one line at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def records(lines: Iterable[str], delimiter: str, quote: str, escape: str) -> Iterator[list[str]]:
    """The records of ``lines`` (text lines with their line ends, as a file yields them)."""
    for line in lines:
        yield _split(line, delimiter, quote, escape)


def _split(text: str, delimiter: str, quote: str, escape: str) -> list[str]:
    """The fields of the record on one line."""
    body = text.rstrip("\r\n")
    if not body:
        return []  # a blank line
    fields: list[str] = []
    i, n = 0, len(body)
    while True:
        if i < n and body[i] == quote:
            value, end = _quoted(body, i + 1, delimiter, quote, escape)
            if end is None:
                end = body.find(delimiter, i)  # the quote opened nothing: a plain field
                end = n if end < 0 else end
                value = body[i:end]
            fields.append(value)
            i = end
        else:
            end = body.find(delimiter, i)
            end = n if end < 0 else end
            fields.append(body[i:end])
            i = end
        if i >= n:
            return fields
        i += len(delimiter)
        if i >= n:
            fields.append("")
            return fields


def _quoted(body: str, i: int, delimiter: str, quote: str, escape: str) -> tuple[str, int | None]:
    """The value of a quoted field whose content starts at ``i``, and where the field ends (at a
    delimiter or the end); ``None`` when no quote closes it."""
    out: list[str] = []
    n = len(body)
    while i < n:
        at = body.find(quote, i)
        if escape != quote:
            slash = body.find(escape, i)
            if 0 <= slash < (at if at >= 0 else n) and slash + 1 < n and body[slash + 1] in (quote, escape):
                out += [body[i:slash], body[slash + 1]]
                i = slash + 2
                continue
        if at < 0:
            break
        out.append(body[i:at])
        after = at + 1
        if after == n or body.startswith(delimiter, after):
            return "".join(out), after
        if escape == quote and body[after] == quote:
            out.append(quote)
            i = after + 1
        else:
            out.append(quote)  # neither closes nor is doubled: a character of the value
            i = after
    return "".join(out), None
