"""The worker image must carry the Beam and Python versions pyproject pins."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"
PYPROJECT = REPO / "pyproject.toml"


def pinned_versions(pyproject_text: str) -> tuple[str, str]:
    """(Beam version pinned with ==, Python minor version) from pyproject.toml."""
    project = tomllib.loads(pyproject_text)["project"]
    beam = [d for d in project["dependencies"] if re.match(r"apache-beam(\[.*\])?\s*==", d)]
    assert len(beam) == 1, f"apache-beam must be pinned exactly once with ==, found {beam}"
    beam_version = beam[0].split("==", 1)[1].strip()
    python = re.search(r">=\s*(3\.\d+)", project["requires-python"])
    assert python, "requires-python must name a lower bound"
    return beam_version, python.group(1)


def dockerfile_versions(dockerfile_text: str) -> tuple[str, str]:
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile_text, re.M))
    return args.get("BEAM_VERSION", ""), args.get("PYTHON_VERSION", "")


def version_mismatches(dockerfile_text: str, pyproject_text: str) -> list[str]:
    problems = []
    beam, python = pinned_versions(pyproject_text)
    docker_beam, docker_python = dockerfile_versions(dockerfile_text)
    if docker_beam != beam:
        problems.append(f"Dockerfile BEAM_VERSION {docker_beam!r} != pyproject apache-beam=={beam}")
    if docker_python != python:
        problems.append(f"Dockerfile PYTHON_VERSION {docker_python!r} != pyproject requires-python {python}")
    if "apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}" not in dockerfile_text:
        problems.append("the SDK stage must be apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}")
    if "FROM python:${PYTHON_VERSION}-slim" not in dockerfile_text:
        problems.append("the base image must be python:${PYTHON_VERSION}-slim")
    if 'ENTRYPOINT ["/opt/apache/beam/boot"]' not in dockerfile_text:
        problems.append("the entry point must be the Beam boot binary")
    if "pip check" not in dockerfile_text:
        problems.append("the image build must run pip check")
    return problems


def test_dockerfile_matches_pyproject():
    assert version_mismatches(DOCKERFILE.read_text(), PYPROJECT.read_text()) == []


def test_runtime_matches_the_pins():
    import apache_beam

    beam, python = pinned_versions(PYPROJECT.read_text())
    assert apache_beam.__version__ == beam
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python


def test_a_drifted_dockerfile_is_caught():
    text = DOCKERFILE.read_text()
    drifted = text.replace("ARG BEAM_VERSION=2.77.0", "ARG BEAM_VERSION=2.76.0")
    assert drifted != text
    assert any("BEAM_VERSION" in p for p in version_mismatches(drifted, PYPROJECT.read_text()))
    older_python = text.replace("ARG PYTHON_VERSION=3.11", "ARG PYTHON_VERSION=3.10")
    assert any("PYTHON_VERSION" in p for p in version_mismatches(older_python, PYPROJECT.read_text()))


def test_a_drifted_pyproject_is_caught():
    text = PYPROJECT.read_text()
    drifted = text.replace('"apache-beam==2.77.0"', '"apache-beam==2.78.0"')
    assert drifted != text
    assert version_mismatches(DOCKERFILE.read_text(), drifted)
    unpinned = text.replace('"apache-beam==2.77.0"', '"apache-beam>=2.77"')
    try:
        version_mismatches(DOCKERFILE.read_text(), unpinned)
    except AssertionError as error:
        assert "pinned exactly" in str(error)
    else:
        raise AssertionError("an unpinned Beam must be refused")


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
