"""Athena's REST-JSON protocol (what current botocore speaks: ``GET /workgroups``, ``POST
/query-executions``, ``GET /query-executions/{QueryExecutionId}/results?MaxResults=...``),
turned into the same operation name and parameters as JSON 1.1's ``X-Amz-Target``.

The routes come from botocore's own description of the service, so every operation it sends is
read the way it was written: members from the path, the query string, headers and the body.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote

_TEMPLATE = re.compile(r"\{([^}]+)\}")


@lru_cache(maxsize=4)
def _routes(service: str) -> list[tuple[str, re.Pattern[str], Any, int]]:
    """(method, path pattern, operation model, how literal the path is) of every operation."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path = operation.http["requestUri"].split("?")[0]
        pattern, at = "", 0
        for found in _TEMPLATE.finditer(path):
            pattern += re.escape(path[at : found.start()])
            label = found.group(1)
            greedy = label.endswith("+")
            pattern += f"(?P<{_group(label.rstrip('+'))}>{'.+' if greedy else '[^/]+'})"
            at = found.end()
        pattern += re.escape(path[at:])
        literal = len(_TEMPLATE.sub("", path))
        routes.append((operation.http["method"], re.compile(pattern.rstrip("/") + "/?$"), operation, literal))
    routes.sort(
        key=lambda r: -r[3]
    )  # /workgroups/{WorkGroup}/prepared-statements before /workgroups/{WorkGroup}
    return routes


def _group(label: str) -> str:
    return "m_" + re.sub(r"\W", "_", label)


def _scalar(shape: Any, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text  # the operation says what is wrong with it
    if kind == "boolean":
        return text.lower() == "true"
    return text


def operation(
    service: str, method: str, path: str, query: str, *, headers: dict[str, str], body: bytes
) -> tuple[str, dict[str, Any]] | None:
    """The operation a REST request calls and its parameters (``None``: no operation matches).

    Raises: ValueError when the body is not a JSON object."""
    for verb, pattern, model, _literal in _routes(service):
        found = pattern.match(path) if verb == method else None
        if found is None:
            continue
        params: dict[str, Any] = {}
        shape = model.input_shape
        if body.strip():
            loaded = json.loads(body)
            if not isinstance(loaded, dict):
                raise ValueError("the request body is not a JSON object")
            params.update(loaded)
        arguments = parse_qs(query, keep_blank_values=True)
        for member, member_shape in shape.members.items() if shape is not None else []:
            where, name = (
                member_shape.serialization.get("location"),
                member_shape.serialization.get("name", member),
            )
            if where == "uri":
                params[member] = unquote(found.group(_group(name)))
            elif where == "querystring" and name in arguments:
                values = arguments[name]
                params[member] = (
                    values if member_shape.type_name == "list" else _scalar(member_shape, values[-1])
                )
            elif where == "header" and name.lower() in headers:
                params[member] = _scalar(member_shape, headers[name.lower()])
        return model.name, params
    return None
