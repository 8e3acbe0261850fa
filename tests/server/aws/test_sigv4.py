"""SigV4 checked against what botocore itself signs: JSON services, S3 paths and query strings
of any text, a wrong secret, a changed body, another service, a clock far off."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.errors import AuthError
from lakegate.server.aws import sigv4

KEY, SECRET = "LGAKABCDEFGHIJKL", "s3cr3t/with+chars0123456789abcdefghijklm"


def _signed(
    url: str, body: bytes = b"", *, service: str = "athena", s3: bool = False, secret: str = SECRET
) -> AWSRequest:
    request = AWSRequest(method="GET" if s3 else "POST", url=url, data=body)
    if not s3:
        request.headers["X-Amz-Target"] = "AmazonAthena.ListWorkGroups"
        request.headers["Content-Type"] = "application/x-amz-json-1.1"
    signer = S3SigV4Auth if s3 else SigV4Auth
    signer(Credentials(KEY, secret), service, "eu-west-1").add_auth(request)
    return request


def _check(
    request: AWSRequest, *, service: str = "athena", secret: str = SECRET, body: bytes | None = None
) -> None:
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers.setdefault("host", parts.netloc)
    signed = sigv4.parse_authorization(headers.get("authorization"))
    assert signed.key_id == KEY and signed.region == "eu-west-1"
    sigv4.verify(
        signed, secret, method=prepared.method, path=parts.path, query=parts.query, headers=headers,
        body=prepared.body or b"" if body is None else body, service=service,
    )  # fmt: skip


def test_a_json_request_signed_by_botocore_verifies() -> None:
    _check(_signed("http://127.0.0.1:9/", b'{"MaxResults": 5}'))


def test_a_wrong_secret_a_changed_body_and_another_service_are_refused() -> None:
    request = _signed("http://127.0.0.1:9/", b'{"MaxResults": 5}')
    for kwargs in ({"secret": SECRET[:-1] + "x"}, {"body": b'{"MaxResults": 6}'}, {"service": "glue"}):
        with pytest.raises(AuthError) as refused:
            _check(request, **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == "aws.bad_signature"


def test_a_request_signed_more_than_15_minutes_away_is_refused() -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 16 * 60))
    with pytest.raises(AuthError) as refused:
        sigv4.check_clock(stamp)
    assert refused.value.code == "aws.clock_skew"
    assert sigv4.check_clock(time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 14 * 60)))


def test_malformed_authorization_headers_say_so() -> None:
    short = "AWS4-HMAC-SHA256 Credential=K/2026/x, SignedHeaders=host, Signature=00"
    for header in (None, "Bearer lg_x", short):
        with pytest.raises(AuthError) as refused:
            sigv4.parse_authorization(header)
        assert refused.value.code in ("aws.unsigned", "aws.bad_signature")


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(key=st.lists(st.text("abcdefghij/-_.~ +=&é", min_size=1, max_size=12), min_size=1, max_size=3),
       params=st.dictionaries(_text.filter(bool), _text, max_size=4))  # fmt: skip
def test_s3_paths_and_query_strings_of_any_text_verify(key: list[str], params: dict[str, str]) -> None:
    from urllib.parse import quote, urlencode

    path = "/results/" + quote("/".join(key), safe="/~")
    query = urlencode(params, quote_via=quote)  # as the SDKs encode
    url = f"http://127.0.0.1:9{path}" + (f"?{query}" if params else "")
    _check(_signed(url, s3=True, service="s3"), service="s3")


def test_docs_aws_lists_every_operation_the_endpoint_answers() -> None:
    import re
    from pathlib import Path

    from lakegate.server.aws.athena_api import AthenaApi
    from lakegate.server.aws.athena_meta import AthenaCatalog
    from lakegate.server.aws.glue_api import GlueApi
    from lakegate.server.aws.glue_crawlers import Crawlers
    from lakegate.server.aws.prepared import PreparedStatements

    offered = set()
    for kind in (AthenaApi, AthenaCatalog, PreparedStatements, GlueApi, Crawlers):
        offered |= set(kind.__new__(kind).operations)  # type: ignore[attr-defined]
    page = (Path(__file__).parents[3] / "docs" / "aws.md").read_text(encoding="utf-8")
    cells = re.findall(r"^\| ([A-Z][^|]+) \|", page, re.M)
    listed = {name.strip() for cell in cells for name in cell.split(",")}
    assert offered == listed
