"""``extension``: the file name's extension agrees with what its content is.

``orders.csv`` that holds Parquet, or ``events.json.gz`` that is not compressed, is a delivery
mistake worth catching early: tools that trust names would misread it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from lakegate.ingest.rules import Facts, Finding

FORMAT_EXTENSIONS = {
    "csv": {".csv", ".tsv", ".txt", ".psv"},
    "json": {".json", ".ndjson", ".jsonl"},
    "parquet": {".parquet", ".pq"},
}
COMPRESSION_EXTENSIONS = {"gzip": {".gz", ".gzip"}, "zstd": {".zst", ".zstd"}}


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    suffixes = [s.lower() for s in PurePosixPath(facts.key).suffixes]
    compression = facts.detected.compression
    if compression != "none":
        if not suffixes or suffixes[-1] not in COMPRESSION_EXTENSIONS[compression]:
            return Finding(f"the content is {compression}-compressed but the name does not end in .gz/.zst",
                           {"content": compression, "extensions": suffixes})  # fmt: skip
        suffixes = suffixes[:-1]
    elif suffixes and any(suffixes[-1] in exts for exts in COMPRESSION_EXTENSIONS.values()):
        return Finding(f"the name ends in {suffixes[-1]} but the content is not compressed",
                       {"content": "none", "extensions": suffixes})  # fmt: skip
    fmt = facts.detected.format
    if not suffixes or suffixes[-1] not in FORMAT_EXTENSIONS[fmt]:
        found = suffixes[-1] if suffixes else "no extension"
        return Finding(f"the content is {fmt} but the name has {found}",
                       {"content": fmt, "extensions": suffixes})  # fmt: skip
    return None
