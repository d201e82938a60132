"""Static files: our CSS and JS, and plotly.js from the installed plotly wheel (no CDN).

plotly.js is served under a versioned name with a year-long immutable cache, so a browser fetches
its 4.6 MB once per plotly release.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from mlpilot.errors import NotFound
from mlpilot.server.ui.render import PLOTLY_URL, STATIC, UiRoute

__all__ = ["router"]

_OURS = Path(str(resources.files("mlpilot.server.ui"))) / "static"
_OWN_FILES = {"ui.css": "text/css", "ui.js": "text/javascript"}
_YEAR = "public, max-age=31536000, immutable"

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get(PLOTLY_URL)
def plotly_js() -> FileResponse:
    source = Path(str(resources.files("plotly"))) / "package_data" / "plotly.min.js"
    return FileResponse(source, media_type="text/javascript", headers={"Cache-Control": _YEAR})


@router.get(STATIC + "/{name}")
def own_file(name: str) -> FileResponse:
    if name not in _OWN_FILES:
        raise NotFound(f"no static file {name!r}")
    # Short cache: these change with mlpilot releases and are small.
    return FileResponse(_OURS / name, media_type=_OWN_FILES[name], headers={"Cache-Control": "public, max-age=300"})
