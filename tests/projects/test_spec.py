"""mlpilot.yaml: what a valid file becomes, and how each mistake is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpilot.errors import InvalidInput
from mlpilot.projects import ParamType, load_project
from mlpilot.projects.params import render_command
from tests.projects.conftest import ProjectFactory

REPO = Path(__file__).resolve().parents[2]

FULL = """\
name: churn
description: Predict who leaves.
entry_points:
  main:
    description: Train one model.
    command: "python train.py --model {model} --C {C} --seed {seed} --fast {fast} --data {data} --note {{literal}}"
    parameters:
      model: {type: string, default: logreg, choices: [logreg, forest]}
      C: {type: float, default: 1, description: Regularisation}
      seed: {default: 7}
      fast: {type: boolean, default: "yes"}
      data: path
      lr: {type: float, default: 1e-3}
  other:
    command: python other.py
"""


def test_a_full_project_loads_into_typed_records(make_project: ProjectFactory) -> None:
    folder = make_project(FULL)
    project = load_project(folder)
    assert project.name == "churn"
    assert project.description == "Predict who leaves."
    assert project.directory == folder.resolve()
    assert project.file == (folder / "mlpilot.yaml").resolve()
    assert list(project.entry_points) == ["main", "other"]

    main = project.entry_points["main"]
    assert main.description == "Train one model."
    params = main.parameters
    assert list(params) == ["model", "C", "seed", "fast", "data", "lr"]
    assert (params["model"].type, params["model"].default, params["model"].choices) == (
        ParamType.STR,
        "logreg",
        ("logreg", "forest"),
    )
    # An int default of a float parameter becomes a float; the description is kept.
    assert params["C"].default == 1.0 and isinstance(params["C"].default, float)
    assert params["C"].description == "Regularisation"
    # With no type, the YAML type of the default decides.
    assert (params["seed"].type, params["seed"].default) == (ParamType.INT, 7)
    assert (params["fast"].type, params["fast"].default) == (ParamType.BOOL, True)
    # A bare type declares a required parameter.
    assert params["data"].type is ParamType.PATH and params["data"].required
    # PyYAML reads 1e-3 as text; a float parameter still gets a float.
    assert params["lr"].default == pytest.approx(0.001)
    assert project.entry_points["other"].parameters == {}


def test_the_project_file_itself_can_be_named(make_project: ProjectFactory) -> None:
    folder = make_project(FULL)
    assert load_project(folder / "mlpilot.yaml").directory == folder.resolve()


def test_the_name_defaults_to_the_folder(make_project: ProjectFactory) -> None:
    folder = make_project("entry_points: {main: {command: echo hi}}", name="my-proj")
    assert load_project(folder).name == "my-proj"


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_project(tmp_path / "nowhere")


def test_a_folder_without_mlpilot_yaml_names_the_folder_and_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_project(tmp_path)
    assert f"{tmp_path.resolve()} has no mlpilot.yaml" in caught.value.message
    assert "mlpilot init" in caught.value.hint


def test_a_folder_without_mlpilot_yaml_can_still_run_scripts(make_project: ProjectFactory) -> None:
    folder = make_project(None, name="bare", train__py="print('hi')\n")
    project = load_project(folder, require_file=False)
    assert (project.name, project.file, dict(project.entry_points)) == ("bare", None, {})
    entry = project.entry_point("train.py")
    assert entry.script and entry.command == "python train.py"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("", "is empty", ""),
        ("- a\n- b\n", "top level", "must be a mapping, got list"),
        ("name: x\nentry_point: {}\n", "top level", "unknown key 'entry_point'"),
        ("conda_env: conda.yaml\nentry_points: {main: {command: x}}\n", "top level", "unknown key 'conda_env'"),
        ("name: [1]\nentry_points: {main: {command: x}}\n", "name", "non-empty string"),
        ("name: x\n", "entry_points", "is missing"),
        ("entry_points: {}\n", "entry_points", "declares no entry point"),
        ("entry_points: {main: {parameters: {}}}\n", "entry_points.main.command", "is missing"),
        ("entry_points: {main: {command: '  '}}\n", "entry_points.main.command", "non-empty string"),
        ("entry_points: {main: {command: x, params: {}}}\n", "entry_points.main", "unknown key 'params'"),
        ("entry_points: {main: {command: x, parameters: [a]}}\n", "entry_points.main.parameters", "must be a mapping"),
        (
            "entry_points: {main: {command: 'x {C}', parameters: {C: {type: flaot}}}}\n",
            "entry_points.main.parameters.C.type",
            "unknown type 'flaot'",
        ),
        (
            "entry_points: {main: {command: x, parameters: {C: flaot}}}\n",
            "entry_points.main.parameters.C",
            "unknown type 'flaot'",
        ),
        (
            "entry_points: {main: {command: x, parameters: {C: {type: float, default: abc}}}}\n",
            "entry_points.main.parameters.C.default",
            "'abc' is not a valid float",
        ),
        (
            "entry_points: {main: {command: x, parameters: {n: {type: int, default: 1.5}}}}\n",
            "entry_points.main.parameters.n.default",
            "1.5 (float) is not a valid int",
        ),
        (
            "entry_points: {main: {command: x, parameters: {n: {type: int, default: true}}}}\n",
            "entry_points.main.parameters.n.default",
            "True (bool) is not a valid int",
        ),
        (
            "entry_points: {main: {command: x, parameters: {b: {type: bool, default: maybe}}}}\n",
            "entry_points.main.parameters.b.default",
            "'maybe' is not a valid bool",
        ),
        (
            "entry_points: {main: {command: x, parameters: {s: {type: str, default: yes}}}}\n",
            "entry_points.main.parameters.s.default",
            "True (bool) is not a valid str",
        ),
        (
            "entry_points: {main: {command: x, parameters: {p: {type: path, default: 3}}}}\n",
            "entry_points.main.parameters.p.default",
            "3 (int) is not a valid path",
        ),
        (
            "entry_points: {main: {command: x, parameters: {m: {default: c, choices: [a, b]}}}}\n",
            "entry_points.main.parameters.m.default",
            "'c' is not one of the choices a, b",
        ),
        (
            "entry_points: {main: {command: x, parameters: {p: {type: path, choices: [a]}}}}\n",
            "entry_points.main.parameters.p.choices",
            "cannot have choices",
        ),
        (
            "entry_points: {main: {command: x, parameters: {'1st': int}}}\n",
            "entry_points.main.parameters.1st",
            "starts with no digit",
        ),
        (
            "entry_points: {main: {command: 'python t.py --lr {lr}'}}\n",
            "entry_points.main.command",
            "uses undeclared parameter {lr}",
        ),
        (
            "entry_points: {main: {command: 'x {C:.2f}', parameters: {C: float}}}\n",
            "entry_points.main.command",
            "format spec",
        ),
        (
            "entry_points: {main: {command: 'echo ${HOME:-/tmp}'}}\n",
            "entry_points.main.command",
            "format spec",
        ),
        ("entry_points: {main: {command: 'x {}'}}\n", "entry_points.main.command", "empty placeholder"),
        ("entry_points: {main: {command: 'x }'}}\n", "entry_points.main.command", "Single '}'"),
    ],
)
def test_each_mistake_names_the_file_and_the_field(
    make_project: ProjectFactory, text: str, field: str, problem: str
) -> None:
    folder = make_project(text)
    with pytest.raises(InvalidInput) as caught:
        load_project(folder)
    message = caught.value.message
    assert str((folder / "mlpilot.yaml").resolve()) in message
    assert field in message
    assert problem in message


def test_invalid_yaml_says_where(make_project: ProjectFactory) -> None:
    folder = make_project("entry_points:\n  main: {command: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"is not valid YAML \(line \d+, column \d+\)"):
        load_project(folder)


def test_mlflow_environment_keys_get_a_specific_hint(make_project: ProjectFactory) -> None:
    folder = make_project("python_env: python_env.yaml\nentry_points: {main: {command: x}}\n")
    with pytest.raises(InvalidInput) as caught:
        load_project(folder)
    assert "Python environment mlpilot itself runs in" in caught.value.hint


def test_a_bare_value_that_is_no_type_suggests_a_default(make_project: ProjectFactory) -> None:
    folder = make_project("entry_points: {main: {command: 'x {model}', parameters: {model: logreg}}}\n")
    with pytest.raises(InvalidInput) as caught:
        load_project(folder)
    assert "unknown type 'logreg'" in caught.value.message
    assert "{default: logreg}" in caught.value.hint


def test_literal_braces_are_written_doubled(make_project: ProjectFactory) -> None:
    folder = make_project("entry_points: {main: {command: 'echo ${{HOME}} {{x}}'}}\n")
    assert load_project(folder).entry_points["main"].command == "echo ${{HOME}} {{x}}"


def test_entry_point_lookup(make_project: ProjectFactory) -> None:
    folder = make_project(
        "entry_points: {main: {command: x}, validate: {command: y}}\n",
        train__py="",
        prep__sh="",
        **{"odd{name}__py": ""},
    )
    project = load_project(folder)
    assert project.entry_point("validate").command == "y"
    script = project.entry_point("train.py")
    assert (script.script, script.command, dict(script.parameters)) == (True, "python train.py", {})
    assert project.entry_point("prep.sh").command == "bash prep.sh"
    # Braces in a file name are escaped so the command is not read as a template.
    assert render_command(project.entry_point("odd{name}.py"), {}) == "python 'odd{name}.py'"

    with pytest.raises(InvalidInput) as unknown:
        project.entry_point("trian")
    assert "has no entry point 'trian'" in unknown.value.message
    assert "main, validate" in unknown.value.hint

    with pytest.raises(InvalidInput, match=r"missing\.py is not a file"):
        project.entry_point("missing.py")


def test_the_example_project_is_valid() -> None:
    project = load_project(REPO / "examples" / "classifier")
    main = project.entry_points["main"]
    assert project.name == "classifier"
    assert main.parameters["model"].choices == ("logreg", "forest", "boosting")
    assert {name: param.default for name, param in main.parameters.items()} == {
        "model": "logreg",
        "C": 1.0,
        "n_estimators": 100,
        "learning_rate": 0.1,
        "test_size": 0.25,
        "seed": 42,
    }
