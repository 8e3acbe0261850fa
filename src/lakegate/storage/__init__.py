"""Object stores: one interface over local folders and memory (S3 drops in beside them)."""

from lakegate.storage.base import ObjectInfo, ObjectStore, validate_key
from lakegate.storage.local import LocalStore
from lakegate.storage.memory import MemoryStore

__all__ = ["LocalStore", "MemoryStore", "ObjectInfo", "ObjectStore", "validate_key"]
