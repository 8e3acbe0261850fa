"""What a file says about itself is checked before it is believed."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from lakegate.app import App
from tests.ingest.test_pipeline import deliver


def _varint(n: int) -> bytes:
    zigzag, out = n << 1, bytearray()
    while True:
        byte = zigzag & 0x7F
        zigzag >>= 7
        out.append(byte | (0x80 if zigzag else 0))
        if not zigzag:
            return bytes(out)


def parquet_claiming(rows: int, claimed: int) -> bytes:
    """A Parquet file of ``rows`` rows whose footer says it holds ``claimed``."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(rows))}), buffer, compression="none")
    data = buffer.getvalue()
    length = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - length : -8]
    assert _varint(rows) in footer
    lied = footer.replace(_varint(rows), _varint(claimed))
    return data[: -8 - length] + lied + len(lied).to_bytes(4, "little") + b"PAR1"


def test_a_parquet_footer_claiming_impossible_rows_is_quarantined(app: App) -> None:
    data = parquet_claiming(98_765, 2**60)
    assert pq.read_metadata(io.BytesIO(data)).num_rows == 2**60  # what a reader that believes it sees
    outcome = deliver(app, "landing/s/liar/a.parquet", data)
    assert outcome.kind == "quarantined" and outcome.reason_code == "reject.corrupt_parquet"
    assert "1,152,921,504,606,846,976 rows" in outcome.reason
    assert app.catalog.table("s", "liar") is None
    honest = deliver(app, "landing/s/liar/b.parquet", parquet_claiming(98_765, 98_765))
    assert honest.kind == "accepted" and honest.rows == 98_765
