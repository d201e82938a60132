"""search_runs: the filter language, ordering and paging, executed in SQL."""

from __future__ import annotations

import pytest

import mlpilot
from mlpilot import InvalidInput


@pytest.fixture
def populated(client: mlpilot.Client) -> mlpilot.Client:
    models = ["rf", "lr", "rf", "gb", "rf", "lr"]
    for index, model in enumerate(models):
        with client.start_run("search", name=f"run-{index}", tags={"team": "a" if index % 2 else "b"}) as run:
            run.log_params({"model": model, "C": index / 2})
            run.log_metric("acc", index / 10)
            if index != 5:
                run.log_metric("val loss", 1 - index / 10)
    with client.start_run("other", name="elsewhere") as run:
        run.log_metric("acc", 0.99)
    return client


def names(page: mlpilot.RunPage) -> list[str]:
    return [run.name for run in page]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("metrics.acc > 0.25", {"run-3", "run-4", "run-5"}),
        ("metrics.acc >= 0.3 and params.model = 'rf'", {"run-4"}),
        ("params.model = 'rf' or params.model = 'gb'", {"run-0", "run-2", "run-3", "run-4"}),
        ("tags.team = 'a' and not params.model = 'lr'", {"run-3"}),
        ("params.model in ('lr', 'gb')", {"run-1", "run-3", "run-5"}),
        ("params.model not in ('rf')", {"run-1", "run-3", "run-5"}),
        ("name like 'run-1%'", {"run-1"}),
        ("attributes.status = 'finished'", {f"run-{i}" for i in range(6)}),
        ('metrics."val loss" < 0.65', {"run-4"}),
        ("metrics.`val loss` is null", {"run-5"}),
        ("(metrics.acc < 0.1 or metrics.acc > 0.4) and tags.team = 'b'", {"run-0"}),
        ("params.C = 1.0", {"run-2"}),
        ("params.C = 1", set()),
        ("params.model ilike 'R%'", {"run-0", "run-2", "run-4"}),
        ("metrics.acc != 0.2", {"run-0", "run-1", "run-3", "run-4", "run-5"}),
    ],
)
def test_filters(populated: mlpilot.Client, query: str, expected: set[str]) -> None:
    assert set(names(populated.search_runs("search", query))) == expected


def test_all_experiments_when_none_named(populated: mlpilot.Client) -> None:
    assert set(names(populated.search_runs(None, "metrics.acc > 0.45"))) == {"run-5", "elsewhere"}


def test_order_by_metric_puts_missing_values_last(populated: mlpilot.Client) -> None:
    assert names(populated.search_runs("search", order_by=["metrics.acc DESC"]))[:2] == ["run-5", "run-4"]
    ascending = names(populated.search_runs("search", order_by='metrics."val loss" asc'))
    assert ascending[0] == "run-4" and ascending[-1] == "run-5"
    descending = names(populated.search_runs("search", order_by='metrics."val loss" desc'))
    assert descending[0] == "run-0" and descending[-1] == "run-5"
    by_param = names(populated.search_runs("search", order_by=["params.model", "name desc"]))
    assert by_param[:2] == ["run-3", "run-5"]


def test_default_order_is_newest_first(populated: mlpilot.Client) -> None:
    assert names(populated.search_runs("search"))[0] == "run-5"


def test_paging_walks_every_run_once(populated: mlpilot.Client) -> None:
    seen: list[str] = []
    token = None
    while True:
        page = populated.search_runs("search", order_by="metrics.acc asc", max_results=4, page_token=token)
        seen.extend(names(page))
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"run-{i}" for i in range(6)]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("metrics.acc >", "ends too early"),
        ("metrics.acc > 'high'", "number"),
        ("params.model > 'a'", "text"),
        ("colour = 'red'", "unknown field"),
        ("metrics.acc > 0.5 garbage", "unexpected"),
        ("metrics.acc >> 1", "expected a number"),
        ("params.model = rf", "expected a number or a quoted string"),
        ("(metrics.acc > 0.1", "ends too early"),
        ("metrics.acc like 'x'", "does not apply"),
        ("datasets.colour = 'x'", "unknown dataset field"),
        ("metrics.acc ~ 1", "cannot read"),
    ],
)
def test_bad_filters_say_what_is_wrong(populated: mlpilot.Client, query: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        populated.search_runs("search", query)


def test_bad_order_by_page_token_and_sizes(populated: mlpilot.Client) -> None:
    with pytest.raises(InvalidInput):
        populated.search_runs("search", order_by="colour desc")
    with pytest.raises(InvalidInput, match="not one mlpilot issued"):
        populated.search_runs("search", page_token="!!!")
    token = populated.search_runs("search", max_results=2).next_page_token
    with pytest.raises(InvalidInput, match="different search"):
        populated.search_runs("search", "metrics.acc > 0", max_results=2, page_token=token)
    with pytest.raises(InvalidInput, match="max_results"):
        populated.search_runs("search", max_results=0)
