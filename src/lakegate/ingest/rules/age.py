"""``age``: a file is at most ``max_age`` old.

With ``field`` (a date the dataset's key captures, such as ``{date:%Y%m%d}``) the age is how
long after the start of that date, in the dataset's time zone, the file arrived: a delivery
for the 18th arriving on the 27th is 9 days late. Without it, the age is how old the object is
when lakegate takes it — a file that sat in landing while lakegate was stopped, say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lakegate.config import parse_duration
from lakegate.ingest.rules import Facts, Finding


def check(params: dict[str, Any], facts: Facts) -> Finding | None:
    limit = parse_duration(params["max_age"])
    field = params.get("field")
    if field:
        date = facts.fields[field]
        start = date.replace(tzinfo=facts.arrival.tzinfo)
        age = (facts.arrival - start).total_seconds()
        what = f"the file arrived {human(age)} after its date {date:%Y-%m-%d}"
        details = {"date": date.isoformat(), "arrival": facts.arrival.isoformat()}
    else:
        now = facts.now or dt.datetime.now(dt.UTC)
        age = (now - facts.arrival).total_seconds()
        what = f"the file is {human(age)} old"
        details = {"arrival": facts.arrival.isoformat()}
    if age <= limit:
        return None
    return Finding(
        f"{what}, more than {params['max_age']}",
        {**details, "age_seconds": round(age), "max_age": params["max_age"]},
    )


def human(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds / size
            # whole units from 10 on, counted as a calendar does: 20.6 days are 20 days
            text = str(int(n)) if n >= 10 or n == int(n) else f"{n:.1f}"
            return f"{text} {unit}{'' if text == '1' else 's'}"
    return f"{seconds:.0f} seconds"
