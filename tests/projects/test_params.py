"""-P values: parsing, type conversion, required and unknown parameters, command rendering."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.projects import EntryPoint, Parameter, ParamType
from mlpilot.projects.params import parse_assignments, render_command, resolve_values
from mlpilot.projects.values import format_value

ENTRY = EntryPoint(
    "main",
    "python train.py --model {model} --C {C} --n {n} --fast {fast}",
    {
        "model": Parameter("model", ParamType.STR, "logreg", choices=("logreg", "forest")),
        "C": Parameter("C", ParamType.FLOAT, 1.0),
        "n": Parameter("n", ParamType.INT, 3),
        "fast": Parameter("fast", ParamType.BOOL, False),
    },
)


def resolve(entry: EntryPoint, given: dict[str, str], tmp_path: Path) -> dict[str, object]:
    return dict(resolve_values(entry, given, project_dir=tmp_path / "project", cwd=tmp_path))


# parsing -------------------------------------------------------------------------------------


def test_assignments_split_on_the_first_equals_sign() -> None:
    assert parse_assignments(["C=0.5", "query=a=b", "empty=", " spaced =x"]) == {
        "C": "0.5",
        "query": "a=b",
        "empty": "",
        "spaced": "x",
    }


@pytest.mark.parametrize("item", ["C", "=0.5", " =1"])
def test_an_assignment_needs_a_key_and_an_equals_sign(item: str) -> None:
    with pytest.raises(InvalidInput, match="is not key=value"):
        parse_assignments([item])


def test_a_key_given_twice_with_different_values_is_refused() -> None:
    assert parse_assignments(["C=1", "C=1"]) == {"C": "1"}
    with pytest.raises(InvalidInput, match=r"-P C is given twice \('1' and '2'\)"):
        parse_assignments(["C=1", "C=2"])


# conversion ----------------------------------------------------------------------------------


def test_defaults_fill_what_is_not_given(tmp_path: Path) -> None:
    assert resolve(ENTRY, {}, tmp_path) == {"model": "logreg", "C": 1.0, "n": 3, "fast": False}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"C": "0.5"}, {"C": 0.5}),
        ({"C": "2"}, {"C": 2.0}),
        ({"C": " 1e-3 "}, {"C": 0.001}),
        ({"n": "10"}, {"n": 10}),
        ({"n": "-4"}, {"n": -4}),
        ({"model": "forest"}, {"model": "forest"}),
    ],
)
def test_values_are_converted_to_their_declared_type(
    tmp_path: Path, given: dict[str, str], expected: dict[str, object]
) -> None:
    values = resolve(ENTRY, given, tmp_path)
    for key, value in expected.items():
        assert values[key] == value
        assert type(values[key]) is type(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("True", True), ("YES", True), ("1", True), ("false", False), ("no", False), ("0", False)],
)
def test_booleans_accept_the_usual_spellings(tmp_path: Path, text: str, expected: bool) -> None:
    assert resolve(ENTRY, {"fast": text}, tmp_path)["fast"] is expected


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("C", "abc", "parameter 'C' expects a float, got 'abc'"),
        ("n", "1.5", "parameter 'n' expects an int, got '1.5'"),
        ("n", "", "parameter 'n' expects an int, got ''"),
        ("fast", "maybe", "parameter 'fast' expects a bool, got 'maybe'"),
        ("model", "tree", "parameter 'model' must be one of logreg, forest; got 'tree'"),
    ],
)
def test_a_value_that_does_not_fit_names_the_parameter_and_the_type(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(ENTRY, {name: text}, tmp_path)
    assert expected in caught.value.message
    assert f"-P {name}=" in caught.value.hint


def test_unknown_parameters_are_refused_with_the_declared_ones_listed(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve(ENTRY, {"c": "1", "lr": "0.1"}, tmp_path)
    assert caught.value.message == "entry point 'main' has no parameters 'c', 'lr'"
    assert caught.value.hint == "Declared parameters: model, C, n, fast."


def test_every_missing_required_parameter_is_listed(tmp_path: Path) -> None:
    entry = EntryPoint(
        "main",
        "x {data} {k}",
        {
            "data": Parameter("data", ParamType.PATH),
            "k": Parameter("k", ParamType.INT),
            "m": Parameter("m", ParamType.STR, "a"),
        },
    )
    with pytest.raises(InvalidInput) as caught:
        resolve(entry, {}, tmp_path)
    assert "required parameters 'data' (path), 'k' (int)" in caught.value.message
    assert "-P data=" in caught.value.hint and "-P k=3" in caught.value.hint


def test_paths_on_the_command_line_start_from_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a\n1\n")
    entry = EntryPoint("main", "x {data}", {"data": Parameter("data", ParamType.PATH)})
    assert resolve(entry, {"data": "train.csv"}, tmp_path)["data"] == str(tmp_path / "train.csv")
    assert resolve(entry, {"data": str(tmp_path)}, tmp_path)["data"] == str(tmp_path)
    with pytest.raises(InvalidInput) as caught:
        resolve(entry, {"data": "nope.csv"}, tmp_path)
    assert "parameter 'data' expects an existing path, got 'nope.csv'" in caught.value.message
    assert str(tmp_path / "nope.csv") in caught.value.message


def test_path_defaults_start_from_the_project_folder(tmp_path: Path) -> None:
    (tmp_path / "project" / "data").mkdir(parents=True)
    entry = EntryPoint("main", "x {data}", {"data": Parameter("data", ParamType.PATH, "data")})
    assert resolve(entry, {}, tmp_path)["data"] == str(tmp_path / "project" / "data")
    missing = EntryPoint("main", "x {data}", {"data": Parameter("data", ParamType.PATH, "gone")})
    with pytest.raises(InvalidInput, match="resolved against the project folder"):
        resolve(missing, {}, tmp_path)


def test_a_script_entry_point_takes_any_parameter_as_text(tmp_path: Path) -> None:
    script = EntryPoint("train.py", "python train.py", script=True)
    assert resolve(script, {"lr": "0.1", "name": "a b"}, tmp_path) == {"lr": "0.1", "name": "a b"}


# rendering -----------------------------------------------------------------------------------


def test_the_command_gets_each_value_in_its_one_text_form(tmp_path: Path) -> None:
    values = resolve(ENTRY, {"C": "2", "fast": "yes"}, tmp_path)
    assert render_command(ENTRY, values) == "python train.py --model logreg --C 2.0 --n 3 --fast True"
    # The logged param is the same text as on the command line, and as str() of the parsed value.
    assert [format_value(value) for value in values.values()] == ["logreg", "2.0", "3", "True"]


def test_values_cannot_escape_into_the_shell() -> None:
    entry = EntryPoint("main", "echo {a} {b}", {"a": Parameter("a", ParamType.STR), "b": Parameter("b", ParamType.STR)})
    hostile = "x; rm -rf / $(whoami) `id` 'q' \"d\""
    command = render_command(entry, {"a": hostile, "b": ""})
    assert shlex.split(command) == ["echo", hostile, ""]


def test_literal_braces_render_single() -> None:
    entry = EntryPoint("main", "echo ${{HOME}} {a}", {"a": Parameter("a", ParamType.STR)})
    assert render_command(entry, {"a": "1"}) == "echo ${HOME} 1"


def test_a_script_gets_its_values_as_options() -> None:
    script = EntryPoint("train.py", "python train.py", script=True)
    command = render_command(script, {"lr": "0.1", "name": "a b"})
    assert shlex.split(command) == ["python", "train.py", "--lr", "0.1", "--name", "a b"]
