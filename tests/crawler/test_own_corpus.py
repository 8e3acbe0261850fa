"""lakegate's own messy CSV cases (``tests/corpus/messy-csv``: one file per failure class found in
real deliveries, with its hand-cleaned version) read exactly as cleaned — scored by the quality
benchmark's own F1 — and the files to be refused are refused with their code."""

from __future__ import annotations

import duckdb
from bench.csv_quality import OWN, f1_per_file

from lakegate import duck


def test_every_own_case_reads_as_its_clean_version() -> None:
    scores = f1_per_file(OWN, duck.connect(), duckdb.connect())
    assert len(scores.f1["lakegate"]) >= 7
    assert {name: f1 for name, f1 in scores.f1["lakegate"].items() if f1 < 1.0} == {}
    assert scores.refused == {"lab_two_tables.csv": "refused"}
