"""Projects: a folder with an ``mlpilot.yaml`` whose entry points run as tracked runs (``mlpilot run``).

plan = plan_run("examples/classifier", "main", ["model=forest"])   # checks everything first
outcome = execute(client, plan, experiment="classifier", write=sys.stdout.write)
"""

from mlpilot.projects.runner import OUTPUT_ARTIFACT, ProjectRun, RunOutcome, execute, plan_run
from mlpilot.projects.scaffold import Scaffold, init_project
from mlpilot.projects.spec import PROJECT_FILE, EntryPoint, Parameter, ProjectSpec, load_project
from mlpilot.projects.values import ParamType

__all__ = [
    "OUTPUT_ARTIFACT",
    "PROJECT_FILE",
    "EntryPoint",
    "ParamType",
    "Parameter",
    "ProjectRun",
    "ProjectSpec",
    "RunOutcome",
    "Scaffold",
    "execute",
    "init_project",
    "load_project",
    "plan_run",
]
