"""What a file is, judged by its content, never by its name.

Returns the format (csv, json, parquet) and compression (gzip, zstd, or none), or raises a
``Rejection`` whose code says precisely what is wrong: ``reject.empty``, ``reject.binary``,
``reject.encoding``, ``reject.truncated_parquet``, ``reject.unsupported_compression``.
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass

from lakegate.errors import Rejection

HEAD_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Detected:
    format: str  # csv | json | parquet
    compression: str  # none | gzip | zstd
    json_layout: str = ""  # array | newline_delimited (json only)
    bom: bool = False  # text that starts with a UTF-8 byte-order mark
    encoding: str = "utf-8"  # utf-8 | utf-16 (little-endian) | latin-1: what the reader is told


def detect(head: bytes, tail: bytes, size: int) -> Detected:
    """Classify a file from its first bytes (``head``) and last bytes (``tail``)."""
    if size == 0:
        raise Rejection("the file is empty (0 bytes)", code="reject.empty", hint="deliver it again with data")
    if head.startswith(PARQUET_MAGIC):
        if size < 12 or not tail.endswith(PARQUET_MAGIC):
            raise Rejection(
                "the file starts like Parquet but has no Parquet footer: it was cut short",
                code="reject.truncated_parquet",
                hint="deliver the complete file again",
            )
        return Detected("parquet", "none")
    compression = "none"
    text = head
    if head.startswith(b"\x1f\x8b"):
        compression = "gzip"
        try:
            text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, HEAD_BYTES)
        except zlib.error as exc:
            raise Rejection(f"the gzip data is corrupt: {exc}", code="reject.corrupt_compression") from None
    elif head.startswith(b"\x28\xb5\x2f\xfd"):
        compression = "zstd"
        text = b""  # judged by the reader instead: the standard library has no zstd here
    elif head.startswith((b"BZh", b"PK\x03\x04", b"\xfd7zXZ", b"7z\xbc\xaf")):
        kind = {b"BZ": "bzip2", b"PK": "zip", b"\xfd7": "xz", b"7z": "7z"}[head[:2]]
        raise Rejection(
            f"{kind} compressed files are not supported",
            code="reject.unsupported_compression",
            hint="deliver the file uncompressed, gzip'd or zstd'd",
        )
    if compression == "zstd":
        return Detected("csv", compression)
    encoding = _check_text(text, truncated=len(head) >= HEAD_BYTES or compression != "none")
    if encoding == "utf-16":
        text = text.removeprefix(codecs.BOM_UTF16_LE).decode("utf-16-le", errors="ignore").encode("utf-8")
    bom = text.startswith(codecs.BOM_UTF8)
    stripped = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise Rejection("the file holds only white space", code="reject.empty")
    if stripped[:1] in (b"[", b"{"):
        if encoding != "utf-8":
            raise Rejection(
                f"the file is JSON in {encoding}; JSON is read as UTF-8",
                code="reject.encoding",
                hint=f"convert it to UTF-8 (`iconv -f {encoding.upper()} -t UTF-8`) and deliver it again",
            )
        layout = "array" if stripped[:1] == b"[" else "newline_delimited"
        return Detected("json", compression, layout, bom)
    return Detected("csv", compression, bom=bom, encoding=encoding)


def _check_text(data: bytes, *, truncated: bool) -> str:
    """The text's encoding: ``utf-8``; ``utf-16`` (little-endian, as Windows writes it); or
    ``latin-1`` for text that is not UTF-8 and has none of the bytes where Windows-1252 differs
    from Latin-1 (those would be read as control characters instead of €, quotes and dashes).

    Raises:
        Rejection: ``reject.encoding`` or ``reject.binary``.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or (
        len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:3:2] != b"\x00\x00"
    ):
        return "utf-16"
    if data.startswith(codecs.BOM_UTF16_BE) or (
        len(data) >= 4 and data[0:3:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00"
    ):
        raise Rejection(
            "the file is big-endian UTF-16 text; lakegate reads UTF-8, Latin-1 and little-endian UTF-16",
            code="reject.encoding",
            hint="convert it to UTF-8 (for example `iconv -f UTF-16BE -t UTF-8`) and deliver it again",
        )
    sample = data[:8192]
    if b"\x00" in sample or _control_ratio(sample) > 0.1:
        raise Rejection(
            "the file is binary, not text, Parquet or a supported compression",
            code="reject.binary",
            hint="deliver CSV, JSON, NDJSON or Parquet (optionally gzip or zstd compressed)",
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=not truncated)
    except UnicodeDecodeError as exc:
        windows = [b for b in set(data) if 0x80 <= b <= 0x9F]
        if not windows:
            return "latin-1"
        line = data[: exc.start].count(b"\n") + 1
        raise Rejection(
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}); "
            f"bytes such as 0x{min(windows):02x} make it Windows-1252, which lakegate cannot read yet",
            code="reject.encoding",
            hint="convert it to UTF-8 (for example `iconv -f CP1252 -t UTF-8`) and deliver it again",
            details={"offset": exc.start, "line": line},
        ) from None
    return "utf-8"


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 13, 12))
    return controls / len(data)
