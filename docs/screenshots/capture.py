"""Screenshots of every page of the web UI, on the demo's data: ``make screenshots``.

Builds the demo's store under ``--home`` if it is not there yet (``mlpilot --home DIR demo``,
about two minutes), starts a server on it (127.0.0.1, a free port), signs in with a new read +
deploy key and saves one PNG per page next to this file. Needs Debian's ``chromium``.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from mlpilot.config import load_settings
from mlpilot.data.versions import list_datasets
from mlpilot.deployments import list_deployments
from mlpilot.orchestration.runs import list_pipeline_runs
from mlpilot.registry import version_ref
from mlpilot.registry import versions as version_service
from mlpilot.security.keys import create_key
from mlpilot.server import create_app
from mlpilot.server.state import open_state
from mlpilot.store import Database
from mlpilot.tracking.search import search_runs

HERE = Path(__file__).parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pages(db: Database) -> dict[str, str]:
    """Which page to show for each area: the demo's newest model, deployment, dataset, pipeline run."""
    model = version_service.list_models(db)[0]
    version = version_service.get_version(db, version_ref(model.name, str(model.latest_version)))
    candidates = search_runs(db, filter="params.algorithm != ''", max_results=3)
    return {
        "experiments": "/experiments",
        "runs": "/runs",
        "run": f"/runs/{version.run_id}",
        "compare": "/compare?" + "&".join(f"run={run.id}" for run in candidates),
        "datasets": f"/datasets/{list_datasets(db)[0].name}",
        "models": f"/models/{model.name}",
        "deployments": "/deployments",
        "deployment": f"/deployments/{list_deployments(db)[0].name}",
        "monitoring": "/monitoring",
        "pipelines": f"/pipelines/runs/{list_pipeline_runs(db, limit=1)[0].id}",
        "dora": "/dora",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path(".mlpilot-screenshots"))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    store = args.home / "demo"
    if not (store / "mlpilot.db").exists():
        mlpilot = Path(sys.executable).with_name("mlpilot")
        subprocess.run([str(mlpilot), "--home", str(args.home), "demo"], check=True)
    settings = load_settings(home=store, monitor_tick_seconds=0, pipeline_tick_seconds=0, server_rate_limit=0)
    state = open_state(settings)
    _, key = create_key(state.db, f"screenshots-{secrets.token_hex(3)}", "read,deploy", actor="screenshots")
    pages = _pages(state.db)
    state.close()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page: Page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(base + "/login")
        page.screenshot(path=str(args.out / "login.png"))
        page.fill("input[name=key]", key)
        page.click("button:has-text('Sign in')")
        page.wait_for_url("**/runs")
        for name, path in pages.items():
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
            print(f"saved {name}.png ({path})")
        browser.close()
    server.should_exit = True
    thread.join()


if __name__ == "__main__":
    main()
