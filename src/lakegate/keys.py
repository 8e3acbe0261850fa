"""Names of objects lakegate writes: new names for new content, where archived files go, and
where derived copies are kept."""

from __future__ import annotations

import posixpath

LAKE = "lake/"
ARCHIVE = "archive/"
DERIVED = "derived/"


def with_suffix(key: str, sha256: str) -> str:
    """``lake/db/t/orders.csv.gz`` → ``lake/db/t/orders-<sha12>.csv.gz``: a new name for new content."""
    folder, name = posixpath.split(key)
    stem, dot, ext = name.partition(".")
    renamed = f"{stem}-{sha256[:12]}{dot}{ext}"
    return f"{folder}/{renamed}" if folder else renamed


def held_key(source_key: str, object_id: int) -> str:
    """``landing/db/t/f.csv`` of ledger row 17 → ``landing/db/t/.lakegate-taking-17``: the hidden
    name a local landing file has while it is taken (out of its writers' and the watcher's sight)."""
    folder = posixpath.dirname(source_key)
    return f"{folder}/.lakegate-taking-{object_id}"


def archive_key(lake_key: str, day: str) -> str:
    """``lake/db/t/dt=1/f.csv`` archived on ``day`` → ``archive/<day>/db/t/dt=1/f.csv``."""
    return f"{ARCHIVE}{day}/{lake_key.removeprefix(LAKE)}"


MEMBER = "__lakegate_file"  # the column of a compacted copy naming the lake file a row comes from


def compacted_key(lake_folder: str, token: str) -> str:
    """``lake/db/t/dt=1/`` → ``derived/db/t/dt=1/compacted-<token>.parquet``: one Parquet copy of
    many small files of that partition (each row marked with its file, in ``MEMBER``)."""
    return f"{DERIVED}{lake_folder.removeprefix(LAKE).rstrip('/')}/compacted-{token}.parquet"


def is_compacted(derived: str) -> bool:
    return derived.rsplit("/", 1)[-1].startswith("compacted-")


def derived_key(lake_key: str, sha256: str) -> str:
    """``lake/db/t/f.csv.bz2`` → ``derived/db/t/f.csv.bz2.<sha12>.parquet``: where the derived
    Parquet copy of that content is kept (named by content too, so it is never another's)."""
    return f"{DERIVED}{lake_key.removeprefix(LAKE)}.{sha256[:12]}.parquet"


MAX_NAME_BYTES = 200  # of each folder and file name: lakegate adds up to 34 bytes to names it stores


def name_problem(key: str) -> str | None:
    """Why a delivered ``key`` cannot be kept under its own name (``None``: it can).

    Its name must be UTF-8 (the catalog keeps it as text), and each folder or file name at most
    ``MAX_NAME_BYTES`` long (file systems stop at 255 bytes, and lakegate adds a content hash to
    a new version's name and a suffix to its derived copy's).
    """
    try:
        parts = [p.encode("utf-8") for p in key.split("/")]
    except UnicodeEncodeError:
        return "its name is not UTF-8"
    longest = max(len(p) for p in parts)
    if longest > MAX_NAME_BYTES:
        return f"it has a folder or file name of {longest} bytes; at most {MAX_NAME_BYTES} are kept"
    return None


def storable(key: str) -> str:
    """``key`` made storable: bytes that are not UTF-8 written as ``%XX``, and each name over
    ``MAX_NAME_BYTES`` cut, with a hash of the whole to keep it apart from others."""
    import hashlib

    text = "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in key)
    text = text.encode("utf-8", "replace").decode("utf-8")  # any other lone surrogate: "?"
    out = []
    for part in text.split("/"):
        if len(part.encode("utf-8")) <= MAX_NAME_BYTES:
            out.append(part)
            continue
        digest = hashlib.sha256(part.encode("utf-8")).hexdigest()[:12]
        cut = part.encode("utf-8")[: MAX_NAME_BYTES - 16].decode("utf-8", "ignore")
        out.append(f"{cut}…{digest}")
    return "/".join(out)


def printable(text: str) -> str:
    """``text`` safe on one terminal line: control characters (newlines, escape sequences) and
    bytes that are not UTF-8 shown as escapes, never acted on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(c: str) -> str:
    raw = c.encode("utf-8", "surrogateescape")
    return "".join(f"\\x{b:02x}" for b in raw)
