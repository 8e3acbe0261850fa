"""``extension``: the file name's extension agrees with what its content is.

``orders.csv`` that holds Parquet, or ``events.json.gz`` that is not compressed, is a delivery
mistake worth catching early: tools that trust names would misread it. lakegate reads files by
their content whatever their name, and without this rule still warns when a known extension
says something else (the rule turns that into a rejection, or a warning of its own).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from lakegate.crawler.detect import Detected
from lakegate.ingest.rules import Facts, Finding

FORMAT_EXTENSIONS = {
    "csv": {".csv", ".tsv", ".txt", ".psv", ".tab"},
    "json": {".json", ".ndjson", ".jsonl"},
    "parquet": {".parquet", ".pq"},
    "xlsx": {".xlsx", ".xlsm"},
}
COMPRESSION_EXTENSIONS = {
    "gzip": {".gz", ".gzip"},
    "zstd": {".zst", ".zstd"},
    "bzip2": {".bz2", ".bzip2"},
    "zip": {".zip"},
}
_KNOWN = set().union(*FORMAT_EXTENSIONS.values(), *COMPRESSION_EXTENSIONS.values())


def mismatch(key: str, detected: Detected, *, strict: bool = True) -> Finding | None:
    """How the name's extensions disagree with the content (``None``: they agree). Not
    ``strict``: only names whose extension means something else count (no extension, or an
    unknown one, is no disagreement)."""
    suffixes = [s.lower() for s in PurePosixPath(key).suffixes]
    if not strict and (not suffixes or suffixes[-1] not in _KNOWN):
        return None
    compression = detected.compression
    if compression != "none":
        if not suffixes or suffixes[-1] not in COMPRESSION_EXTENSIONS[compression]:
            ends = "/".join(sorted(COMPRESSION_EXTENSIONS[compression]))
            return Finding(f"the content is {compression}-compressed but the name does not end in {ends}",
                           {"content": compression, "extensions": suffixes})  # fmt: skip
        suffixes = (
            [s.lower() for s in PurePosixPath(detected.member).suffixes]
            if compression == "zip"
            else suffixes[:-1]
        )
        if not strict and (not suffixes or suffixes[-1] not in _KNOWN):
            return None
    elif suffixes and any(suffixes[-1] in exts for exts in COMPRESSION_EXTENSIONS.values()):
        return Finding(f"the name ends in {suffixes[-1]} but the content is not compressed",
                       {"content": "none", "extensions": suffixes})  # fmt: skip
    fmt = detected.format
    if not suffixes or suffixes[-1] not in FORMAT_EXTENSIONS[fmt]:
        found = suffixes[-1] if suffixes else "no extension"
        return Finding(f"the content is {fmt} but the name has {found}",
                       {"content": fmt, "extensions": suffixes})  # fmt: skip
    return None


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    return mismatch(facts.key, facts.detected)
