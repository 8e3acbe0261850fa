"""The SQLSTATE a PostgreSQL client gets for each lakegate error code."""

from __future__ import annotations

from lakegate.errors import LakegateError

_BY_CODE = {
    "guard.syntax": "42601",  # syntax_error
    "guard.multiple_statements": "42601",
    "guard.table_unknown": "42P01",  # undefined_table
    "guard.not_read_only": "25006",  # read_only_sql_transaction
    "guard.function": "42501",  # insufficient_privilege
    "guard.path": "42501",
    "guard.dialect": "0A000",  # feature_not_supported
    "auth.forbidden": "42501",
    "auth.invalid": "28P01",  # invalid_password
    "auth.revoked": "28000",  # invalid_authorization_specification: the session's access ended
    "query.timeout": "57014",  # query_canceled
    "query.cancelled": "57014",
    "query.memory": "53200",  # out_of_memory
    "query.rows": "54000",  # program_limit_exceeded
    "query.bytes_limit": "54000",
    "query.too_many": "53300",  # too_many_connections
    "pgwire.protocol": "08P01",  # protocol_violation
    "pgwire.setting": "42704",  # undefined_object
    "pgwire.aborted": "25P02",  # in_failed_sql_transaction
    "pgwire.unknown_statement": "26000",  # invalid_sql_statement_name
    "pgwire.unknown_portal": "34000",  # invalid_cursor_name
    "pgwire.parameters": "08P01",
    "pgwire.copy": "0A000",
    "pgwire.no_transaction": "25P01",  # no_active_sql_transaction
    "pgwire.cursor_exists": "42P03",  # duplicate_cursor
    "pgwire.statement_exists": "42P05",  # duplicate_prepared_statement
}
# an engine error: its first words say what kind
_BY_ENGINE = [
    ("Parser Error", "42601"),
    ("Binder Error: Referenced column", "42703"),  # undefined_column
    ("Binder Error: Values list", "42703"),
    ("Binder Error: No function matches", "42883"),  # undefined_function
    ("Binder Error", "42804"),  # datatype_mismatch
    ("Catalog Error: Table", "42P01"),
    ("Catalog Error: Scalar Function", "42883"),
    ("Catalog Error", "42704"),
    ("Conversion Error", "22P02"),  # invalid_text_representation
    ("Invalid Input Error", "22P02"),
    ("Out of Range Error", "22003"),  # numeric_value_out_of_range
    ("Division by zero", "22012"),
    ("Not implemented Error", "0A000"),
]


def sqlstate(error: LakegateError) -> str:
    found = _BY_CODE.get(error.code)
    if found:
        return found
    for prefix, state in _BY_ENGINE:
        if error.message.startswith(prefix) or prefix in error.message[:60]:
            return state
    if error.code.startswith("guard."):
        return "42501"
    if error.transient:
        return "58000"  # system_error: try again
    return "XX000"  # internal_error


def fields(error: LakegateError, severity: str = "ERROR") -> dict[str, str]:
    """An ErrorResponse's fields: severity, SQLSTATE, message, the hint, and lakegate's code."""
    out = {"S": severity, "V": severity, "C": sqlstate(error), "M": error.message}
    if error.hint:
        out["H"] = error.hint
    out["D"] = f"lakegate error code: {error.code}"
    return out
