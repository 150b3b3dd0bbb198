"""Watching input folders for new dump files: the pure rule, then the stateful step."""

from __future__ import annotations

import datetime as dt
import os
import time

import apache_beam as beam
import pytest
from apache_beam.io.filesystem import FileMetadata
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import BATCH_RUNNER, STREAMING_RUNNER
from transforms.read_files import ReadFileDumps
from transforms.watch_folders import WatchConfig, WatchFolders, WatchFoldersAtTicks, is_in_progress_name, new_files


def listing(*files: tuple[str, int, float]) -> list[FileMetadata]:
    return [FileMetadata(path, size, mtime) for path, size, mtime in files]


def test_a_settled_file_is_emitted_once():
    emit, seen = new_files(listing(("/d/a.jsonl", 10, 100.0)), {}, now=200.0, settle_s=5)
    assert [m.path for m in emit] == ["/d/a.jsonl"]
    emit, seen = new_files(listing(("/d/a.jsonl", 10, 100.0)), seen, now=300.0, settle_s=5)
    assert emit == []
    emit, _ = new_files(listing(("/d/a.jsonl", 99, 250.0)), seen, now=400.0, settle_s=5)
    assert emit == []  # emitted paths are not read again, even if rewritten


def test_a_read_file_that_changes_is_named_once_per_change(caplog):
    _, seen = new_files(listing(("/d/a.jsonl", 10, 100.0)), {}, now=200.0, settle_s=5)
    with caplog.at_level("WARNING", logger="transforms.watch_folders"):
        emit, seen = new_files(listing(("/d/a.jsonl", 30, 250.0)), seen, now=300.0, settle_s=5)
        emit_again, _ = new_files(listing(("/d/a.jsonl", 30, 250.0)), seen, now=400.0, settle_s=5)
    assert emit == [] and emit_again == []
    changed = [record.getMessage() for record in caplog.records if "changed after it was read" in record.getMessage()]
    assert len(changed) == 1 and changed[0].startswith("/d/a.jsonl changed")


def test_a_file_being_written_waits_until_it_settles():
    emit, seen = new_files(listing(("/d/b.jsonl", 10, 199.0)), {}, now=200.0, settle_s=5)
    assert emit == []
    emit, seen = new_files(listing(("/d/b.jsonl", 20, 203.0)), seen, now=204.0, settle_s=5)
    assert emit == []  # still growing
    emit, seen = new_files(listing(("/d/b.jsonl", 20, 203.0)), seen, now=210.0, settle_s=5)
    assert [m.path for m in emit] == ["/d/b.jsonl"]


def test_an_old_file_moved_in_is_not_skipped():
    """MatchContinuously's timestamp cursor would skip it: its mtime is older than what was seen."""
    _, seen = new_files(listing(("/d/new.jsonl", 1, 1000.0)), {}, now=2000.0, settle_s=5)
    emit, _ = new_files(listing(("/d/new.jsonl", 1, 1000.0), ("/d/old.jsonl", 1, 10.0)), seen, now=2100.0, settle_s=5)
    assert [m.path for m in emit] == ["/d/old.jsonl"]


def test_state_holds_only_the_current_listing():
    _, seen = new_files(listing(("/d/a", 1, 1.0), ("/d/b", 1, 1.0)), {}, now=100.0, settle_s=0)
    emit, seen = new_files(listing(("/d/b", 1, 1.0)), seen, now=101.0, settle_s=0)
    assert emit == [] and set(seen) == {"/d/b"}  # /d/a left the folder and is forgotten
    emit, _ = new_files(listing(("/d/a", 1, 1.0), ("/d/b", 1, 1.0)), seen, now=102.0, settle_s=0)
    assert [m.path for m in emit] == ["/d/a"]  # back again: a new file


@pytest.mark.parametrize("name, in_progress", [(".hidden.jsonl", True), ("a.jsonl.tmp", True), ("a.part", True), ("a.jsonl", False), ("a.html.gz", False)])
def test_in_progress_names(name, in_progress):
    assert is_in_progress_name(f"/dumps/{name}") is in_progress


def test_watch_config_rejects_unknown_keys():
    with pytest.raises(ValueError):
        WatchConfig(poll_interval_s=1, interval=2)
    assert WatchConfig().settle_s == 5.0
    with pytest.raises(ValueError):
        WatchFolders([])


def test_new_dump_files_are_emitted_once_across_ticks(tmp_path):
    """Files appear between ticks (written by the test while the pipeline runs)."""
    old = tmp_path / "first.jsonl"
    old.write_text('{"text": "x"}\n')
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    (tmp_path / ".partial.jsonl").write_text("in progress")

    class AddFileAtTick(beam.DoFn):
        """Drops a new dump into the folder when tick 1 passes (before tick 2 lists it)."""

        def process(self, tick):
            if tick == 1.0:
                newer = tmp_path / "second.jsonl"
                newer.write_text('{"text": "y"}\n')
                os.utime(newer, (time.time() - 60, time.time() - 60))
            yield tick

    ticks = TestStream(coder=beam.coders.FloatCoder())
    for tick in (0.0, 1.0, 2.0, 3.0):
        ticks = ticks.add_elements([beam.window.TimestampedValue(tick, tick)]).advance_processing_time(1).advance_watermark_to(tick + 0.5)
    ticks = ticks.advance_watermark_to_infinity()
    config = WatchConfig(poll_interval_s=1, settle_s=5)
    with TestPipeline(runner=STREAMING_RUNNER, options=PipelineOptions(streaming=True)) as pipeline:
        files = pipeline | ticks | "AddFile" >> beam.ParDo(AddFileAtTick()) | WatchFoldersAtTicks([str(tmp_path / "*.jsonl")], config)
        assert_that(files | "Names" >> beam.Map(lambda m: os.path.basename(m.path)), equal_to(["first.jsonl", "second.jsonl"]))


def test_watched_files_are_stamped_when_read_not_at_launch(tmp_path):
    """An unbounded run lasts days: a watched file's records carry the time it
    was read. Runs the real ReadFileDumps(watch=...) with its PeriodicImpulse on
    the in-process portable runner with --streaming, bounded by run_for_s."""
    dump = tmp_path / "dump.jsonl"
    dump.write_text('{"text": "Kuala Lumpur, Oct 31: the framework was signed today."}\n')
    os.utime(dump, (time.time() - 60, time.time() - 60))
    launched = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # what a launch-time stamp would give
    started = time.time()
    config = WatchConfig(poll_interval_s=1, settle_s=0.5, run_for_s=2.5)
    with TestPipeline(runner=BATCH_RUNNER, options=PipelineOptions(streaming=True)) as pipeline:
        articles, dead_letters = pipeline | ReadFileDumps([str(tmp_path / "*.jsonl")], ingested_at=launched, watch=config)
        assert_that(
            articles | "ReadAfterStart" >> beam.Map(lambda a: a.ingested_at.timestamp() >= int(started)),
            equal_to([True]),
        )
        assert_that(dead_letters, equal_to([]), label="NoDeadLetters")
