"""Principals (users and service accounts), their roles and API tokens."""
