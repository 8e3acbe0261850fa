"""Files the engine cannot read where they lie, made readable: unpacked and re-encoded as UTF-8.

bzip2 and zip archives, Windows-1252 and big-endian UTF-16 text, and compressed Parquet are
written to a temporary local file the engine reads (Excel workbooks it reads from a local file
with its excel extension). The crawler infers the table from that file, and ingestion writes a
derived Parquet copy of it beside the untouched delivered file, which queries read instead.
Everything is streamed: memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from lakegate.crawler import footnotes, forgiving
from lakegate.crawler.detect import HEAD_BYTES, MIXED, Detected, detect
from lakegate.duck.readers import FilePlan, plan_select
from lakegate.duck.sql import sql_literal
from lakegate.errors import Rejection
from lakegate.storage import ObjectStore

CHUNK = 1024 * 1024
# Encodings the CSV reader does not decode itself (JSON is only read as UTF-8)
ENCODING_NAMES = {
    "cp1252": "Windows-1252",
    "utf-16-be": "big-endian UTF-16",
    MIXED: "UTF-8 with lines in Windows-1252",
}
# Entries archivers add beside the real content
_ZIP_NOISE = ("__MACOSX/", ".DS_Store", "Thumbs.db")


def copy_reason(detected: Detected) -> str:
    """Why the engine cannot read a delivered file in place (``""`` when it can)."""
    if detected.format == "xlsx":
        return "an Excel workbook"
    if detected.compression in ("bzip2", "zip"):
        return f"{detected.compression} compressed"
    if detected.format == "parquet" and detected.compression != "none":
        return f"{detected.compression} compressed Parquet"
    if _needs_utf8(detected):
        return f"{ENCODING_NAMES.get(detected.encoding, detected.encoding)} text"
    if detected.repair is not None:
        return "a quote that never closes (records repaired)"
    return ""


def _needs_utf8(detected: Detected) -> bool:
    return detected.encoding in ENCODING_NAMES or (detected.format == "json" and detected.encoding != "utf-8")


@dataclass
class Readable:
    """A delivered file as the engine reads it."""

    path: str  # the delivered file itself, or a temporary readable copy of it
    detected: Detected  # what that file is
    reason: str  # why queries read a derived Parquet copy ("": they read the delivered file)
    notes: list[str] = field(default_factory=list)  # what making it readable left out


@contextmanager
def readable(
    path: str, detected: Detected, source: Callable[[], BinaryIO] | None = None
) -> Iterator[Readable]:
    """A file the engine reads: ``path`` itself when it can be read in place, else a temporary
    local file, removed on exit. CSV whose last lines are footnotes is read without them.

    ``source`` opens the delivered file when ``path`` is a URL.

    Raises:
        Rejection: ``reject.zip_members`` for an archive without exactly one file,
            ``reject.unsupported_compression`` for an archive inside an archive,
            ``reject.encoding`` for text its encoding cannot decode.
    """
    reason = copy_reason(detected)
    found = None if reason else _footnotes(path, detected)
    if not reason and found is None:
        yield Readable(path, detected, reason)  # read in place: nothing to prepare
        return
    with tempfile.TemporaryDirectory(prefix="lakegate-readable-") as work:
        folder = Path(work)
        local = path
        if reason:
            opener = source or (lambda: open(path, "rb"))  # noqa: SIM115 - closed by its user
            if "://" in path and (detected.format == "xlsx" or detected.compression == "zip"):
                local = str(folder / "delivered")
                with opener() as stream, open(local, "wb") as out:
                    shutil.copyfileobj(stream, out, CHUNK)
                opener = lambda: open(local, "rb")  # noqa: E731, SIM115
            if detected.format == "xlsx":
                yield Readable(local, detected, reason)
                return
            if detected.compression != "none":
                local = _unpack(local, opener, detected, folder)
                mixed = detected.encoding == MIXED
                detected = detect_file(local)
                if mixed:  # known from a full read, which the unpacked file's head may not show
                    detected = replace(detected, encoding=MIXED)
                if detected.compression in ("bzip2", "zip"):
                    raise Rejection(
                        "the archive holds another archive",
                        code="reject.unsupported_compression",
                        hint="deliver the file with one level of compression",
                    )
        notes: list[str] = []
        if reason:
            if detected.encoding == MIXED:
                local, legacy = _mixed_to_utf8(local, folder)
                detected = replace(detected, encoding="utf-8", bom=False)
                if legacy:
                    shown = ", ".join(str(n) for n in legacy[:10]) + (", …" if len(legacy) > 10 else "")
                    what = f"lines {shown} are" if len(legacy) > 1 else f"line {shown} is"
                    notes.append(f"{what} not UTF-8, read as Windows-1252 (the rest of the file is UTF-8)")
            elif _needs_utf8(detected) or (detected.repair and detected.encoding != "utf-8"):
                local = _to_utf8(local, detected.encoding, folder)
                detected = replace(detected, encoding="utf-8", bom=False)
            if detected.repair is not None:
                local = _repair_quotes(local, detected.repair, folder)
                line = detected.repair[3]
                notes.append(
                    f"a quote {f'on line {line} ' if line else ''}never closes: the records were read as "
                    "a forgiving CSV parser does (a quote that neither opens nor closes a field is kept)"
                )
            found = _footnotes(local, detected)
        if found is not None:
            trimmed = str(folder / "without-footnotes")
            footnotes.copy_without(local, found, trimmed)
            local, reason = trimmed, reason or "footnote lines after the table"
            n = len(found.lines)
            quoted = "; ".join(repr(line[:60]) for line in found.lines[:3]) + ("; …" if n > 3 else "")
            what = (
                f"the last {n} lines came after the table and were"
                if n > 1
                else "the last line came after the table and was"
            )
            notes.append(f"{what} left out (footnotes: {quoted})")
        yield Readable(local, detected, reason, notes)


def _footnotes(path: str, detected: Detected) -> footnotes.Footnotes | None:
    """The footnotes of a local, uncompressed CSV in an 8-bit encoding or UTF-8 (else ``None``)."""
    if detected.format != "csv" or detected.compression != "none" or "://" in path:
        return None
    return footnotes.find(path, detected.encoding) if not detected.encoding.startswith("utf-16") else None


def detect_file(path: str) -> Detected:
    size = Path(path).stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
        stream.seek(max(size - 16, 0))
        tail = stream.read(16)
    return detect(head, tail if size > 16 else b"", size)


def _unpack(path: str, opener: Callable[[], BinaryIO], detected: Detected, folder: Path) -> str:
    out_path = folder / "unpacked"
    with open(out_path, "wb") as out:
        if detected.compression == "zip":
            with zipfile.ZipFile(path) as archive:
                member = _only_member(archive)
                with archive.open(member) as stream:
                    shutil.copyfileobj(stream, out, CHUNK)
        else:
            with opener() as raw:
                unpacking: bz2.BZ2File | gzip.GzipFile
                if detected.compression == "bzip2":
                    unpacking = bz2.BZ2File(raw)
                elif detected.compression == "gzip":
                    unpacking = gzip.GzipFile(fileobj=raw)
                else:
                    raise Rejection(
                        f"{detected.compression} compressed {detected.format} cannot be read yet",
                        code="reject.unsupported_compression",
                        hint="deliver it uncompressed, or compressed with gzip",
                    )
                try:
                    shutil.copyfileobj(unpacking, out, CHUNK)
                except (OSError, EOFError) as exc:
                    raise Rejection(
                        f"the {detected.compression} data is corrupt or cut short: {exc}",
                        code="reject.corrupt_compression",
                        hint="deliver the complete file again",
                    ) from None
    return str(out_path)


def _only_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [
        m for m in archive.infolist() if not m.is_dir() and not any(part in m.filename for part in _ZIP_NOISE)
    ]
    if len(members) != 1:
        names = ", ".join(m.filename for m in members[:5]) + (", …" if len(members) > 5 else "")
        raise Rejection(
            f"a zip archive is read when it holds exactly one file; this one holds {len(members)}"
            + (f": {names}" if members else ""),
            code="reject.zip_members",
            hint="deliver each file on its own (zipped or not)",
            details={"members": [m.filename for m in members]},
        )
    return members[0]


def _to_utf8(path: str, encoding: str, folder: Path) -> str:
    """``path``'s text re-encoded as UTF-8, streamed.

    Raises:
        Rejection: ``reject.encoding`` naming the first byte the encoding cannot decode.
    """
    out_path = folder / "utf8"
    # lakegate's "utf-16" is little-endian; a byte-order mark is dropped below
    decoder = codecs.getincrementaldecoder("utf-16-le" if encoding == "utf-16" else encoding)()
    offset = 0
    with open(path, "rb") as raw, open(out_path, "wb") as out:
        first = True
        while True:
            chunk = raw.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                name, byte = ENCODING_NAMES.get(encoding, encoding), chunk[exc.start]
                raise Rejection(
                    f"the file is not {name} text: byte 0x{byte:02x} at offset {at} cannot be decoded",
                    code="reject.encoding",
                    hint="convert it to UTF-8 and deliver it again",
                    details={"offset": at, "encoding": encoding},
                ) from None
            if first:
                text, first = text.removeprefix("\ufeff"), False
            out.write(text.encode("utf-8"))
            offset += len(chunk)
            if not chunk:
                return str(out_path)


def _mixed_to_utf8(path: str, folder: Path) -> tuple[str, list[int]]:
    """``path``'s text as UTF-8, line by line: a line that is UTF-8 as it is, any other as
    Windows-1252 (Latin-1 for the five bytes Windows-1252 leaves undefined). Returns the copy
    and the numbers of the lines read as Windows-1252."""
    out_path = folder / "utf8"
    legacy: list[int] = []
    with open(path, "rb") as raw, open(out_path, "wb") as out:
        for number, read in enumerate(raw, start=1):
            line = read.removeprefix(codecs.BOM_UTF8) if number == 1 else read
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                legacy.append(number)
                try:
                    line = line.decode("cp1252").encode("utf-8")
                except UnicodeDecodeError:
                    line = line.decode("latin-1").encode("utf-8")
            out.write(line)
    return str(out_path), legacy


def _repair_quotes(path: str, dialect: tuple[str, str, str, int], folder: Path) -> str:
    """``path``'s records as a careful reader splits them (``forgiving``: a quote that neither opens
    nor closes a field is a character of it), written back as plain CSV: comma, double quotes."""
    import csv

    delimiter, quote, escape, _line = dialect
    out_path = folder / "repaired"
    with (
        open(path, encoding="utf-8", errors="replace", newline="") as text,
        open(out_path, "w", encoding="utf-8", newline="") as out,
    ):
        csv.writer(out, lineterminator="\n").writerows(forgiving.records(text, delimiter, quote, escape))
    return str(out_path)


def write_parquet(conn: Any, path: str, plan: FilePlan, local: str) -> None:
    """Write the rows of the readable file ``path``, named and typed as ``plan`` says, to the
    local Parquet file ``local`` (a derived copy, which queries read instead)."""
    conn.execute(
        f"COPY ({plan_select(path, plan)}) TO {sql_literal(local)} (FORMAT parquet, COMPRESSION zstd)"
    )


def write_copy(conn: Any, path: str, plan: FilePlan, store: ObjectStore, key: str) -> None:
    """``write_parquet``, to the object ``key`` of ``store``."""
    with tempfile.TemporaryDirectory(prefix="lakegate-derived-") as work:
        local = f"{work}/copy.parquet"
        write_parquet(conn, path, plan, local)
        with open(local, "rb") as data:
            store.write(key, data)
