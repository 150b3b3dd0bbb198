"""Shared test fixtures. Every pipeline in the tests names its runner."""

from __future__ import annotations

import pathlib
import tempfile

import pytest

from pipeline.runners import BATCH_LOCAL_RUNNER, STREAMING_LOCAL_RUNNER

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS_DIR = REPO / "pipeline" / "sample"
FIXTURES = REPO / "tests" / "fixtures"

# Re-exported so tests say `TestPipeline(runner=BATCH_RUNNER)`.
BATCH_RUNNER = BATCH_LOCAL_RUNNER
STREAMING_RUNNER = STREAMING_LOCAL_RUNNER


@pytest.fixture(scope="session", autouse=True)
def temp_files_inside_pytest(tmp_path_factory):
    """In-process temp files go under pytest's own temp folder. Beam makes a directory per
    Pipeline and removes it only in run(), so a test that builds a pipeline without running
    it would leave one in /tmp for good."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfile"))
    yield
    tempfile.tempdir = previous


def seed_paths() -> list[pathlib.Path]:
    return sorted(SEEDS_DIR.glob("*.txt"))


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    """The five seed articles by file stem, as stored (marker line included)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in seed_paths()}


def require_shared(path: pathlib.Path) -> pathlib.Path:
    """Fail loudly (never skip) when ../shared data a test needs is missing."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the tests need ../shared beside the checkout"
        )
    return path


NEWSBEAM = str(pathlib.Path(__import__("sys").executable).with_name("newsbeam"))


def run_newsbeam(*args: str, cwd: pathlib.Path | None = None, check: bool = True):
    """Run the installed `newsbeam run` command in a subprocess."""
    import subprocess

    result = subprocess.run([NEWSBEAM, "run", *args], capture_output=True, text=True, cwd=cwd, timeout=900)
    if check:
        assert result.returncode == 0, f"newsbeam failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="session")
def golden_output(tmp_path_factory) -> pathlib.Path:
    """One real run over the seeds plus the reprint fixture, shared by the query,
    view and report tests (a pipeline run costs seconds; reading it costs nothing)."""
    output = tmp_path_factory.mktemp("golden") / "out"
    run_newsbeam(
        "--input", str(SEEDS_DIR / "*.txt"),
        "--input", str(FIXTURES / "reprint" / "*.jsonl"),
        "--output", str(output),
    )
    return output
