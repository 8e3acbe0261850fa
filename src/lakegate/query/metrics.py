"""Counts of the queries the gateway ran: by final state and by front end, their durations, and
how many run now. The server shows them at ``/metrics``."""

from __future__ import annotations

import threading

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class QueryMeter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_state: dict[str, int] = {}
        self.by_via: dict[str, int] = {}
        self.buckets = [0] * len(BUCKETS)
        self.count = 0
        self.seconds = 0.0
        self.running = 0

    def started(self) -> None:
        with self._lock:
            self.running += 1

    def finished(self, state: str, via: str, seconds: float) -> None:
        with self._lock:
            self.running -= 1
            self.by_state[state] = self.by_state.get(state, 0) + 1
            self.by_via[via] = self.by_via.get(via, 0) + 1
            self.count += 1
            self.seconds += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1

    def lines(self) -> list[str]:
        """The Prometheus text exposition of these counts."""
        with self._lock:
            out = [
                "# HELP lakegate_queries_total Queries by final state.",
                "# TYPE lakegate_queries_total counter",
            ]
            out += [f'lakegate_queries_total{{state="{s}"}} {n}' for s, n in sorted(self.by_state.items())]
            out += [
                "# HELP lakegate_queries_by_front_end_total Finished queries by the front end that ran them.",
                "# TYPE lakegate_queries_by_front_end_total counter",
            ]
            out += [
                f'lakegate_queries_by_front_end_total{{via="{v}"}} {n}'
                for v, n in sorted(self.by_via.items())
            ]
            out += [
                "# HELP lakegate_query_duration_seconds How long queries took.",
                "# TYPE lakegate_query_duration_seconds histogram",
            ]
            for bound, n in zip(BUCKETS, self.buckets, strict=True):
                out.append(f'lakegate_query_duration_seconds_bucket{{le="{bound:g}"}} {n}')
            out.append(f'lakegate_query_duration_seconds_bucket{{le="+Inf"}} {self.count}')
            out.append(f"lakegate_query_duration_seconds_sum {self.seconds:.6f}")
            out.append(f"lakegate_query_duration_seconds_count {self.count}")
            out += [
                "# HELP lakegate_queries_running Queries running now (or waiting for their turn).",
                "# TYPE lakegate_queries_running gauge",
                f"lakegate_queries_running {self.running}",
            ]
        return out
