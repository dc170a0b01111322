"""What a fresh clone installs: every requirements file pins plain `name==version` lines (pip refuses extras in a
constraints file, and `make bench` installs with `-c requirements.txt`), and pyproject.toml names every package the
rfi_models modules import at their top."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = sorted(ROOT.glob("requirements*.txt"))


def requirement_lines(path: Path) -> list[str]:
    """The requirement of every line of a requirements file, without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pin_problem(line: str) -> str | None:
    """Why `line` is not a plain `name==version` pin, or None."""
    try:
        requirement = Requirement(line)
    except InvalidRequirement as err:
        return f"not a requirement ({err})"
    specifiers = list(requirement.specifier)
    if requirement.extras:
        return f"has extras {sorted(requirement.extras)} (a constraint cannot have extras: pin each package)"
    if requirement.url or requirement.marker:
        return "has a URL or an environment marker"
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return f"pins {requirement.specifier or 'nothing'}, not one exact version"
    return None


def test_the_makefile_installs_with_the_runtime_pins_as_constraints():
    constraints = re.findall(r"-c (\S+)", (ROOT / "Makefile").read_text())
    assert constraints == ["requirements.txt"]


@pytest.mark.parametrize("path", REQUIREMENTS, ids=[p.name for p in REQUIREMENTS])
def test_every_requirement_line_is_a_plain_name_and_version(path):
    problems = [f"{path.name}: {line!r} {pin_problem(line)}" for line in requirement_lines(path) if pin_problem(line)]
    assert requirement_lines(path) and not problems, "\n".join(problems)


def test_the_pin_check_refuses_what_pip_refuses_as_a_constraint():
    assert "extras" in pin_problem("dask[distributed]==2026.8.0")
    assert "exact version" in pin_problem("numpy>=2")
    assert "exact version" in pin_problem("numpy==2.*")
    assert pin_problem("numpy==2.4.6") is None


def top_level_imports(path: Path) -> set[str]:
    """The top-level package names a module imports at its top (not inside functions or TYPE_CHECKING blocks)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"rfi_models", "__future__"}


def test_pyproject_names_every_import_time_need_and_requirements_pin_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(d).name) for d in project["dependencies"]}
    optional = {canonicalize_name(Requirement(d).name) for group in project["optional-dependencies"].values()
                for d in group}  # fmt: skip
    distributions = importlib.metadata.packages_distributions()
    needed = {}
    for path in sorted((ROOT / "rfi_models").rglob("*.py")):
        for name in top_level_imports(path):
            for distribution in distributions.get(name, [name]):
                needed.setdefault(canonicalize_name(distribution), path.relative_to(ROOT).as_posix())
    missing = {name: where for name, where in needed.items() if name not in declared}
    assert not missing, f"imported at the top of a module but not in pyproject's dependencies: {missing}"
    pinned = {canonicalize_name(Requirement(line).name) for line in requirement_lines(ROOT / "requirements.txt")}
    assert (declared | optional) <= pinned, f"not pinned in requirements.txt: {(declared | optional) - pinned}"
