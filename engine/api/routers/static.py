"""Static assets served from installed packages, never from a CDN: plotly.js from the plotly
package, so dashboards draw offline."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(prefix="/static", tags=["static"])
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@router.get("/plotly.min.js", summary="plotly.js, from the plotly package installed on the server",
            response_class=FileResponse)
def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})
