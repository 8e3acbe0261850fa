"""The SQLSTATE a PostgreSQL client gets for each lakegate error code: the registry's
(``error_codes.py``), else the kind of engine error its message names."""

from __future__ import annotations

from lakegate.error_codes import lookup
from lakegate.errors import LakegateError

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
    found = lookup(error.code)
    if found is not None and found.sqlstate:
        return found.sqlstate
    said = str(error.details.get("engine_message") or error.message)  # as the engine said it
    for prefix, state in _BY_ENGINE:
        if said.startswith(prefix) or prefix in said[:60]:
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
