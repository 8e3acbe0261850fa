"""Key and value templates: matching, rendering, and the errors a platform owner sees."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakegate.templates import KeyTemplate, TemplateError, ValueTemplate

LITERAL_CHARS = "ab_-.+()$^|?[]\\=é /"  # regex-special characters must match only themselves
DATE_FORMATS = ["%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%dT%H%M%S", "%d%b%Y", "%y%j"]


@st.composite
def template_and_values(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A template whose fields are separated by literals, and field values that avoid them."""
    n = draw(st.integers(1, 4))
    literals = [draw(st.text(LITERAL_CHARS, min_size=1, max_size=4)) for _ in range(n + 1)]
    used = set("".join(literals))
    text_alphabet = "".join(c for c in "xyzXYZ0123456789%,;@é漢 ".replace(" ", "") if c not in used)
    template = literals[0]
    values: dict[str, object] = {}
    for i in range(n):
        name = f"f{i}"
        if draw(st.booleans()):
            fmt = draw(st.sampled_from(DATE_FORMATS))
            template += f"{{{name}:{fmt}}}"
            moment = draw(st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2068, 12, 31)))
            values[name] = dt.datetime.strptime(moment.strftime(fmt), fmt)  # what the format can hold
        else:
            template += f"{{{name}}}"
            values[name] = draw(st.text(text_alphabet, min_size=1, max_size=6))
        template += literals[i + 1]
    return template, values


@given(template_and_values())
def test_keys_made_from_values_give_back_those_values(case: tuple[str, dict[str, object]]) -> None:
    text, values = case
    template = KeyTemplate(text)
    key = template.render(values)  # type: ignore[arg-type]
    assert template.match(key) == values


def test_the_issue_example() -> None:
    key = KeyTemplate("landing/{customer}/sales_{date:%Y%m%d}.csv")
    found = key.match("landing/acme/sales_20261126.csv")
    assert found == {"customer": "acme", "date": dt.datetime(2026, 11, 26)}
    assert ValueTemplate("dt={date:%Y-%m-%d}", key).render(found, "sales_20261126.csv") == "dt=2026-11-26"
    assert ValueTemplate("{customer}_{date}", key).render(found, "") == "acme_20261126"  # as delivered
    assert ValueTemplate("{file}", key).render(found, "sales_20261126.csv") == "sales_20261126.csv"


@pytest.mark.parametrize(
    "key",
    [
        "landing/acme/sales_20261341.csv",  # the shape of a date, but none
        "landing/acme/sales_2026112.csv",
        "landing/a/b/sales_20261126.csv",  # {customer} is one folder level
        "landing/acme/sales_20261126.csvx",
        "landing/acme/salesX20261126.csv",
    ],
)
def test_keys_that_do_not_fit(key: str) -> None:
    assert KeyTemplate("landing/{customer}/sales_{date:%Y%m%d}.csv").match(key) is None


def test_wildcards_and_literal_characters() -> None:
    assert KeyTemplate("landing/**/{name}.csv").match("landing/a/b/c.csv") == {"name": "c"}
    assert KeyTemplate("landing/*/{name}.csv").match("landing/a/b/c.csv") is None
    assert KeyTemplate("landing/{where:**}/x.csv").match("landing/a/b/x.csv") == {"where": "a/b"}
    literal = KeyTemplate("in/a.b+(c)$/{x}.csv")
    assert literal.match("in/a.b+(c)$/1.csv") == {"x": "1"}
    assert literal.match("in/aXb+(c)$/1.csv") is None
    assert KeyTemplate("in/{{raw}}/{x}").match("in/{raw}/1") == {"x": "1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("landing/{x", "never closed"),
        ("landing/x}", "closes nothing"),
        ("landing/{1x}", "not a field name"),
        ("landing/{d:%Q}", "%Q is not a supported"),
        ("landing/{d:yyyy}", "neither a date format nor"),
        ("landing/{a}/{a}", "named twice"),
        ("landing/{file}", "built-in"),
    ],
)
def test_bad_key_templates_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as err:
        KeyTemplate(text)
    assert err.value.code == "config.template" and err.value.hint


def test_bad_value_templates_say_what_is_wrong() -> None:
    key = KeyTemplate("landing/{customer}/{date:%Y%m%d}.csv")
    with pytest.raises(TemplateError, match="does not capture") as err:
        ValueTemplate("{region}", key)
    assert err.value.hint == "use one of: arrival, customer, date, file"
    with pytest.raises(TemplateError, match="captured as text"):
        ValueTemplate("{customer:%Y}", key)
    assert ValueTemplate("a*b", key).render({}, "") == "a*b"  # no wildcards in values
