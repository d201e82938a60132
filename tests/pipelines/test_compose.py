"""Composing a pipeline: the DAG follows from which outputs go into which steps."""

from __future__ import annotations

import pandas as pd
import pytest

from mlpilot.errors import InvalidInput
from mlpilot.pipelines import pipeline, step
from tests.pipelines import sample


def test_the_dag_follows_from_inputs_and_outputs() -> None:
    graph = sample.candidates.compose({"rows": 100})
    nodes = {node["name"]: node for node in graph.to_list()}
    assert list(nodes) == ["make_data", "split", "train", "pick"]
    assert nodes["make_data"]["params"] == {"rows": 100, "seed": 0}
    assert nodes["split"]["inputs"] == {"data": "make_data.output"}
    assert nodes["split"]["outputs"] == ["train", "test"]
    assert nodes["train"]["inputs"] == {"train": "split.train"}
    assert nodes["train"]["grid"] == [{"C": 0.01}, {"C": 1.0}]
    assert nodes["pick"]["inputs"] == {"models": "train[*].output", "test": "split.test"}


def test_a_step_outside_a_pipeline_is_the_plain_function() -> None:
    frame = sample.make_data(rows=10)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 10
    train, test = sample.split(frame, test_share=0.5)
    assert len(train) == len(test) == 5


def test_a_grid_is_a_cartesian_product_and_params_an_explicit_list() -> None:
    @pipeline
    def grid() -> None:
        data = sample.make_data()
        sample.train.map(data, grid={"C": [0.1, 1.0, 10.0]})
        sample.train.map(train=data, params=[{"C": 2.0}])

    nodes = grid.compose().nodes
    assert [name for name, _ in nodes[1].instances] == ["train[0]", "train[1]", "train[2]"]
    assert nodes[2].name == "train_2" and nodes[2].instances == [("train_2[0]", {"C": 2.0})]


def test_parameters_come_from_the_pipeline_signature_and_text_is_converted() -> None:
    assert sample.candidates.resolve({"rows": "12"}, text=True) == {"rows": 12, "seed": 0}
    with pytest.raises(InvalidInput, match="'rows' of pipeline 'candidates' is int, got 'many'"):
        sample.candidates.resolve({"rows": "many"}, text=True)
    with pytest.raises(InvalidInput, match="has no parameter 'colour'"):
        sample.candidates.resolve({"colour": "red"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda: sample.split(pd.DataFrame()), "takes other steps' outputs or plain parameters"),
        (lambda: sample.make_data(rows=1, colour=2), "unexpected keyword argument 'colour'"),
        (lambda: sample.train.map(sample.make_data(), grid={"C": []}), "non-empty list of values"),
        (lambda: sample.train.map(sample.make_data()), "exactly one of grid"),
        (lambda: sample.train.map(sample.make_data(), grid={"C": [1.0]}, C=2.0), "both as arguments and in the grid"),
        (lambda: [*sample.make_data()], "cannot be unpacked"),
        (lambda: bool(sample.make_data()), "has no value while the pipeline is being composed"),
    ],
)
def test_composition_mistakes_are_refused_with_the_reason(body: object, message: str) -> None:
    @pipeline
    def wrong() -> None:
        body()  # type: ignore[operator]

    with pytest.raises(InvalidInput, match=message):
        wrong.compose()


def test_a_pipeline_that_calls_no_step_is_refused() -> None:
    @pipeline
    def empty() -> None:
        return None

    with pytest.raises(InvalidInput, match="calls no step"):
        empty.compose()


def test_outputs_are_named_by_the_decorator_or_counted_from_a_tuple_annotation() -> None:
    @step
    def two() -> tuple[int, int]:
        return 1, 2

    @step(outputs=("a", "b", "c"))
    def three() -> tuple[int, ...]:
        return 1, 2, 3

    assert two.outputs == ("output_0", "output_1")
    assert three.outputs == ("a", "b", "c")
    with pytest.raises(InvalidInput, match="name each output once"):
        step(outputs=("x", "x"))(lambda: None)


def test_a_missing_input_or_an_output_of_another_pipeline_is_refused_naming_the_step() -> None:
    from mlpilot.pipelines.graph import Output

    @pipeline
    def missing() -> None:
        sample.split()

    with pytest.raises(InvalidInput, match="step 'split': missing a required argument: 'data'"):
        missing.compose()

    @pipeline
    def foreign() -> None:
        sample.split(Output("elsewhere", "output"))

    with pytest.raises(InvalidInput, match="step 'split' takes an output of 'elsewhere', which is not a step"):
        foreign.compose()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"requirements": ["acc>=0.9"]}, "the gate requires 'acc', which evaluation does not produce"),
        ({"requirements": ["rmse<=3"], "task": "classification"}, "'rmse', which evaluation does not produce"),
        ({"requirements": ["accuracy=>0.9"]}, "accuracy=>0.9"),
        ({"requirements": [], "select_by": "auc"}, "select_by 'auc' is not a metric"),
    ],
)
def test_a_gate_with_a_metric_evaluation_does_not_produce_is_refused_while_composing(
    arguments: dict[str, object], message: str
) -> None:
    from mlpilot.pipelines import evaluate_and_gate

    @pipeline
    def gated() -> None:
        data = sample.make_data()
        evaluate_and_gate(sample.train(data), data, label="label", model="m", **arguments)

    with pytest.raises(InvalidInput, match=message):
        gated.compose()


def test_a_parameter_without_a_default_must_be_given() -> None:
    with pytest.raises(InvalidInput, match="pipeline 'needs-rows' needs a value for parameter 'rows'") as refused:
        sample.needs_rows.resolve({})
    assert refused.value.hint == "Pass -P rows=VALUE."
    assert sample.needs_rows.resolve({"rows": "7"}, text=True) == {"rows": 7}


def test_roll_out_refuses_what_is_not_a_gate_decision_and_a_bad_canary_policy() -> None:
    from mlpilot.pipelines import roll_out

    with pytest.raises(InvalidInput, match="roll_out takes the output of the evaluate_and_gate step"):
        roll_out.fn({"verdict": "BLESSED"}, deployment="api")
    decision = {"passed": False, "candidate": {}, "reasons": ["roc_auc>=0.7: 0.6 is below 0.7"]}
    with pytest.raises(InvalidInput, match="min_requests"):
        roll_out.fn(decision, deployment="api", policy={"min_requests": -1})
    with pytest.raises(InvalidInput, match="window"):
        roll_out.fn(decision, deployment="api", window=0)
    assert roll_out.fn(decision, deployment="api") == {
        "action": "none",
        "reasons": ["roc_auc>=0.7: 0.6 is below 0.7"],
        "deployment": "api",
    }
