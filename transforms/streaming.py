"""Whether a stage takes its streaming path (keyed state) or its batch path (grouping)."""

from __future__ import annotations

from typing import Optional

from apache_beam.options.pipeline_options import StandardOptions


def runs_streaming(pcollection, configured: Optional[bool] = None) -> bool:
    """`configured` when set (a stage's `streaming:` setting); else whether the input
    is unbounded or the pipeline runs with `--streaming`."""
    if configured is not None:
        return configured
    options = pcollection.pipeline.options
    return (not pcollection.is_bounded) or bool(options and options.view_as(StandardOptions).streaming)
