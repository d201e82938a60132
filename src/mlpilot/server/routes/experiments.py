"""Experiments: create, list, read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.server.deps import Reader, Writer, render
from mlpilot.server.paging import Paging
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking.records import Experiment
from mlpilot.wire.bodies import ExperimentBody
from mlpilot.wire.pages import ExperimentPage

router = APIRouter(prefix="/experiments", tags=["experiments"])


@router.post("", name="experiment.create", status_code=201, response_model=Experiment)
def create_experiment(body: ExperimentBody, caller: Writer) -> Response:
    return render(experiment_service.create_experiment(caller.db, body.name, body.description), 201)


@router.get("", response_model=ExperimentPage)
def list_experiments(caller: Reader, paging: Paging) -> Response:
    """Oldest first, one page at a time."""
    page = paging.take(
        lambda limit, after: experiment_service.list_experiments(caller.db, limit=limit, after=after),
        key=lambda experiment: experiment.id,
        kind=int,
    )
    return render(ExperimentPage.model_construct(experiments=page.items, next_page_token=page.next_page_token))


@router.get("/{ref:path}", response_model=Experiment)
def get_experiment(ref: str, caller: Reader, by_id: bool = False) -> Response:
    """By name (or by id when ``by_id`` is true or no experiment has that name and it is a number)."""
    target: str | int = int(ref) if by_id and ref.isdecimal() else ref
    return render(experiment_service.get_experiment(caller.db, target))
