"""The demo's clients: loan applications sent to the served model over HTTP, with the true
outcome sent back as feedback a little later, from a background thread."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pandas as pd

from mlpilot.demo.loans import FEATURES, LABEL

__all__ = ["Traffic"]


class Traffic:
    def __init__(self, url: str, key: str, deployment: str, *, batch: int = 10, pause: float = 0.02) -> None:
        self.url, self.key, self.deployment = url, key, deployment
        self.batch, self.pause = batch, pause
        self.sent = 0
        self.failed = 0
        self.errors: list[str] = []  # the first few, to say what went wrong
        self.versions: dict[int, int] = {}
        self._frames: list[pd.DataFrame] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlpilot-demo-traffic", daemon=True)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            found: dict[str, Any] = json.load(answer)
            return found

    def send(self, frame: pd.DataFrame) -> None:
        """Queue ``frame``'s rows; the thread sends them in batches, cycling the last frame when done."""
        with self._lock:
            self._frames.append(frame.reset_index(drop=True))

    def start(self, *, timeout: float = 30.0) -> None:
        """Start sending once the server serves the deployment: its workers pick a new one up within a
        second (404 until then) and load its model (503 until then)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._post(f"/v1/deployments/{self.deployment}/predict", {"instances": []})
            except urllib.error.HTTPError as answer:
                if answer.code not in (404, 503) or time.monotonic() > deadline:
                    break  # served (an empty batch is refused with 400), or never: the loop will say
            except OSError:
                if time.monotonic() > deadline:
                    break
            else:
                break
            time.sleep(0.1)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _next(self, position: int) -> tuple[pd.DataFrame, int]:
        with self._lock:
            if len(self._frames) > 1 and position >= len(self._frames[0]):
                self._frames.pop(0)
                position = 0
            frame = self._frames[0] if self._frames else pd.DataFrame()
        if frame.empty:
            return frame, 0
        position %= len(frame)
        return frame.iloc[position : position + self.batch], position + self.batch

    def _failed(self, what: str) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(what)

    def _loop(self) -> None:
        position = 0
        while not self._stop.is_set():
            rows, position = self._next(position)
            if rows.empty:
                self._stop.wait(0.1)
                continue
            path = f"/v1/deployments/{self.deployment}"
            try:
                answer = self._post(f"{path}/predict", {"instances": rows[FEATURES].to_dict(orient="records")})
                labels = [
                    {"prediction_id": pid, "label": int(label)}
                    for pid, label in zip(answer["prediction_ids"], rows[LABEL], strict=True)
                ]
                self._post(f"{path}/feedback", {"labels": labels})
                self.sent += len(rows)
                version = int(answer["version"])
                self.versions[version] = self.versions.get(version, 0) + len(rows)
            except urllib.error.HTTPError as refused:
                self._failed(f"HTTP {refused.code}: {refused.read()[:300]!r}")
            except (urllib.error.URLError, OSError, ValueError, KeyError) as problem:
                self._failed(f"{type(problem).__name__}: {problem}")
            self._stop.wait(self.pause)
