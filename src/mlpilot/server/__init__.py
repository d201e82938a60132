"""The platform server: the REST API over the services, secured by API keys with scopes."""

from mlpilot.server.app import create_app

__all__ = ["create_app"]
