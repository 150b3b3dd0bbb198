"""What the evaluations share: real stages run over labelled articles, and the one line they print.

`newsbeam eval dedup`, `events` and `entities` each run the real transforms of
the main job (DedupSyndicated; TagEntities and AssignEvents) over the articles
of a labelled file, then score what came out. The run is the same for all:
articles from `beam.Create`, the stages in turn, every article out written as
one JSON row and every dead letter counted, read back once the pipeline ends.
"""

from __future__ import annotations

import json
import math
import pathlib
import tempfile
import time
from typing import Any, Callable, Iterator, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from transforms.schema import Article

# A stage: (label, transform) where the transform turns articles into (articles, dead letters).
Stage = tuple[str, beam.PTransform]


def _as_json(article: Article, row_of: Callable[[Article], Any]) -> str:
    return json.dumps(row_of(article))


def run_stages(
    articles: Sequence[Article], stages: Sequence[Stage], row_of: Callable[[Article], Any], runner: str
) -> tuple[list, int, float]:
    """Run the stages one after another over the articles on `runner`:
    (`row_of` of every article out, as JSON gives it back; dead letters; seconds)."""
    with tempfile.TemporaryDirectory(prefix="newsbeam-eval-") as workdir:
        rows_prefix = str(pathlib.Path(workdir) / "rows")
        dead_prefix = str(pathlib.Path(workdir) / "dead")
        started = time.monotonic()
        with beam.Pipeline(options=PipelineOptions([], runner=runner)) as pipeline:
            current = pipeline | "Articles" >> beam.Create(list(articles)).with_output_types(Article)
            dead_parts = []
            for label, stage in stages:
                current, dead = current | label >> stage
                dead_parts.append(dead)
            _ = current | "RowsAsJson" >> beam.Map(_as_json, row_of) | "WriteRows" >> beam.io.WriteToText(rows_prefix)
            _ = (
                tuple(dead_parts)
                | "AllDeadLetters" >> beam.Flatten()
                | "DeadLetterRefs" >> beam.Map(lambda letter: letter.source_ref)
                | "WriteDeadLetters" >> beam.io.WriteToText(dead_prefix)
            )
        seconds = time.monotonic() - started
        rows: list = []
        dead_letters = 0
        for path in pathlib.Path(workdir).iterdir():
            with path.open(encoding="utf-8") as lines:
                if path.name.startswith("rows"):
                    rows.extend(json.loads(line) for line in lines)
                elif path.name.startswith("dead"):
                    dead_letters += sum(1 for _ in lines)
    return rows, dead_letters, seconds


def rounded(value):
    """Floats to 4 places, inside dicts too."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def _floats(value) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _floats(item)


def print_figures(figures: dict) -> None:
    """The evaluation's one JSON line; a figure that is not finite, at any depth, is an error, never printed."""
    if not all(math.isfinite(value) for value in _floats(figures)):
        raise RuntimeError(f"non-finite figure in {figures}")
    print(json.dumps(figures))
