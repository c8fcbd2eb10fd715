"""Browserless testing of Phloem apps."""

from phloem.testing.client import ServerError, TestClient

__all__ = ["ServerError", "TestClient"]
