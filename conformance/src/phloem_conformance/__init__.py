"""Phloem conformance suite: data-only session scripts run against servers, SDKs and renderers.

This package never imports ``phloem`` or ``phloem_server``: it judges implementations from the
JSON Schemas in ``schemas/`` and matching rules of its own, so it cannot share their bugs.
"""

__version__ = "0.1.0"
ADAPTER_PROTOCOL = 1
PROTOCOL_VERSION = "1.1"  # 1.0 plus the jobs profile; 1.0 cases still apply

__all__ = ["ADAPTER_PROTOCOL", "PROTOCOL_VERSION", "__version__"]
