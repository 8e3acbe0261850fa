"""Object stores: one interface over local folders, memory and S3-compatible buckets (``storage.s3``)."""

from lakegate.storage.base import ObjectInfo, ObjectStore, validate_key
from lakegate.storage.local import LocalStore
from lakegate.storage.memory import MemoryStore

__all__ = ["LocalStore", "MemoryStore", "ObjectInfo", "ObjectStore", "validate_key"]
