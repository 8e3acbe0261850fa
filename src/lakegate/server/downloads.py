"""Query results as files, written batch by batch as the query produces them: CSV, NDJSON,
Parquet or an Arrow IPC stream. Memory holds a few batches, whatever the result's size."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lakegate.query.results import json_objects

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}


def attachment(query_id: str, fmt: str) -> dict[str, str]:
    """The header that saves a query's result as ``lakegate-<id>.<ext>``."""
    name = f"lakegate-{query_id[:8]}.{'ndjson' if fmt == 'json' else fmt}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


class _Chunks:
    """A file-like sink whose written bytes are taken out as they come."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def encode(fmt: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The result in ``fmt``, piece by piece."""
    if fmt == "json":
        for batch in batches:
            lines = [json.dumps(row, ensure_ascii=False) for row in json_objects(batch)]
            if lines:
                yield ("\n".join(lines) + "\n").encode()
        return
    sink = _Chunks()
    target = pa.PythonFile(sink, mode="w")
    writer: Any
    if fmt == "arrow":
        writer = pa.ipc.new_stream(target, schema)
    elif fmt == "csv":
        writer = pacsv.CSVWriter(target, schema)
    else:
        writer = pq.ParquetWriter(target, schema, compression="zstd")
    for batch in batches:
        if fmt == "parquet":
            writer.write_table(pa.Table.from_batches([batch], schema=schema))
        else:
            writer.write_batch(batch)
        piece = sink.take()
        if piece:
            yield piece
    writer.close()
    yield sink.take()
