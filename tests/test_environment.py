"""pyproject.toml (ranges), constraints.txt (exact pins) and environment.yml must agree."""

from __future__ import annotations

import os
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


def test_the_makefile_exports_the_portable_cpu_settings_of_the_executor() -> None:
    """`make test`, `make execute` and `make lab` run torch with the same CPU kernels as the executor."""
    from course_lib.execution import PORTABLE_CPU_ENV

    exported = dict(re.findall(r"^export (\w+) := (\S+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))
    assert PORTABLE_CPU_ENV == {name: exported.get(name) for name in PORTABLE_CPU_ENV}


def test_the_course_kernel_and_this_process_run_with_the_portable_cpu_settings() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    from course_lib.execution import KERNEL_NAME, PORTABLE_CPU_ENV, ensure_kernel

    ensure_kernel()
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    for name, value in PORTABLE_CPU_ENV.items():
        assert spec.env.get(name) == value, f"kernel {KERNEL_NAME!r} lacks {name}={value}: run `make venv` again"
        assert os.environ.get(name) == value  # set by the repository's conftest.py before torch runs


def test_the_package_config_ships_every_subpackage_of_course_lib() -> None:
    """A non-editable install (wheel) must contain checks/, plots/, widgets/ and any later subpackage."""
    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(where=str(ROOT), include=find["include"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "course_lib").rglob("__init__.py")}
    assert on_disk <= shipped, f"not packaged: {sorted(on_disk - shipped)}"
    assert {"course_lib.checks", "course_lib.plots", "course_lib.widgets"} <= shipped
