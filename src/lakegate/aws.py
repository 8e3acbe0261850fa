"""What a failed boto3 call says, in one line, for the S3 store and the SQS consumer."""

from __future__ import annotations


def describe_failure(exc: Exception) -> tuple[str, str]:
    """``(error code, "Code: message")`` of a botocore error; the code is "" for network errors."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return "", str(exc)
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or code
    return code, f"{code}: {message}" if code and code not in message else message
