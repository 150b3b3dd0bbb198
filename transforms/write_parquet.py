"""WriteParquet: articles to Hive-partitioned Parquet, dead letters beside them.

Layout under the output directory DIR:

    DIR/event_id=<event_id>/date=<YYYY-MM-DD>/part-00000.parquet
    DIR/event_id=<event_id>/date=__HIVE_DEFAULT_PARTITION__/part-00000.parquet
    DIR/_dead_letters/part-00000.parquet
    DIR/_run.json          the run's manifest: counts and the files it published

Every file is written with the explicit schemas of `transforms.schema`, never
inferred. Publication is atomic per file and safe for the dataset:

1. each partition's rows are written to `DIR/.staging-<run_id>/...` (a hidden
   folder: no `event_id=*` glob and no Hive reader ever sees it);
2. only after every partition of the run is staged, one publish step moves the
   staged files into place (rename over any file of the same name, so a re-run
   replaces rather than doubles), checks each one arrived (Beam's local fileio
   rename can fail without a word when a partition folder is missing; this one
   creates the folder first and raises when a file is not where it should be),
   deletes files of earlier runs that this run did not produce (batch runs
   replace the dataset), and writes `_run.json` last;
3. a run that fails before publishing leaves DIR as it was; its staging folder
   is removed by the launcher (`cleanup_staging`).

Within a partition rows are sorted by article_id and cut into files of at most
`max_rows_per_file` rows, so the same input always gives the same files.

Paths go through Beam's `FileSystems`, so DIR may be local or `gs://...`.

Run locally:  newsbeam run --output out
On Dataflow:  newsbeam run --output gs://BUCKET/news --runner DataflowRunner ...
"""

from __future__ import annotations

import datetime as dt
import io
import json
import posixpath
from typing import Iterable, NamedTuple, Optional

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from pydantic import BaseModel, ConfigDict, Field

from transforms.dead_letters import METRICS_NAMESPACE
from transforms.schema import (
    ARTICLE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    Article,
    DeadLetter,
    article_to_row,
    dead_letter_to_row,
)

DEAD_LETTER_DIR = "_dead_letters"
MANIFEST_NAME = "_run.json"
STAGING_PREFIX = ".staging-"
ARTICLE_GLOB = "event_id=*/date=*/*.parquet"
DEAD_LETTER_GLOB = f"{DEAD_LETTER_DIR}/*.parquet"


class OutputConfig(BaseModel):
    """How the Parquet output is cut and compressed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows_per_file: int = Field(
        100_000, gt=0, description="Rows per Parquet file before a partition is split into more files."
    )
    compression: str = Field("zstd", description="Parquet compression codec (zstd, snappy, gzip, none).")
    row_group_rows: int = Field(10_000, gt=0, description="Rows per Parquet row group.")


class StagedFile(NamedTuple):
    """A file written to staging, waiting for the publish step."""

    relative_path: str  # its path under DIR once published
    staged_path: str
    rows: int
    kind: str  # "articles" or "dead_letters"


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts) if parts else base


def partition_path(event_id: Optional[str], date_partition: str) -> str:
    return f"event_id={event_id or 'unassigned'}/date={date_partition}"


def staging_dir(output_dir: str, run_id: str) -> str:
    return join(output_dir, STAGING_PREFIX + run_id)


def _write_table(table: pa.Table, path: str, config: OutputConfig) -> None:
    buffer = io.BytesIO()
    compression = None if config.compression == "none" else config.compression
    pq.write_table(table, buffer, compression=compression, row_group_size=config.row_group_rows)
    _ensure_dir(posixpath.dirname(path))
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(buffer.getvalue())


def _ensure_dir(path: str) -> None:
    if path and not FileSystems.exists(path):
        try:
            FileSystems.mkdirs(path)
        except IOError:
            # Another bundle created it between the check and the call.
            if not FileSystems.exists(path):
                raise


def _chunks(rows: list, size: int) -> Iterable[tuple[int, list]]:
    for index, start in enumerate(range(0, max(len(rows), 1), size)):
        yield index, rows[start : start + size]


class _StagePartitionFn(beam.DoFn):
    """Write one partition's rows (already grouped) as sorted, capped files."""

    def __init__(self, stage_root: str, config: OutputConfig):
        self._stage_root = stage_root
        self._config = config
        self._files = Metrics.counter(METRICS_NAMESPACE, "parquet_files_staged")

    def process(self, element: tuple[str, Iterable[Article]]):
        partition, articles = element
        ordered = sorted(articles, key=lambda a: a.article_id)
        if not ordered:
            return
        for index, chunk in _chunks(ordered, self._config.max_rows_per_file):
            relative = f"{partition}/part-{index:05d}.parquet"
            staged = join(self._stage_root, relative)
            table = pa.Table.from_pylist([article_to_row(a) for a in chunk], schema=ARTICLE_SCHEMA)
            _write_table(table, staged, self._config)
            self._files.inc()
            yield StagedFile(relative, staged, len(chunk), "articles")


class _StageDeadLettersFn(beam.DoFn):
    def __init__(self, stage_root: str, config: OutputConfig):
        self._stage_root = stage_root
        self._config = config

    def process(self, element: tuple[str, Iterable[DeadLetter]]):
        _, letters = element
        ordered = sorted(letters, key=lambda d: (d.step, d.reason, d.source_ref, d.raw))
        for index, chunk in _chunks(ordered, self._config.max_rows_per_file):
            if not chunk:
                continue
            relative = f"{DEAD_LETTER_DIR}/part-{index:05d}.parquet"
            staged = join(self._stage_root, relative)
            table = pa.Table.from_pylist([dead_letter_to_row(d) for d in chunk], schema=DEAD_LETTER_SCHEMA)
            _write_table(table, staged, self._config)
            yield StagedFile(relative, staged, len(chunk), "dead_letters")


def _existing_outputs(output_dir: str) -> list[str]:
    patterns = [join(output_dir, ARTICLE_GLOB), join(output_dir, DEAD_LETTER_GLOB)]
    found: list[str] = []
    for result in FileSystems.match(patterns):
        found.extend(m.path for m in result.metadata_list)
    return found


def _remove_empty_local_dirs(output_dir: str) -> None:
    """Drop partition folders left empty by a replaced run (local disks only)."""
    import os

    if "://" in output_dir or not os.path.isdir(output_dir):
        return
    for root, dirs, files in os.walk(output_dir, topdown=False):
        name = os.path.basename(root)
        if root != output_dir and not files and not os.listdir(root) and (
            name.startswith(("event_id=", "date=")) or name == DEAD_LETTER_DIR
        ):
            os.rmdir(root)


def _stage_empty_dead_letters(output_dir: str, run_id: str) -> StagedFile:
    """A run without dead letters still publishes the (empty) table, so the
    `_dead_letters/*.parquet` glob always matches and queries over it work."""
    relative = f"{DEAD_LETTER_DIR}/part-00000.parquet"
    staged = join(staging_dir(output_dir, run_id), relative)
    _write_table(DEAD_LETTER_SCHEMA.empty_table(), staged, OutputConfig())
    return StagedFile(relative, staged, 0, "dead_letters")


def publish(
    staged: list[StagedFile],
    output_dir: str,
    run_id: str,
    records_read: int,
    dead_letters_by_reason: dict[str, int],
) -> dict:
    """Move staged files into place, drop stale ones, write the manifest.

    Raises if any file fails to arrive: a run never reports rows it lost.
    """
    staged = sorted(staged, key=lambda s: s.relative_path)
    if not any(s.kind == "dead_letters" for s in staged):
        staged.append(_stage_empty_dead_letters(output_dir, run_id))
    finals = [join(output_dir, s.relative_path) for s in staged]
    for final in finals:
        _ensure_dir(posixpath.dirname(final))
    if staged:
        FileSystems.rename([s.staged_path for s in staged], finals)
    missing = [f for f in finals if not FileSystems.exists(f)]
    if missing:
        raise IOError(f"publish lost {len(missing)} file(s), e.g. {missing[0]}")

    keep = set(finals)
    stale = [path for path in _existing_outputs(output_dir) if path not in keep]
    if stale:
        FileSystems.delete(stale)
    _remove_empty_local_dirs(output_dir)

    rows_written = sum(s.rows for s in staged if s.kind == "articles")
    dead_total = sum(s.rows for s in staged if s.kind == "dead_letters")
    manifest = {
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "records_read": records_read,
        "rows_written": rows_written,
        "dead_letters": dead_total,
        "dead_letters_by_reason": dict(sorted(dead_letters_by_reason.items())),
        "conserved": records_read == rows_written + dead_total,
        "files": [
            {"path": s.relative_path, "rows": s.rows, "kind": s.kind} for s in staged
        ],
    }
    manifest_path = join(output_dir, MANIFEST_NAME)
    temporary = join(staging_dir(output_dir, run_id), MANIFEST_NAME)
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(json.dumps(manifest, indent=2).encode("utf-8"))
    FileSystems.rename([temporary], [manifest_path])
    cleanup_staging(output_dir, run_id)
    return manifest


def cleanup_staging(output_dir: str, run_id: str) -> None:
    """Remove the run's staging folder, whatever state it is in."""
    root = staging_dir(output_dir, run_id)
    if "://" not in root:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        return
    leftovers = [m.path for r in FileSystems.match([join(root, "**")]) for m in r.metadata_list]
    if leftovers:
        FileSystems.delete(leftovers)


def read_manifest(output_dir: str) -> dict:
    with FileSystems.open(join(output_dir, MANIFEST_NAME)) as handle:
        return json.loads(handle.read().decode("utf-8"))


def dead_letter_key(letter: DeadLetter) -> str:
    return f"{letter.step}/{letter.reason}"


class WriteParquet(beam.PTransform):
    """Stage partitions, then publish them all at once with the run's counts.

    Applied to a dict of PCollections:
      articles: PCollection[Article]
      dead_letters: PCollection[DeadLetter]
      records_read: PCollection[int] holding one number, every input record
    Returns a PCollection with the one published manifest (a dict).
    """

    def __init__(self, output_dir: str, run_id: str, config: OutputConfig | None = None):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._config = config or OutputConfig()

    def expand(self, inputs):
        articles = inputs["articles"]
        dead_letters = inputs["dead_letters"]
        records_read = inputs["records_read"]
        stage_root = staging_dir(self._output_dir, self._run_id)

        staged_articles = (
            articles
            | "KeyByPartition"
            >> beam.Map(lambda a: (partition_path(a.event_id, a.date_partition), a)).with_output_types(
                tuple[str, Article]
            )
            | "GroupPartitions" >> beam.GroupByKey()
            | "StagePartitions" >> beam.ParDo(_StagePartitionFn(stage_root, self._config))
        )
        staged_dead = (
            dead_letters
            | "KeyDeadLetters" >> beam.Map(lambda d: (DEAD_LETTER_DIR, d)).with_output_types(tuple[str, DeadLetter])
            | "GroupDeadLetters" >> beam.GroupByKey()
            | "StageDeadLetters" >> beam.ParDo(_StageDeadLettersFn(stage_root, self._config))
        )
        dead_by_reason = (
            dead_letters
            | "DeadLetterReason" >> beam.Map(lambda d: (dead_letter_key(d), 1))
            | "CountByReason" >> beam.CombinePerKey(sum)
        )
        output_dir, run_id = self._output_dir, self._run_id
        return (
            (staged_articles, staged_dead)
            | "AllStagedFiles" >> beam.Flatten()
            | "CollectStaged" >> beam.combiners.ToList()
            | "Publish"
            >> beam.Map(
                lambda staged, read, by_reason: publish(staged, output_dir, run_id, read, by_reason),
                read=beam.pvalue.AsSingleton(records_read),
                by_reason=beam.pvalue.AsDict(dead_by_reason),
            )
        )
