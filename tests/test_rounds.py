"""`newsbeam run --streaming` on the local runner: bounded rounds with state carried
in the output folder (pipeline/rounds.py), run as the real command against a real
HTTP server on 127.0.0.1 and a watched folder."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time
from typing import Optional

import duckdb
import pytest
import yaml

from pipeline.counts import check_output
from tests.conftest import FIXTURES, NEWSBEAM, SEEDS_DIR, SHARED, require_shared
from tests.feed_server import FeedServer
from transforms.write_parquet import read_manifest


@pytest.fixture(scope="module")
def server():
    feed_server = FeedServer().start()
    yield feed_server
    feed_server.stop()


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test():
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


class RunningNewsbeam:
    """`newsbeam run ...` in the background, its stderr collected line by line."""

    def __init__(self, *args: str, own_process_group: bool = False):
        # own_process_group: as a terminal runs a command, so that stop() reaches every
        # process of the run (Beam's worker processes too), not the command alone.
        self.process = subprocess.Popen(
            [NEWSBEAM, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=own_process_group,
        )
        self._own_process_group = own_process_group
        _STARTED.append(self.process)
        self.lines: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stderr, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stdout, self._stdout), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    def _wait_until(self, done, what: str, timeout: float) -> None:
        deadline = time.time() + timeout
        while not done():
            if self.process.poll() is not None or time.time() > deadline:
                pytest.fail(f"newsbeam never {what}:\n{''.join(self.lines)[-4000:]}")
            time.sleep(0.1)

    def wait_for(self, text: str, timeout: float = 240) -> None:
        self._wait_until(lambda: any(text in line for line in self.lines), f"printed {text!r}", timeout)

    def wait_for_files_read(self, total: int, timeout: float = 240) -> None:
        """Until the rounds so far have read `total` new files, however the watcher split them."""
        def files_read() -> int:
            return sum(int(count) for line in self.lines for count in _NEW_FILES.findall(line))

        self._wait_until(lambda: files_read() >= total, f"read {total} files", timeout)

    def stop(self, signum: int = signal.SIGINT, run_only: bool = False) -> None:
        """Ctrl-C (or a service manager's SIGTERM): to the whole group when the run has its
        own, unless `run_only` (`kill PID`, `docker stop`: the command alone)."""
        if self._own_process_group and not run_only:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def finish(self, timeout: float = 240) -> tuple[int, str, str]:
        """Exit code, stdout and stderr; a process that does not end fails the test, not hangs it."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"newsbeam did not exit within {timeout:g} s:\n{''.join(self.lines)[-4000:]}")
        for reader in self._readers:
            reader.join(timeout=30)
        return self.process.returncode, "".join(self._stdout), "".join(self.lines)


_NEW_FILES = re.compile(r": (\d+) new file\(s\)")


def _drop_into(folder: pathlib.Path, source: pathlib.Path, name: Optional[str] = None) -> None:
    """Put a file into a watched folder whole: written beside it, then renamed in (atomic)."""
    staging = folder.parent / ".staging-copies"
    staging.mkdir(exist_ok=True)
    written = staging / (name or source.name)
    shutil.copy(source, written)
    os.replace(written, folder / written.name)


def _write_config(path: pathlib.Path, **sections) -> pathlib.Path:
    path.write_text(yaml.safe_dump(sections))
    return path


def _rows(output: pathlib.Path) -> list[dict]:
    relation = duckdb.sql(
        f"select title, outlet, article_id, dup_group_id, canonical_id, event_id, source_ref "
        f"from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning = true) order by title"
    )
    names = [column[0] for column in relation.description]
    return [dict(zip(names, row)) for row in relation.fetchall()]


def test_a_growing_feed_yields_each_item_once_across_rounds_and_restarts(server, tmp_path):
    config = _write_config(
        tmp_path / "config.yaml",
        feeds={"poll_interval_s": 1, "fetch_pages": False, "allowed_networks": ["127.0.0.0/8"]},
    )
    feed = server.url("/fault/growing.xml?key=rounds&start=3&step=2&window=50")
    output = tmp_path / "out"
    common = ("--streaming", "--feed", feed, "--output", str(output), "--config", str(config))

    code, stdout, stderr = RunningNewsbeam(*common, "--max-rounds", "3").finish()
    assert code == 0, stderr[-4000:]
    assert "conserved=yes" in stdout
    assert sorted(row["title"] for row in _rows(output)) == sorted(f"Story {i}" for i in range(7))

    # A restart continues from the state the last round published: only the new items.
    code, stdout, stderr = RunningNewsbeam(*common, "--max-rounds", "2").finish()
    assert code == 0, stderr[-4000:]
    titles = [row["title"] for row in _rows(output)]
    assert sorted(titles) == sorted(f"Story {i}" for i in range(11))  # each exactly once
    manifest = read_manifest(str(output))
    assert (manifest["mode"], manifest["rounds"], manifest["records_read"]) == ("append", 5, 11)
    assert check_output(str(output), manifest).conserved
    polls = [r for r in server.requests_to("/fault/growing.xml") if r.query.get("key") == "rounds"]
    assert len(polls) == 5
    assert sorted(p.name for p in (output / "_state").iterdir()) == ["events.pickle", "feeds.pickle", "files.pickle"]


def test_watched_folder_rounds_carry_copies_and_events_and_stop_cleanly_on_ctrl_c(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    seeds = sorted(SEEDS_DIR.glob("*.txt"))
    for seed in seeds[:2]:
        shutil.copy(seed, inbox)
    config = _write_config(tmp_path / "config.yaml", watch={"poll_interval_s": 1, "settle_s": 0})
    output = tmp_path / "out"
    run = RunningNewsbeam("--streaming", "--input", str(inbox / "*"), "--output", str(output), "--config", str(config))
    run.wait_for("round 1 ")
    # Later rounds bring the rest of the seeds and a reprint of seed 000 (read in round 1);
    # with a 1 s tick the watcher may see them over one round or several.
    for seed in seeds[2:]:
        _drop_into(inbox, seed)
    _drop_into(inbox, FIXTURES / "reprint" / "reprint_of_seed_000.jsonl")
    run.wait_for_files_read(len(seeds) + 1)
    # A later round reads the reprint again under another name: the same article, a repeat.
    time.sleep(1.5)
    _drop_into(inbox, FIXTURES / "reprint" / "reprint_of_seed_000.jsonl", "reprint_again.jsonl")
    run.wait_for_files_read(len(seeds) + 2)
    time.sleep(1.5)  # let a round with nothing new go by, then stop it as a user would
    run.stop()
    code, stdout, stderr = run.finish()

    assert code == 130, stderr[-4000:]
    assert "stopped after" in stderr, stderr[-3000:]
    assert not [p for p in output.iterdir() if p.name.startswith(".staging-")]
    manifest = read_manifest(str(output))
    counts = check_output(str(output), manifest)
    assert counts.conserved, counts.problems
    rows = _rows(output)
    assert len(rows) == len(seeds) + 1  # every file read exactly once
    # The seeds cover one event (issue 6), across the two rounds.
    assert len({row["event_id"] for row in rows}) == 1
    by_ref = {pathlib.Path(row["source_ref"].split(":")[0]).name: row for row in rows}
    original = by_ref[seeds[0].name]
    reprint = by_ref["reprint_of_seed_000.jsonl"]
    # The reprint (a later round) joins the copy group of the seed published in round 1.
    assert reprint["dup_group_id"] == original["dup_group_id"]
    assert reprint["canonical_id"] == original["article_id"]
    repeats = duckdb.sql(
        f"select reason, source_ref from read_parquet('{output}/_dead_letters/*.parquet')"
    ).fetchall()
    assert [(reason, pathlib.Path(ref).name) for reason, ref in repeats] == [
        ("duplicate_article", "reprint_again.jsonl:1")
    ]


def test_an_interrupted_round_publishes_nothing_and_is_done_again(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed in sorted(SEEDS_DIR.glob("*.txt")):
        shutil.copy(seed, inbox)
    config = _write_config(tmp_path / "config.yaml", watch={"poll_interval_s": 1, "settle_s": 0})
    output = tmp_path / "out"
    args = ("--streaming", "--input", str(inbox / "*"), "--output", str(output), "--config", str(config))
    run = RunningNewsbeam(*args)
    run.wait_for("streaming in rounds")
    time.sleep(2)  # inside round 1: the model is loading or the pipeline running
    run.stop()
    code, _, stderr = run.finish()
    assert code == 130, stderr[-4000:]
    assert not output.exists() or not [p for p in output.iterdir() if p.name.startswith(".staging-")]
    if "the round in progress was not published" in stderr:  # the usual case: nothing of it is visible
        assert "stopped after 0 round(s), in round 1;" in stderr, stderr[-4000:]
        assert not output.exists() or not list(output.glob("event_id=*/**/*.parquet"))
    else:  # the stop came during or after round 1's publish step, which holds it until done
        assert "between rounds" in stderr, stderr[-4000:]
        assert check_output(str(output), read_manifest(str(output))).conserved

    # Either way, the next start completes the work: every file once, counts conserved.
    published_before = (output / "_run.json").exists()
    code, stdout, stderr = RunningNewsbeam(*args, "--max-rounds", "1").finish()
    assert code == 0, stderr[-4000:]
    assert len(_rows(output)) == 5
    assert "conserved=yes" in stdout
    assert "newsbeam: 1 round(s) in " in stdout, stdout
    assert ("earlier runs' included" in stdout) == published_before, stdout

    # Stopped in its first round over an output that holds earlier rounds: the summary
    # counts the rounds this run finished (none) and says the totals include the earlier runs.
    shutil.copy(FIXTURES / "reprint" / "reprint_of_seed_000.jsonl", inbox / "late.jsonl")
    run = RunningNewsbeam(*args)
    run.wait_for("streaming in rounds")
    time.sleep(2)
    run.stop()
    code, stdout, stderr = run.finish()
    assert code == 130, stderr[-4000:]
    finished = re.search(r"stopped after (\d+) round\(s\)", stderr)
    assert finished, stderr[-4000:]
    assert f"newsbeam: {finished[1]} round(s) in " in stdout, stdout + stderr[-2000:]
    assert "earlier runs' included" in stdout, stdout


def test_max_rounds_is_refused_outside_local_streaming(tmp_path):
    result = subprocess.run(
        [NEWSBEAM, "run", "--max-rounds", "2", "--output", str(tmp_path / "out")], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--max-rounds is for --streaming" in result.stderr


def test_references_keep_each_clock_to_its_own_retention(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.rounds import load_references
    from transforms.schema import ARTICLE_SCHEMA, UTC, Article, article_to_row

    archive_day = dt.datetime(2025, 10, 31, tzinfo=UTC)
    today = dt.datetime(2026, 11, 23, tzinfo=UTC)

    def stored(article_id: str, published_at, ingested_at) -> Article:
        return Article(
            article_id=article_id, url=None, outlet=None, title=None, text="text", published_at=published_at,
            language="en", source_kind="text", source_ref=article_id, ingested_at=ingested_at,
        )

    rows = [
        # An archive of last year read today, with undated articles read today beside it.
        stored("archive-newest", archive_day, today),
        stored("archive-within", archive_day - dt.timedelta(days=6), today),
        stored("archive-too-old", archive_day - dt.timedelta(days=8), today),
        stored("undated-today", None, today),
        stored("undated-too-old", None, today - dt.timedelta(days=8)),
    ]
    folder = tmp_path / "event_id=ev-1" / "date=2025-10-31"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([article_to_row(r) for r in rows], schema=ARTICLE_SCHEMA), folder / "p.parquet")
    kept = {a.article_id for a in load_references(str(tmp_path), retention_days=7)}
    assert kept == {"archive-newest", "archive-within", "undated-today"}


def test_a_sampling_thread_left_by_an_interrupted_bundle_start_is_stopped():
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils.counters import CounterFactory

    from pipeline.runners import stop_interrupted_state_sampler

    sampler = statesampler.StateSampler("interrupted", CounterFactory())
    # Where StateSampler.start() is when Ctrl-C lands in its Thread.start(): the tracker is
    # set and the sampling thread runs, but the sampler is not yet marked started.
    before = set(threading.enumerate())
    statesampler.set_current_tracker(sampler)
    statesampler.statesampler_impl.StateSampler.start(sampler)
    (sampling_thread,) = set(threading.enumerate()) - before
    sampler.stop_if_still_running()  # the bundle's own cleanup: does nothing here
    assert sampling_thread.is_alive() and not sampling_thread.daemon  # would hold the exit forever

    assert stop_interrupted_state_sampler()
    sampling_thread.join(timeout=10)
    assert not sampling_thread.is_alive()
    assert statesampler.get_current_tracker() is None
    assert not stop_interrupted_state_sampler()  # nothing left to stop


def test_ctrl_c_in_a_batch_run_stops_it_in_one_line_with_nothing_published(tmp_path):
    reprints = require_shared(SHARED / "data" / "reprints" / "reprints.dev.jsonl.gz")  # a run of minutes
    output = tmp_path / "out"
    run = RunningNewsbeam("--input", str(reprints), "--output", str(output))
    run.wait_for("newsbeam: run ")
    time.sleep(5)  # building the graph or running it
    run.stop()
    code, stdout, stderr = run.finish()

    assert code == 130, stderr[-4000:]
    assert "newsbeam: interrupted; nothing of this run was published" in stderr
    # Beam's own report of the interrupted step (an ERROR and its traceback) is not shown.
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-4000:]
    assert "counts:" not in stdout
    assert not output.exists() or not list(output.glob("event_id=*/**/*.parquet"))
    assert not output.exists() or not [p for p in output.iterdir() if p.name.startswith(".staging-")]


@pytest.mark.parametrize(
    "signum, run_only",
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl_c", "sigterm", "sigterm_to_the_run_only"],
)
def test_stopping_a_multi_process_run_stops_its_workers_quietly(tmp_path, signum, run_only):
    """A terminal's Ctrl-C (a service manager's SIGTERM) reaches Beam's worker processes
    too; each used to print the traceback of its own KeyboardInterrupt, or to die before
    the run saw the signal, which then reported the broken streams
    (pipeline/worker_process.py, runners.stop_requested). A signal to the run alone
    reaches them through the run (runners.forward_to_workers); before, they shut down
    under a bundle thread inside BLIS, and some printed "libblis: Aborting."."""
    reprints = require_shared(SHARED / "data" / "reprints" / "reprints.dev.jsonl.gz")
    output = tmp_path / "out"
    run = RunningNewsbeam(
        "--input", str(reprints), "--output", str(output),
        "--direct_num_workers", "2", "--direct_running_mode", "multi_processing",
        own_process_group=True,
    )
    run.wait_for("Load pipeline options from file")  # a worker is up
    time.sleep(5)
    run.stop(signum, run_only=run_only)
    code, stdout, stderr = run.finish()

    assert code == 130, stderr[-4000:]
    assert "newsbeam: interrupted; nothing of this run was published" in stderr
    for noise in ("Traceback", "KeyboardInterrupt", "Aborting", "exited with return code", "ERROR"):
        assert noise not in stderr, stderr[-4000:]
    assert "counts:" not in stdout
    assert not output.exists() or not list(output.glob("event_id=*/**/*.parquet"))
    _assert_group_ends(run.process.pid)


def _assert_group_ends(group: int, timeout: float = 30) -> None:
    """No process of the run's group (its workers) outlives it."""
    deadline = time.time() + timeout
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        if time.time() > deadline:
            os.killpg(group, signal.SIGKILL)
            pytest.fail("a worker process outlived the stopped run")
        time.sleep(0.2)


def test_after_a_requested_stop_only_beams_reports_of_it_are_dropped(monkeypatch):
    import logging

    from pipeline import runners

    def record(logger: str, level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord(logger, level, __file__, 1, message, None, None)

    beam_error = record("apache_beam.runners.common", logging.ERROR, "KeyboardInterrupt [while running 'Tag']")
    grpc_error = record("apache_beam.runners.worker.data_plane", logging.ERROR, "Failed to read inputs")
    beam_warning = record("apache_beam.io.filesystem", logging.WARNING, "slow listing")
    own_error = record("pipeline.cli", logging.ERROR, "the output is not writable")
    quiet = runners.WithoutInterruptTracebacks()
    assert all(quiet.filter(r) for r in (beam_error, grpc_error, beam_warning, own_error))  # before any stop
    monkeypatch.setattr(runners, "_STOP_SIGNALS", [signal.SIGINT])
    assert not quiet.filter(beam_error) and not quiet.filter(grpc_error)
    assert quiet.filter(beam_warning) and quiet.filter(own_error)
