"""Settings: the ``lakegate.yaml`` model, environment overrides and readable errors.

``sections``, ``datasets``: the model; ``loading``: reading it; ``reference``: its docs.

No file is needed: every setting has a default. A file, when present, may set any subset.
``LAKEGATE_<SECTION>__<KEY>`` environment variables override the file
(``LAKEGATE_INGEST__WORKERS=8``; ``LAKEGATE_CATALOG=postgresql://...`` for top-level keys).
"""

from lakegate.config.datasets import (
    ENCODINGS,
    RULE_CHECKS,
    DatasetSettings,
    RuleCheck,
    RuleSettings,
    parse_duration,
)
from lakegate.config.loading import Settings, load_settings, read_yaml
from lakegate.config.reference import example_config, settings_reference
from lakegate.config.sections import (
    ENV_PREFIX,
    AwsSettings,
    ClusterSettings,
    CrawlerSettings,
    EnginesSettings,
    EventsSettings,
    HttpSettings,
    IngestSettings,
    PrincipalSettings,
    QuerySettings,
    S3Settings,
    SparkSettings,
    StorageSettings,
)

__all__ = [
    "ENCODINGS",
    "ENV_PREFIX",
    "RULE_CHECKS",
    "AwsSettings",
    "ClusterSettings",
    "CrawlerSettings",
    "DatasetSettings",
    "EnginesSettings",
    "EventsSettings",
    "HttpSettings",
    "IngestSettings",
    "PrincipalSettings",
    "QuerySettings",
    "RuleCheck",
    "RuleSettings",
    "S3Settings",
    "Settings",
    "SparkSettings",
    "StorageSettings",
    "example_config",
    "load_settings",
    "parse_duration",
    "read_yaml",
    "settings_reference",
]
