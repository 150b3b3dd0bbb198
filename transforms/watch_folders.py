"""WatchFolders: new dump files in input folders, for streaming runs.

    ticks -> PatternsAtTick -> NewFiles (state per pattern) -> FileMetadata

Why not `fileio.MatchContinuously`: without `timestamp_cursor` its
deduplication state keeps every path it ever matched (it grows forever); with
it, a file whose modification time is older than the newest one already seen
is skipped, and dumps moved or copied in with their original times (`mv`,
`cp -p`, `rsync -a`) are exactly that: they would be lost without a trace.

The rule here instead, per glob pattern (state keyed by pattern):
- every tick lists the pattern with Beam's FileSystems (local, gs://, s3://;
  `**/` also matching no folder, see `transforms.read_files.globstar_variants`);
- a file is emitted once its size and modification time have not changed for
  `settle_s` seconds (a dump still being written is not read half-way); names
  starting with "." or ending in ".tmp", ".part", ".partial", ".crdownload"
  are in-progress files by convention and are never emitted;
- a path is emitted once: later ticks that list it again emit nothing, even if
  it changes (dumps are append-by-new-file; rewrite one under a new name to
  have it read again);
- the state holds only the paths the latest listing returned: a file that
  leaves the folder is forgotten (so the state is bounded by what the folder
  holds now, not by its history), and if the same path appears again later it
  is a new file and is emitted again.
A listing that fails (a folder not there yet, a permission error) emits
nothing, keeps the state, and is counted (`newsbeam/watch.listing_errors`).

Composing with the file reader (`ReadFileDumps(..., watch=WatchConfig())`, which
`newsbeam run --streaming` uses on a streaming runner):

    files = p | "WatchInputs" >> WatchFolders(["dumps/**"], WatchConfig())
    readable = files | "OpenFiles" >> fileio.ReadMatches(skip_directories=True)
    parsed = readable | "ParseRecords" >> beam.ParDo(ParseDumpFileFn(read_config, ingested_at)).with_outputs(
        DEAD_LETTER_TAG, main="articles")

that is, `ReadFileDumps` with its Create + MatchAll + dedup-by-path front
replaced by WatchFolders (which already emits each path once).

The tick source is a `PeriodicImpulse` rebased to the start of the run;
`WatchFoldersAtTicks` takes any tick PCollection (tests use a TestStream).

Command lines:
    newsbeam run --streaming --input 'dumps/**' --output out/
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.io.filesystem import FileMetadata
from apache_beam.metrics import Metrics
from apache_beam.transforms.periodicsequence import PeriodicImpulse, RebaseMode
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from transforms.dead_letters import METRICS_NAMESPACE
from transforms.read_files import match_pattern

_LOGGER = logging.getLogger(__name__)
IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


class WatchConfig(BaseModel):
    """How input folders are watched in streaming runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_interval_s: float = Field(30.0, gt=0, description="Seconds between two listings of each input pattern.")
    settle_s: float = Field(
        5.0, ge=0, description="A file is read once its size and modification time have not changed for this long."
    )
    run_for_s: Optional[float] = Field(None, gt=0, description="Stop watching after this many seconds (default: never).")


@dataclass(frozen=True)
class _Seen:
    size: int
    mtime: float
    emitted: bool


def is_in_progress_name(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES)


def new_files(
    listing: Sequence[FileMetadata],
    seen: dict[str, _Seen],
    *,
    now: float,
    settle_s: float,
) -> tuple[list[FileMetadata], dict[str, _Seen]]:
    """(files to emit now, the next state) for one listing of one pattern."""
    emit, next_seen = [], {}
    for metadata in listing:
        path = metadata.path
        if path.endswith("/") or is_in_progress_name(path):
            continue
        size, mtime = metadata.size_in_bytes, metadata.last_updated_in_seconds or 0.0
        before = seen.get(path)
        if before is not None and before.emitted:
            if (before.size, before.mtime) != (size, mtime):
                # Said once per change: a dump that grows after it was read (lines appended
                # to a JSONL file) would otherwise lose the new part without a word.
                _LOGGER.warning(
                    "%s changed after it was read; watched files are read once, so what was added is "
                    "not read: write new records to a new file (or rewrite this one under a new name)",
                    path,
                )
                before = _Seen(size, mtime, True)
            next_seen[path] = before
            continue
        unchanged = before is not None and (before.size, before.mtime) == (size, mtime)
        settled = now - mtime >= settle_s and (unchanged or settle_s == 0 or before is None)
        next_seen[path] = _Seen(size, mtime, settled)
        if settled:
            emit.append(metadata)
    return emit, next_seen


class NewFilesFn(beam.DoFn):
    """Lists one pattern per tick; state: the paths of its latest listing."""

    SEEN = ReadModifyWriteStateSpec("seen_files", PickleCoder())

    def __init__(self, settle_s: float):
        self.settle_s = settle_s
        self.listing_errors = Metrics.counter(METRICS_NAMESPACE, "watch.listing_errors")
        self.files_emitted = Metrics.counter(METRICS_NAMESPACE, "watch.files_emitted")

    def process(self, element, seen_state=beam.DoFn.StateParam(SEEN)):
        pattern, _tick = element
        try:
            listing = match_pattern(pattern)
        except Exception as error:  # any filesystem's failure: keep state, try at the next tick
            self.listing_errors.inc()
            _LOGGER.warning("cannot list %s: %s", pattern, error)
            return
        emit, seen = new_files(listing, seen_state.read() or {}, now=time.time(), settle_s=self.settle_s)
        seen_state.write(seen)
        self.files_emitted.inc(len(emit))
        yield from emit


def _patterns_at_tick(tick: Union[float, Timestamp], patterns: Sequence[str]):
    return [(pattern, float(tick)) for pattern in patterns]


class WatchFoldersAtTicks(beam.PTransform):
    """PCollection of ticks -> FileMetadata of files new since the last tick."""

    def __init__(self, patterns: Sequence[str], config: Optional[WatchConfig] = None):
        super().__init__()
        self.patterns = list(patterns)
        self.config = config or WatchConfig()

    def expand(self, ticks):
        return (
            ticks
            | "PatternsAtTick" >> beam.FlatMap(_patterns_at_tick, self.patterns).with_output_types(tuple[str, float])
            | "NewFiles"
            >> beam.ParDo(NewFilesFn(self.config.settle_s))
            .with_input_types(tuple[str, float])
            .with_output_types(FileMetadata)
        )


class WatchFolders(beam.PTransform):
    """Glob patterns -> FileMetadata of each new, settled file, polled forever."""

    def __init__(self, patterns: Sequence[str], config: Optional[WatchConfig] = None):
        super().__init__()
        if isinstance(patterns, str) or not patterns:
            raise ValueError("WatchFolders needs a non-empty list of glob patterns")
        self.patterns = list(patterns)
        self.config = config or WatchConfig()

    def expand(self, pbegin):
        if self.config.run_for_s is None:
            ticks = pbegin | "ListingTicks" >> PeriodicImpulse(
                fire_interval=self.config.poll_interval_s, rebase=RebaseMode.REBASE_START
            )
        else:
            ticks = pbegin | "ListingTicks" >> PeriodicImpulse(
                start_timestamp=Timestamp(0),
                stop_timestamp=Timestamp(self.config.run_for_s),
                fire_interval=self.config.poll_interval_s,
                rebase=RebaseMode.REBASE_ALL,
            )
        return ticks | "WatchAtTicks" >> WatchFoldersAtTicks(self.patterns, self.config)
