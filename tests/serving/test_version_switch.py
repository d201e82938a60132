"""When the alias moves, the new version is loaded, warmed and swapped in under load: no request
fails, requests in flight finish on the old version, and the switch happens within a poll."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sklearn.linear_model import LogisticRegression

from tests.serving.conftest import ServingServer, Store, cancer_frame


def test_alias_move_under_load_fails_no_request(store: Store, cancer_model: Any, serve: Any) -> None:
    frame, target = cancer_frame()
    server: ServingServer = serve("cancer@production")
    second = store.register(LogisticRegression(max_iter=5000).fit(frame, 1 - target), frame, "cancer", alias=None)
    row = frame.head(1).to_dict(orient="records")

    async def load(stop_at: float) -> list[tuple[float, int, int | None]]:
        headers = {"Authorization": f"Bearer {store.predict_key}"}
        seen: list[tuple[float, int, int | None]] = []
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

            async def worker() -> None:
                while time.monotonic() < stop_at:
                    response = await http.post("/v1/deployments/cancer/predict", json={"instances": row})
                    version = response.json().get("version") if response.status_code == 200 else None
                    seen.append((time.monotonic(), response.status_code, version))

            await asyncio.gather(*(worker() for _ in range(8)))
        return seen

    async def scenario() -> tuple[list[tuple[float, int, int | None]], float]:
        task = asyncio.ensure_future(load(time.monotonic() + 4.0))
        await asyncio.sleep(1.0)
        moved = time.monotonic()
        await asyncio.to_thread(store.client.set_alias, "cancer", "production", second)
        return await task, moved

    seen, moved = asyncio.run(scenario())
    assert {status for _, status, _ in seen} == {200}, "a request failed during the switch"
    assert {version for _, _, version in seen} == {1, second}
    first_new = min(when for when, _, version in seen if version == second)
    last_old = max(when for when, _, version in seen if version == 1)
    assert first_new - moved < 2.0, "the new version took too long to arrive"
    assert last_old - first_new < 0.5, "old and new versions kept answering side by side"
