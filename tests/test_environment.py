"""pyproject.toml (ranges), constraints.txt (exact pins) and environment.yml must agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def pins() -> dict[str, Version]:
    result = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        result[canonicalize_name(name)] = Version(version)
    return result


def environment_pins() -> dict[str, Version]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    result = {}
    for line in pip_section:
        if line.startswith("-"):
            continue  # options: index url, constraint file, the editable install
        name, sep, version = line.partition("==")
        assert sep, f"environment.yml: {line!r} is not an exact pin"
        result[canonicalize_name(name)] = Version(version)
    return result


def test_environment_yml_and_pyproject_name_the_same_packages() -> None:
    assert set(environment_pins()) == set(pyproject_requirements())


def test_every_direct_dependency_is_pinned_and_the_pin_fits_its_range() -> None:
    pinned = pins()
    for name, requirement in pyproject_requirements().items():
        assert name in pinned, f"{name} is a dependency but has no pin in constraints.txt"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} is outside {requirement}"


def test_environment_yml_uses_the_constraint_pins() -> None:
    pinned = pins()
    for name, version in environment_pins().items():
        assert pinned[name] == version, f"environment.yml pins {name}=={version}, constraints.txt {pinned[name]}"
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in spec["dependencies"]
    pip_section = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    assert "--constraint constraints.txt" in pip_section and "--editable ." in pip_section


@pytest.mark.parametrize("package", ["jupyterlab", "numpy", "torch", "matplotlib", "ipywidgets", "nbval", "pytest"])
def test_required_packages_are_dependencies(package: str) -> None:
    assert package in pyproject_requirements()


def test_torch_is_pinned_to_the_cpu_build_on_disk() -> None:
    assert pins()["torch"] == Version("2.13.0")


def test_the_installed_environment_matches_the_pins() -> None:
    from importlib.metadata import version

    for name in pyproject_requirements():
        installed = Version(version(name)).public  # drop a local label such as +cpu
        assert Version(installed) == pins()[name], f"{name}: installed {installed}, pinned {pins()[name]}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.MULTILINE)
    assert "make lab" in commands and "make test" in commands
    ci_lines = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_lines == ["make test"]
