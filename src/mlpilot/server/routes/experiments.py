"""Experiments: create, list, read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlpilot.server.deps import Reader, Writer, render
from mlpilot.tracking import experiments as experiment_service
from mlpilot.tracking.records import Experiment
from mlpilot.wire.bodies import ExperimentBody

router = APIRouter(prefix="/experiments", tags=["experiments"])


@router.post("", name="experiment.create", status_code=201, response_model=Experiment)
def create_experiment(body: ExperimentBody, caller: Writer) -> Response:
    return render(experiment_service.create_experiment(caller.db, body.name, body.description), 201)


@router.get("", response_model=list[Experiment])
def list_experiments(caller: Reader) -> Response:
    return render(experiment_service.list_experiments(caller.db))


@router.get("/{ref:path}", response_model=Experiment)
def get_experiment(ref: str, caller: Reader, by_id: bool = False) -> Response:
    """By name (or by id when ``by_id`` is true or no experiment has that name and it is a number)."""
    target: str | int = int(ref) if by_id and ref.isdecimal() else ref
    return render(experiment_service.get_experiment(caller.db, target))
