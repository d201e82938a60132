"""Pipelines of typed Python steps: a DAG from inputs and outputs, cached, fanned out, tracked.

@step
def load(rows: int) -> pd.DataFrame: ...

@pipeline
def retrain(rows: int = 5000):
    data = load(rows)
    models = train.map(data, grid={"C": [0.1, 1.0]})
    pick(models, data)

retrain.run({"rows": 10_000})
"""

from mlpilot.pipelines.context import StepContext, current
from mlpilot.pipelines.engine import PipelineResult, run_pipeline
from mlpilot.pipelines.gating import evaluate_and_gate
from mlpilot.pipelines.pipeline import Pipeline, pipeline
from mlpilot.pipelines.rollout import roll_out
from mlpilot.pipelines.sources import load_source
from mlpilot.pipelines.step import Step, step
from mlpilot.pipelines.values import ModelOutput

__all__ = [
    "ModelOutput",
    "Pipeline",
    "PipelineResult",
    "Step",
    "StepContext",
    "current",
    "evaluate_and_gate",
    "load_source",
    "pipeline",
    "roll_out",
    "run_pipeline",
    "step",
]
