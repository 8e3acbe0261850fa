"""What a statement sent over the wire is, before anything runs it.

Drivers send session statements of their own — ``BEGIN``, ``SET extra_float_digits = 3``,
``SHOW transaction_isolation``, ``DISCARD ALL`` — that a read-only lake answers itself: they
never reach the engine. Everything else is a query for the gateway (which refuses writes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

from lakegate.query import show


@dataclass(frozen=True)
class Statement:
    # query | empty | begin | commit | rollback | savepoint | rollback_to | release | set | reset | show |
    # discard | deallocate | noop
    kind: str
    sql: str
    name: str = ""  # the setting (set, reset, show), the statement (deallocate)
    value: str = ""  # the value set
    tag: str = ""  # the command tag of a session statement
    binary: bool = False  # DECLARE ... BINARY CURSOR
    hold: bool = False  # DECLARE ... WITH HOLD: it outlives its transaction


# settings a driver may set; each answered (SHOW) and accepted (SET) without reaching the engine
SETTINGS = {
    "application_name": "",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    "extra_float_digits": "1",
    "search_path": '"$user", public',
    "standard_conforming_strings": "on",
    "client_min_messages": "notice",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "bytea_output": "hex",
    "default_transaction_read_only": "on",
    "transaction_read_only": "on",
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "server_version": "16.0",
    "server_version_num": "160000",
    "server_encoding": "UTF8",
    "integer_datetimes": "on",
    "max_identifier_length": "63",
    "jit": "off",
    "lc_collate": "C",
    "lc_ctype": "C",
    "lc_messages": "C",
    "lc_monetary": "C",
    "lc_numeric": "C",
    "lc_time": "C",
    "geqo": "on",
    "row_security": "on",
    "default_table_access_method": "heap",
    "default_tablespace": "",
    "lakegate.dialect": "duckdb",
    "lakegate.reuse_max_age_minutes": "0",  # >0: answer from an identical query's kept result this old
    "lakegate.engine": "",  # admins: duckdb or spark instead of the workgroup's ('': the workgroup's)
}
_ALIASES = {
    "time zone": "timezone",
    "transaction isolation level": "transaction_isolation",
    "names": "client_encoding",
}
_WORD = r"[A-Za-z_][A-Za-z0-9_.]*"
_SET = re.compile(
    rf"^SET\s+(?:SESSION\s+|LOCAL\s+)?(?P<name>{_WORD}|TIME\s+ZONE|NAMES)\s*(?:=|\s+TO\s+|\s+)?\s*(?P<value>.*?)$",
    re.IGNORECASE | re.DOTALL,
)


_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_DECLARE = re.compile(
    rf"^DECLARE\s+(?P<name>{_NAME})\s+(?P<binary>BINARY\s+)?(?:(?:ASENSITIVE|INSENSITIVE)\s+)?"
    rf"(?:(?:NO\s+)?SCROLL\s+)?CURSOR\s+(?:(?P<hold>WITH\s+HOLD)\s+|WITHOUT\s+HOLD\s+)?FOR\s+(?P<query>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_FETCH = re.compile(
    rf"^(?:FETCH|MOVE)\s+(?:(?:NEXT|FORWARD)\s+)?(?:(?P<count>\d+)\s+|(?P<all>ALL)\s+)?(?:(?:FROM|IN)\s+)?"
    rf"(?P<name>{_NAME})$",
    re.IGNORECASE,
)


def split(sql: str) -> list[str]:
    """The statements of a simple-query string, in order (semicolons in strings, dollar quotes
    and comments do not split). Unreadable text stays one statement, for the guard to judge."""
    try:
        tokens = Postgres().tokenize(sql)
    except SqlglotError:
        return [sql]
    pieces, start, tokens_in_piece = [], 0, 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if tokens_in_piece:  # only comments or nothing between semicolons: no statement
                pieces.append(sql[start : token.start])
            start, tokens_in_piece = token.end + 1, 0
        else:
            tokens_in_piece += 1
    if tokens_in_piece:
        pieces.append(sql[start:])
    return pieces or [""]


def classify(sql: str) -> Statement:
    text = _strip(sql)
    if not text:
        return Statement("empty", sql)
    words = text.split()
    head = words[0].upper()
    second = words[1].upper() if len(words) > 1 else ""
    if head == "BEGIN" or (head == "START" and second == "TRANSACTION"):
        return Statement("begin", sql, tag="BEGIN")
    if head in ("COMMIT", "END"):
        return Statement("commit", sql, tag="COMMIT")
    if head == "SAVEPOINT":
        return Statement("savepoint", sql, tag="SAVEPOINT")
    if head == "RELEASE":
        return Statement("release", sql, tag="RELEASE")
    if head == "ROLLBACK" and second == "TO":
        return Statement("rollback_to", sql, tag="ROLLBACK")
    if head in ("ROLLBACK", "ABORT"):
        return Statement("rollback", sql, tag="ROLLBACK")
    if head == "SET":
        if second in ("TRANSACTION", "SESSION") and (
            second == "TRANSACTION" or words[2:3] == ["CHARACTERISTICS"]
        ):
            return Statement("noop", sql, tag="SET")
        found = _SET.match(text)
        if found:
            name = _ALIASES.get(" ".join(found["name"].lower().split()), found["name"].lower())
            return Statement("set", sql, name=name, value=_unquote(found["value"]), tag="SET")
        return Statement("set", sql, name="", tag="SET")
    if head == "RESET":
        name = " ".join(w.lower() for w in words[1:])
        return Statement("reset", sql, name=_ALIASES.get(name, name), tag="RESET")
    if head == "SHOW" and show.rewrite(text) is None:
        name = " ".join(w.lower() for w in words[1:])
        return Statement("show", sql, name=_ALIASES.get(name, name), tag="SHOW")
    if head == "DECLARE":
        found = _DECLARE.match(text)
        if found:
            return Statement(
                "declare", sql, name=_unquote(found["name"]), value=found["query"], tag="DECLARE CURSOR",
                binary=bool(found["binary"]), hold=bool(found["hold"]),
            )  # fmt: skip
    if head in ("FETCH", "MOVE"):
        found = _FETCH.match(text)
        if found:
            count = found["count"] or ("ALL" if found["all"] else "1")
            return Statement("fetch" if head == "FETCH" else "move", sql, name=_unquote(found["name"]),
                             value=count, tag=head)  # fmt: skip
    if head == "CLOSE" and second not in ("*", "ALL"):
        return Statement("close_cursor", sql, name=_unquote(" ".join(words[1:])), tag="CLOSE CURSOR")
    if head == "DISCARD":
        return Statement("discard", sql, tag=f"DISCARD {second or 'ALL'}")
    if head == "DEALLOCATE":
        rest = words[2:] if second == "PREPARE" else words[1:]
        return Statement(
            "deallocate",
            sql,
            name=_unquote(" ".join(rest)),
            tag="DEALLOCATE ALL" if rest and rest[0].upper() == "ALL" else "DEALLOCATE",
        )
    if head == "UNLISTEN":
        return Statement("noop", sql, tag="UNLISTEN")
    if head == "CLOSE" and second == "ALL":
        return Statement("close_cursor", sql, name="", tag="CLOSE CURSOR ALL")
    return Statement("query", sql)


def _strip(sql: str) -> str:
    """The statement without comments, surrounding space and trailing semicolons."""
    text = re.sub(r"--[^\n]*", " ", sql)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return text.strip().rstrip(";").strip()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].replace(value[0] * 2, value[0])
    return value
