"""Prometheus metrics of a lakegate process, in the text exposition format.

lakegate_ingest_objects_total{outcome="accepted"}   objects by final outcome
lakegate_queries_total{state="SUCCEEDED"}           queries by final state
lakegate_queries_by_front_end_total{via="pgwire"}   queries by front end (http, pgwire, cli...)
lakegate_query_duration_seconds_bucket{le="..."}    how long queries took (a histogram)
lakegate_queries_running                            queries running now

Every sample carries the ``node`` it comes from (``cluster.node_id``), so a Prometheus that
scrapes several nodes can tell them apart and sum them.
"""

from __future__ import annotations

from collections.abc import Callable

from lakegate.query.metrics import QueryMeter


def metrics_text(
    ingest: Callable[[], dict[str, int]] | None, queries: QueryMeter | None, node: str | None = None
) -> str:
    lines = [
        "# HELP lakegate_ingest_objects_total Delivered objects by final outcome.",
        "# TYPE lakegate_ingest_objects_total counter",
    ]
    for outcome, n in sorted((ingest or dict)().items()):
        lines.append(f'lakegate_ingest_objects_total{{outcome="{outcome}"}} {n}')
    lines += (queries or QueryMeter()).lines()
    if node is not None:
        lines = [_with_node(line, node) for line in lines]
    return "\n".join(lines) + "\n"


def _with_node(line: str, node: str) -> str:
    if line.startswith("#"):
        return line
    label = 'node="' + node.replace("\\", "\\\\").replace('"', '\\"') + '"'
    name, brace, rest = line.partition("{")
    if brace:
        return f"{name}{{{label},{rest}"
    name, _, value = line.partition(" ")
    return f"{name}{{{label}}} {value}"
