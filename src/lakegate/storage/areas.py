"""The five areas — landing, lake, quarantine, archive, derived — each in the store its URL names.

Keys stay ``landing/...``, ``lake/...``, ``quarantine/...``, ``archive/...``, ``derived/...`` everywhere in
lakegate; this store sends each to the right place: a folder (``file:///data/in/``), a prefix of
a bucket (``s3://bucket/landing/``), or all of them in one bucket. Copies between two S3 areas are
server-side, also across buckets; between different kinds of store they stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO

from lakegate.errors import StorageError
from lakegate.storage.base import ObjectInfo, ObjectStore, Scan, Sink, validate_key, write_hashed
from lakegate.storage.local import LocalStore
from lakegate.storage.s3 import S3Store

AREAS = ("landing", "lake", "quarantine", "archive", "derived")


class AreaStore(ObjectStore):
    def __init__(self, areas: dict[str, ObjectStore]) -> None:
        missing = [a for a in AREAS if a not in areas]
        if missing:
            raise ValueError(f"no store for {missing}")
        self.areas = areas

    def __repr__(self) -> str:
        return "AreaStore(" + ", ".join(f"{a}={s!r}" for a, s in self.areas.items()) + ")"

    def area(self, name: str) -> ObjectStore:
        return self.areas[name]

    def _split(self, key: str) -> tuple[ObjectStore, str]:
        area, _, rest = validate_key(key).partition("/")
        store = self.areas.get(area)
        if store is None or not rest:
            raise StorageError(
                f"{key!r} is in no area",
                code="storage.bad_key",
                hint="keys start with landing/, lake/, quarantine/, archive/ or derived/",
            )
        return store, rest

    def stat(self, key: str) -> ObjectInfo | None:
        store, rest = self._split(key)
        info = store.stat(rest)
        return None if info is None else replace(info, key=key)

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        area, _, rest = prefix.partition("/")
        areas = [area] if area in self.areas else [a for a in AREAS if a.startswith(prefix)]
        for name in sorted(areas):
            if start_after >= name + "0":  # "0" follows "/": every key of this area sorts before
                continue
            after = start_after[len(name) + 1 :] if start_after.startswith(name + "/") else ""
            for info in self.areas[name].list(rest if area == name else "", after):
                yield replace(info, key=f"{name}/{info.key}")

    def open(self, key: str) -> BinaryIO:
        store, rest = self._split(key)
        return store.open(rest)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        store, rest = self._split(key)
        return store.read_range(rest, start, length)

    def write(self, key: str, data: bytes | BinaryIO) -> ObjectInfo:
        store, rest = self._split(key)
        return replace(store.write(rest, data), key=key)

    def delete(self, key: str) -> None:
        store, rest = self._split(key)
        store.delete(rest)

    def url(self, key: str) -> str:
        if "://" in key:  # a file registered in place by a crawl, outside every area
            return key.removeprefix("file://")
        store, rest = self._split(key)
        return store.url(rest)

    def scan(self, key: str, head_bytes: int = 0, tail_bytes: int = 0, spool: Sink | None = None) -> Scan:
        store, rest = self._split(key)
        return store.scan(rest, head_bytes, tail_bytes, spool)

    def written_in_place(self, key: str) -> bool:
        store, rest = self._split(key)
        return store.written_in_place(rest)

    def being_written(self, key: str) -> bool | None:
        store, rest = self._split(key)
        return store.being_written(rest)

    def hold(self, key: str, held: str) -> ObjectInfo | None:
        store, rest = self._split(key)
        info = store.hold(rest, self._split(held)[1])
        return None if info is None else replace(info, key=held)

    def release(self, held: str, key: str) -> str:
        store, rest = self._split(held)
        area = key.split("/", 1)[0]
        return f"{area}/{store.release(rest, self._split(key)[1])}"

    def copy(self, src: str, dst: str, *, if_etag: str | None = None, size: int | None = None) -> ObjectInfo:
        source, src_rest = self._split(src)
        target, dst_rest = self._split(dst)
        if source is target:
            info = source.copy(src_rest, dst_rest, if_etag=if_etag, size=size)
        elif isinstance(source, S3Store) and isinstance(target, S3Store) and target.same_account(source):
            info = target.copy_from(source, src_rest, dst_rest, if_etag=if_etag, size=size)
        elif isinstance(source, LocalStore) and isinstance(target, LocalStore) and source.is_link(src_rest):
            info = target.write_link(dst_rest, os.fsdecode(source.read(src_rest)))
        else:
            if if_etag is not None:
                current = source.stat(src_rest)
                if current is not None and current.etag != if_etag:
                    raise StorageError(
                        f"{source.url(src_rest)} was replaced since it was read", code="storage.changed"
                    )
            with source.open(src_rest) as stream:
                info = write_hashed(target, dst_rest, stream)
        return replace(info, key=dst)

    def check(self) -> None:
        for store in self.areas.values():
            store.check()

    def local_folder(self, area: str) -> LocalStore | None:
        store = self.areas[area]
        return store if isinstance(store, LocalStore) else None
