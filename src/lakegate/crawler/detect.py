"""What a file is, judged by its content, never by its name.

Returns the format (csv, json, parquet, xlsx), compression (gzip, zstd, bzip2, zip or none) and
text encoding, or raises a ``Rejection`` whose code says precisely what is wrong:
``reject.empty``, ``reject.binary``, ``reject.encoding``, ``reject.truncated_parquet``,
``reject.unsupported_compression``. Some of what it accepts (bzip2, zip, Windows-1252,
big-endian UTF-16, Excel) the engine cannot read in place: ``normalize.py`` makes those readable.
"""

from __future__ import annotations

import bz2
import codecs
import re
import struct
import zlib
from dataclasses import dataclass

from lakegate.errors import Rejection

HEAD_BYTES = 64 * 1024
MIXED = "mixed"  # UTF-8 text with lines in another encoding (Windows-1252, Latin-1)
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Detected:
    format: str  # csv | json | parquet | xlsx
    compression: str  # none | gzip | zstd | bzip2 | zip
    json_layout: str = ""  # array | newline_delimited (json only)
    bom: bool = False  # text that starts with a UTF-8 byte-order mark
    # utf-8 | utf-16 (little-endian) | latin-1, which the reader decodes itself; utf-16-be | cp1252
    encoding: str = "utf-8"
    member: str = ""  # the name of the file inside a zip archive
    # known from a full read: a quote never closes; (delimiter, quote, escape, its line) to repair by
    repair: tuple[str, str, str, int] | None = None


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
    compression, member = "none", ""
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
    elif head.startswith(b"BZh"):
        compression = "bzip2"
        try:
            text = bz2.BZ2Decompressor().decompress(head, HEAD_BYTES)
        except (OSError, EOFError, ValueError) as exc:
            raise Rejection(f"the bzip2 data is corrupt: {exc}", code="reject.corrupt_compression") from None
    elif head.startswith(b"PK\x03\x04"):
        member, text = _zip_head(head)
        if member.startswith(_OFFICE_PARTS):
            return Detected("xlsx", "none")
        compression = "zip"
        if text.startswith(_PACKED):
            text = b""  # compressed again: judged once unpacked
    elif head.startswith((b"\xfd7zXZ", b"7z\xbc\xaf")):
        kind = "xz" if head[:2] == b"\xfd7" else "7z"
        raise Rejection(
            f"{kind} compressed files are not supported",
            code="reject.unsupported_compression",
            hint="deliver the file uncompressed, or compressed with gzip, zstd, bzip2 or zip",
        )
    if compression == "zstd":
        return Detected("csv", compression)
    if not text and compression in ("bzip2", "zip"):
        return Detected("csv", compression, member=member)  # its head is not in ours: judged once unpacked
    if text.startswith(PARQUET_MAGIC):
        return Detected("parquet", compression, member=member)
    encoding = _check_text(text, truncated=len(head) >= HEAD_BYTES or compression != "none")
    if encoding.startswith("utf-16"):
        text = text.removeprefix(codecs.BOM_UTF16_LE).removeprefix(codecs.BOM_UTF16_BE)
        text = text.decode(f"{encoding}-le" if encoding == "utf-16" else encoding, errors="ignore").encode()
        if b"\x00" in text[:8192] or _control_ratio(text[:8192]) > 0.1:
            raise _binary()  # zero bytes that are not UTF-16 text after all
    bom = text.startswith(codecs.BOM_UTF8)
    stripped = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise Rejection("the file holds only white space", code="reject.empty")
    if stripped[:1] in (b"[", b"{"):
        layout = "array" if stripped[:1] == b"[" else "newline_delimited"
        return Detected("json", compression, layout, bom, encoding, member)
    return Detected("csv", compression, bom=bom, encoding=encoding, member=member)


_PACKED = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"PK\x03\x04", b"\xfd7zXZ", b"7z\xbc\xaf")
# The first part of an Office Open XML package (an .xlsx workbook), as writers put it.
_OFFICE_PARTS = ("[Content_Types].xml", "_rels/", "docProps/", "xl/")


def _zip_head(head: bytes) -> tuple[str, bytes]:
    """The first member of a zip archive: its name and the start of its content (``b""`` when
    the head does not reach it or it is compressed in a way only the archive reader knows)."""
    if len(head) < 30:
        return "", b""
    method, _crc, packed, _size, name_len, extra_len = struct.unpack("<H4xIIIHH", head[8:30])
    name = head[30 : 30 + name_len].decode("utf-8", errors="replace")
    data = head[30 + name_len + extra_len :]
    if method == 0:
        return name, data[:packed] if packed else data
    if method == 8:
        try:
            return name, zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, HEAD_BYTES)
        except zlib.error:
            return name, b""
    return name, b""


def _check_text(data: bytes, *, truncated: bool) -> str:
    """The text's encoding: ``utf-8``; ``utf-16`` (little-endian, as Windows writes it) or
    ``utf-16-be``; ``cp1252`` for 8-bit text that uses the bytes where Windows-1252 differs from
    Latin-1; other text that is not UTF-8 is ``latin-1``.

    Raises:
        Rejection: ``reject.binary``.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or (
        len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:3:2] != b"\x00\x00"
    ):
        return "utf-16"
    if data.startswith(codecs.BOM_UTF16_BE) or (
        len(data) >= 4 and data[0:3:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00"
    ):
        return "utf-16-be"
    sample = data[:8192]
    if b"\x00" in sample or _control_ratio(sample) > 0.1:
        raise _binary()
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=not truncated)
    except UnicodeDecodeError:
        # Windows-1252 has printable characters (€, curly quotes, dashes) where Latin-1 has
        # control codes: text that uses them is Windows-1252, other 8-bit text Latin-1.
        if _UTF8_SEQUENCE.search(data):
            return MIXED  # UTF-8 here, something else there: each line is read by its own evidence
        return "cp1252" if any(0x80 <= b <= 0x9F for b in data) else "latin-1"
    return "utf-8"


# A character UTF-8 writes in two, three or four bytes: evidence that text is UTF-8
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _binary() -> Rejection:
    return Rejection(
        "the file is binary, not text, Parquet or a supported compression",
        code="reject.binary",
        hint="deliver CSV, JSON, NDJSON, Parquet or Excel (plain, gzip, zstd, bzip2 or zip)",
    )


_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    return (len(data) - len(data.translate(None, _CONTROLS))) / len(data)
