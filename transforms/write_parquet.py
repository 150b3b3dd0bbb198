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

Append mode (`WriteParquet(..., append=AppendRound(...))`, the rounds of a local
streaming run, `pipeline/rounds.py`): each round is one window. Its files are
named `part-<round_tag>-NNNNN.parquet`, so they sit beside earlier rounds'
files in the same partitions; nothing earlier is deleted; the manifest adds the
round's counts and files to the totals of the previous manifest. The state the
next round needs (feed validators and seen items, seen input files, live
events) is written to `DIR/_state/<name>.pickle` in the same publish step,
after the data files and before `_run.json`, so a round that does not reach its
publish step leaves data and state as the previous round left them and is
simply done again. A batch (replace) run removes `_state/`.

Windowed mode (unbounded input: `--streaming` on Dataflow, Flink, ...): rows are
stamped with the time they reach the writer (landing time) and cut into fixed
windows of `window_s` seconds; each window (and each late pane of it) is
staged and then published on its own: its files are
`part-w<window start, UTC>-<pane>-NNNNN.parquet` in the usual partitions, and a
window manifest `DIR/_windows/<window start>-<pane>-<id>.json` (counts, dead
letters by reason, files) is written after its files. Records read are
counted per landing window in `DIR/_windows/<window start>-read-<id>.json`.
Landing time, not publication time, so an article published days ago that
arrives now is written now rather than dropped as late data; late panes
(`allowed_lateness_s`) are published as extra panes, never dropped.
`counts.check_output` sums the window manifests; rows in = rows written +
dead letters holds over all windows once the pipeline is drained (a record
read in one window may be written in the next).

Paths go through Beam's `FileSystems`, so DIR may be local or `gs://...`.

Run locally:  newsbeam run --output out
On Dataflow:  newsbeam run --output gs://BUCKET/news --runner DataflowRunner ...
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import io
import json
import pickle
import posixpath
from typing import Callable, Iterable, NamedTuple, Optional

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
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
STATE_DIR = "_state"
WINDOWS_DIR = "_windows"
REPORT_DIR = "_report"  # newsbeam report's page (pipeline/report.py reads the name from pipeline.queries)
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
    window_s: float = Field(
        60.0, gt=0, description="Unbounded runs: seconds of landing time per output window (one atomic publish each)."
    )
    allowed_lateness_s: float = Field(
        86400.0, ge=0, description="Unbounded runs: how long a window accepts late rows (as extra panes)."
    )


class StagedFile(NamedTuple):
    """A file written to staging, waiting for the publish step."""

    relative_path: str  # its path under DIR once published
    staged_path: str
    rows: int
    kind: str  # "articles" or "dead_letters"
    reasons: tuple = ()  # dead letters: (step/reason, count) pairs


@dataclasses.dataclass(frozen=True)
class AppendRound:
    """What an appending round adds to the output: its tag and the state to carry.

    `previous_manifest` is the manifest the round starts from ({} for the first
    round); `carried_state` maps a state name to its entries (key -> value)
    as the previous round published them; `state_updates` holds entries the
    launcher already knows (e.g. the input files this round reads). Entries a
    round's pipeline emits (tagged `(name, key, value)`) replace carried ones.
    """

    round_tag: str
    previous_manifest: dict = dataclasses.field(default_factory=dict)
    carried_state: dict = dataclasses.field(default_factory=dict)
    state_updates: dict = dataclasses.field(default_factory=dict)


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


def _window_start(window) -> str:
    return dt.datetime.fromtimestamp(float(window.start), dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")


def window_file_prefix(window, pane) -> str:
    """`part-w<start, to the microsecond>-<pane index>-` for a window's files (unbounded runs)."""
    return f"part-w{_window_start(window)}-{pane.index if pane is not None else 0}-"


def _article_order(article: Article) -> str:
    return article.article_id


def _dead_letter_order(letter: DeadLetter) -> tuple:
    return (letter.step, letter.reason, letter.source_ref, letter.raw)


def _dead_letter_reasons(letters: list[DeadLetter]) -> tuple:
    return tuple(sorted(collections.Counter(dead_letter_key(d) for d in letters).items()))


@dataclasses.dataclass(frozen=True)
class _RowKind:
    """What differs between staging articles and staging dead letters."""

    kind: str  # StagedFile.kind
    sort_key: Callable
    to_row: Callable
    schema: pa.Schema
    files_counter: str
    reasons: Optional[Callable] = None  # rows of one file -> StagedFile.reasons


_ARTICLE_ROWS = _RowKind(
    "articles", _article_order, article_to_row, ARTICLE_SCHEMA, "parquet_files_staged"
)
_DEAD_LETTER_ROWS = _RowKind(
    "dead_letters",
    _dead_letter_order,
    dead_letter_to_row,
    DEAD_LETTER_SCHEMA,
    "dead_letter_files_staged",
    _dead_letter_reasons,
)


class _StageFolderFn(beam.DoFn):
    """Write one folder's rows (already grouped by folder) as sorted, capped files."""

    def __init__(self, stage_root: str, config: OutputConfig, rows: _RowKind, file_prefix: Optional[str] = "part-"):
        self._stage_root = stage_root
        self._config = config
        self._rows = rows
        self._file_prefix = file_prefix  # None: named after the window and pane
        self._files = Metrics.counter(METRICS_NAMESPACE, rows.files_counter)

    def process(self, element: tuple[str, Iterable], window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        prefix = self._file_prefix if self._file_prefix is not None else window_file_prefix(window, pane)
        folder, records = element
        ordered = sorted(records, key=self._rows.sort_key)
        if not ordered:
            return
        for index, chunk in _chunks(ordered, self._config.max_rows_per_file):
            relative = f"{folder}/{prefix}{index:05d}.parquet"
            staged = join(self._stage_root, relative)
            table = pa.Table.from_pylist([self._rows.to_row(r) for r in chunk], schema=self._rows.schema)
            _write_table(table, staged, self._config)
            self._files.inc()
            reasons = self._rows.reasons(chunk) if self._rows.reasons else ()
            yield StagedFile(relative, staged, len(chunk), self._rows.kind, reasons)


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
            name.startswith(("event_id=", "date=")) or name in (DEAD_LETTER_DIR, STATE_DIR, REPORT_DIR)
        ):
            os.rmdir(root)


def _stage_empty_dead_letters(output_dir: str, run_id: str) -> StagedFile:
    """A run without dead letters still publishes the (empty) table, so the
    `_dead_letters/*.parquet` glob always matches and queries over it work."""
    relative = f"{DEAD_LETTER_DIR}/part-00000.parquet"
    staged = join(staging_dir(output_dir, run_id), relative)
    _write_table(DEAD_LETTER_SCHEMA.empty_table(), staged, OutputConfig())
    return StagedFile(relative, staged, 0, "dead_letters")


def _stage_state(output_dir: str, run_id: str, append: AppendRound, emitted: Iterable[tuple]) -> list[tuple[str, str]]:
    """Stage `_state/<name>.pickle` files: carried entries, then the launcher's, then the pipeline's."""
    states = {name: dict(entries) for name, entries in append.carried_state.items()}
    for name, entries in append.state_updates.items():
        states.setdefault(name, {}).update(entries)
    for name, key, value in emitted:
        states.setdefault(name, {})[key] = value
    staged = []
    for name, entries in sorted(states.items()):
        relative = f"{STATE_DIR}/{name}.pickle"
        path = join(staging_dir(output_dir, run_id), relative)
        _ensure_dir(posixpath.dirname(path))
        with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
        staged.append((path, join(output_dir, relative)))
    return staged


def read_state(output_dir: str, name: str) -> dict:
    """The entries of `_state/<name>.pickle` as the last round published them ({} if none)."""
    path = join(output_dir, STATE_DIR, f"{name}.pickle")
    if not FileSystems.exists(path):
        return {}
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return pickle.loads(handle.read())


def _move_into_place(staged: list[StagedFile], output_dir: str) -> None:
    """Rename staged files to their final paths; raises if one did not arrive.

    Beam's local rename can fail without a word when a folder is missing, so
    folders are made first and every file is checked after.
    """
    finals = [join(output_dir, s.relative_path) for s in staged]
    for final in finals:
        _ensure_dir(posixpath.dirname(final))
    if staged:
        FileSystems.rename([s.staged_path for s in staged], finals)
    missing = [f for f in finals if not FileSystems.exists(f)]
    if missing:
        raise IOError(f"publish lost {len(missing)} file(s), e.g. {missing[0]}")


def _file_entries(staged: list[StagedFile]) -> list[dict]:
    return [{"path": s.relative_path, "rows": s.rows, "kind": s.kind} for s in staged]


def _dead_letters_by_reason(staged: list[StagedFile]) -> collections.Counter:
    by_reason: collections.Counter = collections.Counter()
    for s in staged:
        by_reason.update(dict(s.reasons))
    return by_reason


def _add_counts(previous: dict, key: str, value: int) -> int:
    return int(previous.get(key, 0)) + value


def publish(
    staged: list[StagedFile],
    output_dir: str,
    run_id: str,
    records_read: int,
    append: Optional[AppendRound] = None,
    emitted_state: Iterable[tuple] = (),
) -> dict:
    """Move staged files into place, drop stale ones (replace mode), write the manifest.

    Raises if any file fails to arrive: a run never reports rows it lost.
    Ctrl-C waits until the step is done (files, state and manifest agree).
    """
    with _interrupts_deferred():
        return _publish(staged, output_dir, run_id, records_read, append, emitted_state)


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold SIGINT/SIGTERM until the block ends, then deliver them (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in received:
            signal.raise_signal(signum)


def _publish(staged, output_dir, run_id, records_read, append, emitted_state) -> dict:
    staged = sorted(staged, key=lambda s: s.relative_path)
    previous = append.previous_manifest if append else {}
    if not any(s.kind == "dead_letters" for s in staged) and not previous.get("files"):
        staged.append(_stage_empty_dead_letters(output_dir, run_id))
    _move_into_place(staged, output_dir)

    if append is None:
        keep = {join(output_dir, s.relative_path) for s in staged}
        stale = [path for path in _existing_outputs(output_dir) if path not in keep]
        if stale:
            FileSystems.delete(stale)
        _remove_state(output_dir)
        _remove_report(output_dir)
        _remove_empty_local_dirs(output_dir)
    else:
        state_files = _stage_state(output_dir, run_id, append, emitted_state)
        _ensure_dir(join(output_dir, STATE_DIR))
        FileSystems.rename([staged_path for staged_path, _ in state_files], [final for _, final in state_files])

    rows_written = sum(s.rows for s in staged if s.kind == "articles")
    dead_total = sum(s.rows for s in staged if s.kind == "dead_letters")
    by_reason = collections.Counter(previous.get("dead_letters_by_reason", {}))
    by_reason.update(_dead_letters_by_reason(staged))
    totals = {
        "records_read": _add_counts(previous, "records_read", records_read),
        "rows_written": _add_counts(previous, "rows_written", rows_written),
        "dead_letters": _add_counts(previous, "dead_letters", dead_total),
    }
    files = list(previous.get("files", [])) + _file_entries(staged)
    manifest = {
        "run_id": run_id,
        "mode": "append" if append else "replace",
        "published_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        **totals,
        "dead_letters_by_reason": dict(sorted(by_reason.items())),
        "conserved": totals["records_read"] == totals["rows_written"] + totals["dead_letters"],
        "files": files,
    }
    if append:
        manifest["round_tag"] = append.round_tag
        manifest["rounds"] = int(previous.get("rounds", 0)) + 1
        manifest["last_round"] = {
            "records_read": records_read, "rows_written": rows_written, "dead_letters": dead_total,
        }
    _write_json(output_dir, run_id, MANIFEST_NAME, manifest)
    cleanup_staging(output_dir, run_id)
    return manifest


def _remove_report(output_dir: str) -> None:
    """A replacing run's data is new: the page `newsbeam report` made of the earlier run would
    describe files that are gone, under the same address."""
    leftovers = [m.path for r in FileSystems.match([join(output_dir, REPORT_DIR, "*")]) for m in r.metadata_list]
    if leftovers:
        FileSystems.delete(leftovers)


def _remove_state(output_dir: str) -> None:
    """A replacing run starts the dataset afresh: state of earlier rounds no longer applies."""
    leftovers = [m.path for r in FileSystems.match([join(output_dir, STATE_DIR, "*.pickle")]) for m in r.metadata_list]
    if leftovers:
        FileSystems.delete(leftovers)


def _write_json(output_dir: str, staging_id: str, relative: str, content: dict) -> None:
    """Write a small JSON file atomically: staged, then renamed into place."""
    temporary = join(staging_dir(output_dir, staging_id), posixpath.basename(relative))
    _ensure_dir(posixpath.dirname(temporary))
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(json.dumps(content, indent=2).encode("utf-8"))
    final = join(output_dir, relative)
    _ensure_dir(posixpath.dirname(final))
    FileSystems.rename([temporary], [final])


def _window_name(window, pane=None) -> str:
    start = _window_start(window)
    return start if pane is None else f"{start}-{pane.index}"


class _PublishWindowFn(beam.DoFn):
    """One window pane's staged files into place, then its manifest (unbounded runs)."""

    def __init__(self, output_dir: str, staging_id: str):
        self._output_dir = output_dir
        self._staging_id = staging_id
        self._published = Metrics.counter(METRICS_NAMESPACE, "windows_published")

    def process(self, staged: list, window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        import uuid

        staged = sorted(staged, key=lambda s: s.relative_path)
        with _interrupts_deferred():
            _move_into_place(staged, self._output_dir)
            manifest = {
                "window": [_iso(window.start), _iso(window.end)],
                "pane": pane.index if pane is not None else 0,
                "published_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "rows_written": sum(s.rows for s in staged if s.kind == "articles"),
                "dead_letters": sum(s.rows for s in staged if s.kind == "dead_letters"),
                "dead_letters_by_reason": dict(sorted(_dead_letters_by_reason(staged).items())),
                "files": _file_entries(staged),
            }
            name = f"{WINDOWS_DIR}/{_window_name(window, pane)}-{uuid.uuid4().hex[:8]}.json"
            _write_json(self._output_dir, self._staging_id, name, manifest)
        self._published.inc()
        yield manifest


class _RecordReadCountFn(beam.DoFn):
    """Records read in one landing window, as `_windows/<start>-read-<id>.json`."""

    def __init__(self, output_dir: str, staging_id: str):
        self._output_dir = output_dir
        self._staging_id = staging_id

    def process(self, count: int, window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        import uuid

        name = f"{WINDOWS_DIR}/{_window_name(window)}-read-{uuid.uuid4().hex[:8]}.json"
        _write_json(self._output_dir, self._staging_id, name, {"window": [_iso(window.start), _iso(window.end)], "records_read": count})
        yield count


def _iso(timestamp) -> str:
    return dt.datetime.fromtimestamp(float(timestamp), dt.timezone.utc).isoformat()


def windowed_manifest(output_dir: str) -> Optional[dict]:
    """The totals of an unbounded run's window manifests, shaped like `_run.json` (None if there are none)."""
    paths = [m.path for r in FileSystems.match([join(output_dir, WINDOWS_DIR, "*.json")]) for m in r.metadata_list]
    if not paths:
        return None
    totals = {"records_read": 0, "rows_written": 0, "dead_letters": 0}
    by_reason: collections.Counter = collections.Counter()
    files: list = []
    windows = 0
    for path in sorted(paths):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            content = json.loads(handle.read().decode("utf-8"))
        if "records_read" in content:
            totals["records_read"] += content["records_read"]
            continue
        windows += 1
        totals["rows_written"] += content["rows_written"]
        totals["dead_letters"] += content["dead_letters"]
        by_reason.update(content["dead_letters_by_reason"])
        files.extend(content["files"])
    return {"mode": "windows", "windows": windows, **totals, "dead_letters_by_reason": dict(by_reason), "files": files}


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
      state (append mode only, optional): PCollection[(name, key, value)], state
        entries for the next round
    Returns a PCollection with the one published manifest (a dict).
    """

    def __init__(
        self,
        output_dir: str,
        run_id: str,
        config: OutputConfig | None = None,
        append: Optional[AppendRound] = None,
    ):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._config = config or OutputConfig()
        self._append = append

    def _is_unbounded(self, inputs) -> bool:
        return any(not pcoll.is_bounded for pcoll in inputs.values())

    def expand(self, inputs):
        if self._is_unbounded(inputs):
            if self._append is not None:
                raise ValueError("WriteParquet: append rounds are bounded; unbounded input is written in windows")
            return self._expand_windowed(inputs)
        file_prefix = f"part-{self._append.round_tag}-" if self._append else "part-"
        staged = self._stage(inputs["articles"], inputs["dead_letters"], file_prefix)
        state = inputs.get("state")
        if state is None:
            state = inputs["articles"].pipeline | "NoState" >> beam.Create([])
        output_dir, run_id, append = self._output_dir, self._run_id, self._append
        return (
            staged
            | "CollectStaged" >> beam.combiners.ToList()
            | "Publish"
            >> beam.Map(
                lambda staged, read, emitted: publish(staged, output_dir, run_id, read, append, emitted),
                read=beam.pvalue.AsSingleton(inputs["records_read"]),
                emitted=beam.pvalue.AsList(state),
            )
        )

    def _stage(self, articles, dead_letters, file_prefix: Optional[str]):
        """Both kinds of rows, grouped by partition and staged: PCollection[StagedFile].

        `file_prefix` None names files after their window and pane (unbounded runs).
        """
        stage_root = staging_dir(self._output_dir, self._run_id)
        staged_articles = (
            articles
            | "KeyByPartition"
            >> beam.Map(lambda a: (partition_path(a.event_id, a.date_partition), a)).with_output_types(
                tuple[str, Article]
            )
            | "GroupPartitions" >> beam.GroupByKey()
            | "StagePartitions" >> beam.ParDo(_StageFolderFn(stage_root, self._config, _ARTICLE_ROWS, file_prefix))
        )
        staged_dead = (
            dead_letters
            | "KeyDeadLetters" >> beam.Map(lambda d: (DEAD_LETTER_DIR, d)).with_output_types(tuple[str, DeadLetter])
            | "GroupDeadLetters" >> beam.GroupByKey()
            | "StageDeadLetters"
            >> beam.ParDo(_StageFolderFn(stage_root, self._config, _DEAD_LETTER_ROWS, file_prefix))
        )
        return (staged_articles, staged_dead) | "AllStagedFiles" >> beam.Flatten()

    def _expand_windowed(self, inputs):
        """Unbounded input: fixed landing-time windows, each pane published on its own.

        `records_read` is then the stream of records read (any elements), counted
        per window, not one number.
        """
        config = self._config
        windowing = dict(
            trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
            accumulation_mode=trigger.AccumulationMode.DISCARDING,
            allowed_lateness=config.allowed_lateness_s,
        )

        def landed(label, pcoll):
            return (
                pcoll
                | f"{label}LandingTime" >> beam.Map(_at_landing_time)
                | f"{label}Windows" >> beam.WindowInto(window.FixedWindows(config.window_s), **windowing)
            )

        _ = (
            landed("Records", inputs["records_read"])
            | "CountRecordsPerWindow" >> beam.CombineGlobally(beam.combiners.CountCombineFn()).without_defaults()
            | "RecordReadCount" >> beam.ParDo(_RecordReadCountFn(self._output_dir, self._run_id))
        )
        return (
            self._stage(landed("Articles", inputs["articles"]), landed("DeadLetters", inputs["dead_letters"]), None)
            | "CollectStagedPerWindow" >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()
            | "PublishWindow" >> beam.ParDo(_PublishWindowFn(self._output_dir, self._run_id))
        )


def _at_landing_time(element):
    """The element stamped with the time it reached the writer."""
    import time

    return window.TimestampedValue(element, time.time())
