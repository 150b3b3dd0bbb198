"""Progress shows on a terminal and stays out of logs."""

from __future__ import annotations

import io
import time

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.progress import TALLY, ProgressLine, TapArticlesDone, TapArticlesTagged, TapRecordsRead
from tests.conftest import BATCH_RUNNER, SEEDS_DIR
from transforms.dead_letters import make_dead_letter


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_taps():
    letters = [make_dead_letter("read.jsonl", "invalid_json", "bad", f"dump.jsonl:{i}", "{") for i in range(3)]
    with TestPipeline(runner=BATCH_RUNNER) as p:
        records = p | beam.Create(letters)
        records | "Read" >> TapRecordsRead()
        records | "Tagged" >> TapArticlesTagged()
        records | "Done" >> TapArticlesDone()


def test_progress_is_drawn_on_a_terminal():
    terminal = FakeTerminal()
    with ProgressLine(total_sources=4, stream=terminal, interval=0.01):
        _run_taps()
        time.sleep(0.05)
    screen = terminal.getvalue()
    assert "\r" in screen
    last = screen.rsplit("\r", 1)[-1]
    assert "sources 1/4" in last and "records 3" in last and "tagged 3" in last and "articles done 3" in last


def test_progress_is_silent_when_not_a_terminal():
    log = io.StringIO()
    with ProgressLine(total_sources=4, stream=log, interval=0.01):
        _run_taps()
        time.sleep(0.05)
    assert log.getvalue() == ""
    assert TALLY.records == 3  # the taps still counted


def test_a_real_run_counts_every_stage(tmp_path, capsys, monkeypatch):
    """The CLI's graph carries the taps: after a run on the seeds the tally holds all five."""
    from pipeline import runners
    from pipeline.cli import run_command

    # The CLI's stop-signal set-up is process-wide (handlers, a wakeup pipe that remembers any later
    # SIGINT): in the test process it would outlive this test and turn another test's Ctrl-C into a
    # "stop requested" for the rest of the session.
    monkeypatch.setattr(runners, "interrupt_on_stop_signals", lambda: None)

    code = run_command(["--input", str(SEEDS_DIR / "*.txt"), "--output", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert (TALLY.records, TALLY.tagged, TALLY.rows_staged, TALLY.dead_letters) == (5, 5, 5, 0)
    assert len(TALLY.sources) == 5
