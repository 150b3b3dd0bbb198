"""Shared test fixtures. Every pipeline in the tests names its runner."""

from __future__ import annotations

import pathlib

import pytest

from pipeline.runners import BATCH_LOCAL_RUNNER, STREAMING_LOCAL_RUNNER

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS_DIR = REPO / "pipeline" / "sample"
FIXTURES = REPO / "tests" / "fixtures"

# Re-exported so tests say `TestPipeline(runner=BATCH_RUNNER)`.
BATCH_RUNNER = BATCH_LOCAL_RUNNER
STREAMING_RUNNER = STREAMING_LOCAL_RUNNER


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
