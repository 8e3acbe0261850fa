"""Glue's crawlers on lakegate: the ``crawlers`` of lakegate.yaml, each a ``lakegate crawl`` of
its store, started by ``StartCrawler`` (admins) and watched by ``GetCrawler(s)`` and
``GetCrawlerMetrics`` (admins, and principals who may read the crawler's database).

A crawl runs on the node that was asked, in the background; its state and last outcome are that
node's (another node answers READY with no last crawl).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakegate.app import App, open_source
from lakegate.auth.principals import Principal
from lakegate.config import CrawlerSettings
from lakegate.errors import LakegateError
from lakegate.ingest.crawl import Crawl, CrawlReport
from lakegate.server.aws.athena_meta import AthenaCatalog, bad_request, not_found, paged

Params = dict[str, Any]
_POLICY = {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}


@dataclass
class CrawlRun:
    started: float
    finished: float | None = None
    report: CrawlReport | None = None
    error: str | None = None
    created: int = 0
    updated: int = 0


def _database(settings: CrawlerSettings) -> str:
    return settings.database or settings.url.rstrip("/").rsplit("/", 1)[-1]


class Crawlers:
    def __init__(self, application: App, meta: AthenaCatalog) -> None:
        self.application = application
        self.meta = meta
        self._runs: dict[str, list[CrawlRun]] = {}
        self._lock = threading.Lock()

    @property
    def operations(self) -> dict[str, Callable[[Principal, Params], Params]]:
        return {
            "StartCrawler": self.start, "GetCrawler": self.get, "GetCrawlers": self.get_all,
            "ListCrawlers": self.list, "GetCrawlerMetrics": self.metrics,
        }  # fmt: skip

    def _configured(self) -> dict[str, CrawlerSettings]:
        return {c.name: c for c in self.application.settings.crawlers}

    def _visible(self, principal: Principal) -> list[CrawlerSettings]:
        if principal.is_admin:
            return list(self._configured().values())
        readable = set(self.meta.databases(principal))
        return [c for c in self._configured().values() if _database(c).lower() in readable]

    def _find(self, principal: Principal, name: Any) -> CrawlerSettings:
        for crawler in self._visible(principal):
            if crawler.name == name:
                return crawler
        raise not_found(f"crawler {name!r}", "crawlers are declared in lakegate.yaml (crawlers:)")

    def start(self, principal: Principal, params: Params) -> Params:
        crawler = self._find(principal, params.get("Name"))
        if not principal.is_admin:
            raise LakegateError(
                f"{principal.name} may not start crawlers", code="auth.forbidden", hint="ask an admin"
            )
        with self._lock:
            runs = self._runs.setdefault(crawler.name, [])
            if runs and runs[-1].finished is None:
                raise LakegateError(
                    f"crawler {crawler.name} is running",
                    code="aws.crawler_running",
                    hint="wait for it to finish",
                )
            run = CrawlRun(time.time())
            runs.append(run)
        threading.Thread(
            target=self._crawl, args=(crawler, run), name=f"lakegate-crawl-{crawler.name}"
        ).start()
        return {}

    def _crawl(self, crawler: CrawlerSettings, run: CrawlRun) -> None:
        application = self.application
        try:
            before = {t.name for t in application.catalog.tables(_database(crawler))}
            source = open_source(crawler.url, application.settings.storage)
            report = Crawl(
                application.catalog, source, application.store, database=_database(crawler),
                level=crawler.level, max_tables=crawler.max_tables, on_deleted=crawler.on_deleted,
                by_schema=crawler.by_schema,
            ).run()  # fmt: skip
            run.report = report
            touched = {t for t, r in report.tables.items() if r.new or r.changed or r.removed}
            run.created = len(set(report.tables) - before)
            run.updated = len(touched & before)
        except LakegateError as exc:
            run.error = str(exc)
        except Exception as exc:  # a bug: said in the crawler's last crawl, not lost
            run.error = f"lakegate failed on this crawl: {type(exc).__name__}: {exc}"
        finally:
            run.finished = time.time()

    def _json(self, crawler: CrawlerSettings) -> Params:
        with self._lock:
            runs = list(self._runs.get(crawler.name, []))
        out: Params = {
            "Name": crawler.name, "Role": "lakegate", "DatabaseName": _database(crawler),
            "Targets": {"S3Targets": [{"Path": crawler.url}]}, "Version": 1,
            "State": "RUNNING" if runs and runs[-1].finished is None else "READY",
            "SchemaChangePolicy": _POLICY,
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
        }  # fmt: skip
        done = [r for r in runs if r.finished is not None]
        if done:
            last = done[-1]
            out["LastCrawl"] = {
                "Status": "FAILED" if last.error else "SUCCEEDED", "StartTime": last.started,
                **({"ErrorMessage": last.error} if last.error else {}),
            }  # fmt: skip
        return out

    def get(self, principal: Principal, params: Params) -> Params:
        return {"Crawler": self._json(self._find(principal, params.get("Name")))}

    def get_all(self, principal: Principal, params: Params) -> Params:
        page, token = paged(self._visible(principal), params, 1000)
        return {"Crawlers": [self._json(c) for c in page], **token}

    def list(self, principal: Principal, params: Params) -> Params:
        page, token = paged(self._visible(principal), params, 1000)
        return {"CrawlerNames": [c.name for c in page], **token}

    def metrics(self, principal: Principal, params: Params) -> Params:
        names = params.get("CrawlerNameList") or [c.name for c in self._visible(principal)]
        if not isinstance(names, list) or len(names) > 100:
            raise bad_request("CrawlerNameList lists at most 100 crawler names")
        out = []
        for name in names:
            crawler = self._find(principal, name)
            with self._lock:
                done = [r for r in self._runs.get(crawler.name, []) if r.finished is not None]
            last = done[-1] if done else None
            seconds = sorted((r.finished or 0) - r.started for r in done)
            out.append({
                "CrawlerName": crawler.name, "TimeLeftSeconds": 0.0, "StillEstimating": False,
                "LastRuntimeSeconds": (last.finished or 0) - last.started if last else 0.0,
                "MedianRuntimeSeconds": seconds[len(seconds) // 2] if seconds else 0.0,
                "TablesCreated": last.created if last else 0, "TablesUpdated": last.updated if last else 0,
                "TablesDeleted": 0,
            })  # fmt: skip
        return {"CrawlerMetricsList": out}
