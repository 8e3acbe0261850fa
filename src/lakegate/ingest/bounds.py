"""Declared limits on what one delivered file may make lakegate do, checked before any reader
parses it: how much it decompresses to (in all, and per compressed byte), how long a line of
text may be, how many columns a header may name.

The check streams the file once with bounded memory (decompressing where it is compressed), in
the judge process, so even a bomb costs a pass over bytes and nothing more.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, cast

import pyarrow as pa

from lakegate.crawler.detect import Detected
from lakegate.errors import Rejection

CHUNK = 1 << 20
RATIO_FROM_BYTES = 64 * 1024**2  # a ratio matters once this much came out: small files may be all zeros
_DELIMITERS = (b",", b"\t", b";", b"|")


@dataclass(frozen=True)
class Limits:
    """``ingest.*`` bounds on one file (``docs/settings.md``)."""

    max_decompressed_bytes: int = 20 * 1024**3
    max_decompression_ratio: int = 250
    max_line_bytes: int = 16 * 1024**2
    max_columns: int = 10_000
    max_nesting: int = 256  # of a JSON document's arrays and objects


def check(path: str, detected: Detected, size: int, limits: Limits) -> None:
    """Raises: Rejection ``reject.decompression_limit``, ``reject.line_too_long``,
    ``reject.too_many_columns`` or ``reject.too_deep`` when the file at ``path`` exceeds one
    of ``limits``."""
    text = detected.format == "csv"
    nesting = _Nesting(limits.max_nesting, limits.max_line_bytes) if detected.format == "json" else None
    if detected.compression == "none" and not text and nesting is None:
        return  # nothing to stream: readers of binary formats are bounded by the file's own size
    total = 0
    longest = gap = 0  # the longest line so far, and the bytes since the last line break
    header = b""
    for chunk in _chunks(path, detected.compression):
        total += len(chunk)
        _decompressed(total, size, detected.compression, limits)
        if nesting is not None:
            nesting.feed(chunk)
        if not text:
            continue
        if b"\n" not in header and len(header) <= limits.max_line_bytes:
            header += chunk
        first = chunk.find(b"\n")
        if first < 0:
            gap += len(chunk)
        else:
            longest = max(longest, gap + first)
            gap = len(chunk) - chunk.rfind(b"\n") - 1
        # a chunk is smaller than the limit, so only lines spanning chunks can exceed it
        if max(longest, gap) > limits.max_line_bytes:
            raise Rejection(
                f"a line of the file is longer than {_size(limits.max_line_bytes)} (no line break within it)",
                code="reject.line_too_long",
                hint="deliver text with one record per line, or raise ingest.max_line_bytes",
                details={"max_line_bytes": limits.max_line_bytes, "line_bytes_at_least": max(longest, gap)},
            )
    if text:
        line = header.split(b"\n", 1)[0]
        columns = max(line.count(d) for d in _DELIMITERS) + 1
        if columns > limits.max_columns:
            raise Rejection(
                f"the header names {columns:,} columns, more than the {limits.max_columns:,} allowed",
                code="reject.too_many_columns",
                hint="split the file by columns, or raise ingest.max_columns",
                details={"columns": columns, "max_columns": limits.max_columns},
            )


_ESCAPED = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [1 if b in b"[{" else -1 for b in range(256)]
_PEEL = 8


class _Nesting:
    """How deep a JSON text nests its arrays and objects, measured as it streams by, without a
    parser (which is what a document nested 100,000 deep would crash): strings are taken out,
    then the depth is the running sum of the brackets left (+1 opening, -1 closing)."""

    def __init__(self, most: int, longest_string: int) -> None:
        self.most = most
        self.longest_string = longest_string
        self.in_string = False
        self.string_bytes = 0  # of the string still open
        self.escape = b""  # a backslash that ended the last chunk, escaping the next one's first byte
        self.depth = 0  # of the brackets still open

    def feed(self, chunk: bytes) -> None:
        data, self.escape = self.escape + chunk, b""
        if (len(data) - len(data.rstrip(b"\\"))) % 2:
            data, self.escape = data[:-1], b"\\"
        if b"\\" in data:
            data = _ESCAPED.sub(b"", data)  # escaped characters: no quote among them ends a string
        parts = data.split(b'"')
        text = b"".join(parts[1::2] if self.in_string else parts[::2])
        if len(parts) > 1:
            self.string_bytes = 0  # the string still open, if any, began in this chunk
        if len(parts) % 2 == 0:  # an odd number of quotes: in a string, or out of one, now
            self.in_string = not self.in_string
        if self.in_string:
            self.string_bytes += len(parts[-1])
            if self.string_bytes > self.longest_string:
                raise Rejection(
                    f"a JSON string is longer than {_size(self.longest_string)}",
                    code="reject.line_too_long",
                    hint="raise ingest.max_line_bytes if such values are expected",
                    details={"max_line_bytes": self.longest_string},
                )
        brackets = text.translate(None, _NOT_BRACKETS)
        rest, peeled = brackets, 0  # innermost pairs taken out, a level at a time
        while peeled < _PEEL and (b"[]" in rest or b"{}" in rest):
            rest = rest.replace(b"[]", b"").replace(b"{}", b"")
            peeled += 1
        opening = rest.count(b"[") + rest.count(b"{")  # the deepest is at most peeled + these deeper
        if self.depth + opening + peeled > self.most:  # it might go too deep: follow it bracket by bracket
            deepest = max(itertools.accumulate(map(_STEP.__getitem__, brackets), initial=self.depth))
            if deepest > self.most:
                raise Rejection(
                    f"the JSON nests arrays and objects more than {self.most} levels deep",
                    code="reject.too_deep",
                    hint="flatten the documents, or raise ingest.max_nesting",
                    details={"max_nesting": self.most},
                )
        self.depth = max(0, self.depth + 2 * opening - len(rest))  # what closes nothing is not JSON


def _chunks(path: str, compression: str) -> Iterator[bytes]:
    """The bytes the reader would see, a chunk at a time; corrupt data ends them early (the
    reader then rejects the file with its own reason)."""
    try:
        with _unpacked(path, compression) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, pa.ArrowException):
        return


def _decompressed(total: int, size: int, compression: str, limits: Limits) -> None:
    if compression == "none":
        return
    ratio = total / max(size, 1)
    if total > limits.max_decompressed_bytes or (
        total > RATIO_FROM_BYTES and ratio > limits.max_decompression_ratio
    ):
        raise Rejection(
            f"the {compression} file unpacks to more than {_size(total)} from {_size(size)} "
            f"(a ratio above {int(ratio)}:1); lakegate stopped reading it",
            code="reject.decompression_limit",
            hint="deliver it uncompressed or in smaller files, or raise ingest.max_decompressed_mb "
            "or ingest.max_decompression_ratio",
            details={
                "unpacked_bytes_at_least": total,
                "compressed_bytes": size,
                "max_decompressed_bytes": limits.max_decompressed_bytes,
                "max_decompression_ratio": limits.max_decompression_ratio,
            },
        )


@contextmanager
def _unpacked(path: str, compression: str) -> Iterator[BinaryIO]:
    """The file's bytes as its reader sees them (a zip's only member; nothing for an archive of
    several, or a compression the readers refuse: they reject those with their own reason)."""
    if compression == "zip":
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                yield io.BytesIO()
                return
            with archive.open(members[0]) as stream:
                yield cast(BinaryIO, stream)
        return
    if compression == "none":
        with open(path, "rb") as raw:
            yield raw
        return
    codec = {"gzip": "gzip", "bzip2": "bz2", "zstd": "zstd"}.get(compression)
    if codec is None:
        yield io.BytesIO()
        return
    with pa.input_stream(path, compression=codec) as stream:
        yield cast(BinaryIO, stream)


def _size(n: int) -> str:
    if n < 1024**2:
        return f"{n:,} bytes"
    return f"{n / 1024**2:,.0f} MB"
