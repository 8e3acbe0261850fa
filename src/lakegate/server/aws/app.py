"""The AWS-compatible endpoint put together for a daemon: its keys, Athena, Glue and the results
bucket over the daemon's gateway and background queries."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from lakegate.app import App
from lakegate.auth.aws_keys import AwsKeys, load_signing_secret
from lakegate.query.gateway import Gateway
from lakegate.server.aws.athena_api import AthenaApi
from lakegate.server.aws.athena_meta import AthenaCatalog
from lakegate.server.aws.endpoint import AwsEndpoint
from lakegate.server.aws.glue_api import GlueApi
from lakegate.server.aws.glue_crawlers import Crawlers
from lakegate.server.aws.prepared import PreparedStatements
from lakegate.server.aws.s3_results import ResultsBucket
from lakegate.server.catalog_api import Visibility
from lakegate.server.jobs import Jobs


def secret_file(application: App) -> Path:
    """Where the AWS signing secret is (``aws.secret_file``, else in the home)."""
    configured = application.settings.aws.secret_file
    if not configured:
        return application.home.root / "aws-signing.secret"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else application.home.root / path


def aws_keys(application: App) -> AwsKeys:
    """Raises: ConfigError ``aws.bad_secret_file``."""
    return AwsKeys(application.catalog, load_signing_secret(secret_file(application)))


def make_aws_app(application: App, gateway: Gateway, jobs: Jobs) -> Starlette:
    settings = application.settings
    catalog = application.catalog
    meta = AthenaCatalog(catalog, Visibility(catalog), settings.aws, settings.query)
    prepared = PreparedStatements(catalog, meta)
    athena = AthenaApi(gateway, jobs, meta, prepared)
    glue = GlueApi(meta, application.store.url)
    crawlers = Crawlers(application, meta)
    services = {
        "athena": athena.operations | meta.operations | prepared.operations,
        "glue": glue.operations | crawlers.operations,
    }
    results = ResultsBucket(jobs, gateway.history, settings.aws.results_location)
    return AwsEndpoint(aws_keys(application), services, results).app()
