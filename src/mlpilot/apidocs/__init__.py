"""The API reference page: Swagger UI behind a form that asks for an API key.

Shared by the platform server (``/docs``) and the prediction API (``mlpilot serve``'s ``/docs``
and every deployment's ``/v1/deployments/NAME/docs``). Swagger UI's files come from a wheel
(fastapi-offline), not a CDN, so the page works air-gapped; the page's own script and style sit
beside them under ``ASSETS``.
"""

from __future__ import annotations

import functools
import importlib.resources
import string

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS", "docs_assets", "docs_response"]

ASSETS = "/docs-assets"

# The page takes a secret: it runs only its own scripts, talks only to this server, and is never framed.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def docs_assets() -> StaticFiles:
    """What to mount at ``ASSETS``: vendor files and the page's own (no data, so no key)."""
    vendor = importlib.resources.files("fastapi_offline") / "static"
    return StaticFiles(directory=str(vendor), packages=[("mlpilot.apidocs", "static/assets")])


def docs_response(openapi_url: str) -> HTMLResponse:
    """The page for the OpenAPI document at ``openapi_url``."""
    return HTMLResponse(_page(openapi_url), headers=_HEADERS)


@functools.cache
def _page(openapi_url: str) -> str:
    template = (importlib.resources.files("mlpilot.apidocs") / "static" / "docs.html").read_text(encoding="utf-8")
    return string.Template(template).substitute(assets=ASSETS, openapi_url=openapi_url)
