"""The repository's promises about itself: packaging, quickstart, CI."""

import re
import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "accelsim").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml: {sorted(found - listed)}"


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash)\n(.*?)```", text, re.S)
    assert block, "README must open with a shell block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    commands = quickstart()
    assert len(commands) == 2
    install_and_run, tests = commands
    assert "accelsim run" in install_and_run
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines(), ".ci/run must run the README's test command verbatim"


HEAVY = {"numpy", "simpy", "h5py", "numba", "yaml"}


@pytest.mark.parametrize("code", [
    "import accelsim",
    "import contextlib, io\nfrom accelsim.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])",
])
def test_import_and_help_load_none_of_the_numerics(code):
    """``import accelsim`` and ``accelsim --help`` start in a fraction of numpy's import (issue 15): the
    subcommands' modules are imported when named."""
    shown = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    assert "accelsim" in shown
    assert not HEAVY & {name.partition(".")[0] for name in shown}
