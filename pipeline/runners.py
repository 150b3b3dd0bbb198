"""Which Beam runner a run uses, always named, never left to Beam's defaults.

Beam's `DirectRunner` is a switching runner: it first tries Prism, which
downloads a Go binary from the internet and, offline, falls back silently.
newsbeam never asks for that. `DirectRunner` (and no `--runner` at all) means
the in-process engine, chosen explicitly:

- batch: `FnApiRunner`, Beam's in-process portable engine (it honours
  `--direct_num_workers` and `--direct_running_mode`);
- streaming: `BundleBasedDirectRunner`, which runs unbounded sources,
  `TestStream`, timers and state.

Short names Beam 2.77 does not know (`DaskRunner`) map to their class paths.
"""

from __future__ import annotations

BATCH_LOCAL_RUNNER = "FnApiRunner"
STREAMING_LOCAL_RUNNER = "BundleBasedDirectRunner"

RUNNER_ALIASES = {
    # Beam's DaskRunner with per-output routing of tagged outputs (see pipeline/dask_runner.py).
    "DaskRunner": "pipeline.dask_runner.DaskRunner",
}

_LOCAL_SWITCHING_NAMES = {"directrunner", "direct", "switchingdirectrunner"}


def resolve_runner(requested: str | None, streaming: bool) -> str:
    """The runner name to hand to Beam for what the user asked for."""
    if requested is None or requested.lower() in _LOCAL_SWITCHING_NAMES:
        return STREAMING_LOCAL_RUNNER if streaming else BATCH_LOCAL_RUNNER
    return RUNNER_ALIASES.get(requested, requested)
