"""The experiments page: each experiment with its runs and newest run, linking to its runs table."""

from __future__ import annotations

import httpx

from mlpilot.tracking.experiments import create_experiment
from tests.server.ui.conftest import Filled, sign_in


def test_experiments_list_their_runs_and_link_to_the_runs_table(filled: Filled) -> None:
    long_name = "a-very-long-experiment-name-" + "x" * 300
    create_experiment(filled.db, long_name)
    with sign_in(filled.url, filled.reader_key) as http:
        page = http.get("/experiments")
        assert page.status_code == 200
        text = page.text
        assert 'class="on">Experiments</a>' in text
        row = text[text.index('href="/runs?experiment=churn"') :]
        assert '<td class="num">3</td>' in row[: row.index("</tr>")]
        # An experiment without runs comes after those with runs, its long name cut by CSS, whole in the title.
        assert text.index("experiment=churn") < text.index(long_name)
        assert f'title="{long_name}"' in text and '<td class="num">0</td>' in text
        runs = http.get("/runs?experiment=churn")
        assert runs.status_code == 200 and 'class="muted">of churn</span>' in runs.text
        assert runs.text.count('href="/runs/') == 3
        empty = http.get("/runs", params={"experiment": long_name})
        assert empty.status_code == 200 and "No runs yet" in empty.text


def test_experiments_need_a_session(filled: Filled) -> None:
    with httpx.Client(base_url=filled.url) as anonymous:
        assert anonymous.get("/experiments").headers["location"] == "/login?next=%2Fexperiments"
