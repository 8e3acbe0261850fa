"""Prometheus metrics of a lakegate process, in the text exposition format.

lakegate_ingest_objects_total{outcome="accepted"}   objects by final outcome
lakegate_queries_total{state="SUCCEEDED"}           queries by final state
lakegate_queries_by_front_end_total{via="pgwire"}   queries by front end (http, pgwire, cli...)
lakegate_query_duration_seconds_bucket{le="..."}    how long queries took (a histogram)
lakegate_queries_running                            queries running now
"""

from __future__ import annotations

from collections.abc import Callable

from lakegate.query.metrics import QueryMeter


def metrics_text(ingest: Callable[[], dict[str, int]] | None, queries: QueryMeter | None) -> str:
    lines = [
        "# HELP lakegate_ingest_objects_total Delivered objects by final outcome.",
        "# TYPE lakegate_ingest_objects_total counter",
    ]
    for outcome, n in sorted((ingest or dict)().items()):
        lines.append(f'lakegate_ingest_objects_total{{outcome="{outcome}"}} {n}')
    lines += (queries or QueryMeter()).lines()
    return "\n".join(lines) + "\n"
