"""Progress of a local run on a terminal: sources, records, articles tagged and done, dead letters.

The in-process runner executes every DoFn in the launcher's own process, so
the graph's progress taps update one process-wide tally and a background thread
redraws a single status line on stderr. Nothing is drawn when stderr is not a
terminal (logs, CI), and on other runners the taps run on remote workers and
the launcher simply shows nothing: the final counts line is always printed.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

import apache_beam as beam


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sources: set[str] = set()
        self.records = 0
        self.tagged = 0
        self.rows_staged = 0
        self.dead_letters = 0

    def reset(self) -> None:
        with self.lock:
            self.sources.clear()
            self.records = self.tagged = self.rows_staged = self.dead_letters = 0


TALLY = _Tally()


def _source_of(source_ref: str) -> str:
    """The file or feed a record came from (JSONL refs carry ':LINE')."""
    head, _, tail = source_ref.rpartition(":")
    return head if tail.isdigit() and head else source_ref


def note_record(record):
    with TALLY.lock:
        TALLY.records += 1
        TALLY.sources.add(_source_of(record.source_ref))
    return record


def note_dead_letter(letter):
    with TALLY.lock:
        TALLY.dead_letters += 1
    return letter


def note_article_tagged(article):
    with TALLY.lock:
        TALLY.tagged += 1
    return article


def note_article_done(article):
    with TALLY.lock:
        TALLY.rows_staged += 1
    return article


class TapRecordsRead(beam.PTransform):
    """Counts records as they are read, passing them through unchanged."""

    def expand(self, records):
        return records | "NoteRecord" >> beam.Map(note_record)


class TapDeadLetters(beam.PTransform):
    def expand(self, letters):
        return letters | "NoteDeadLetter" >> beam.Map(note_dead_letter)


class TapArticlesTagged(beam.PTransform):
    """Counts articles as NER finishes them.

    NER is most of a run's time, and every article reaches the writer only after
    the groupings that follow it (the cross-article merge map, the events' sort),
    so without this count the line would stand still until the very end.
    """

    def expand(self, articles):
        return articles | "NoteArticleTagged" >> beam.Map(note_article_tagged)


class TapArticlesDone(beam.PTransform):
    """Counts articles that passed every stage and go to the writer."""

    def expand(self, articles):
        return articles | "NoteArticleDone" >> beam.Map(note_article_done)


class ProgressLine:
    """Redraws one status line until stopped; silent unless `stream` is a TTY."""

    def __init__(self, total_sources: int | None, stream: TextIO = sys.stderr, interval: float = 0.5):
        self._total = total_sources
        self._stream = stream
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    @property
    def enabled(self) -> bool:
        return hasattr(self._stream, "isatty") and self._stream.isatty()

    def render(self) -> str:
        with TALLY.lock:
            sources, records, tagged = len(TALLY.sources), TALLY.records, TALLY.tagged
            rows, dead = TALLY.rows_staged, TALLY.dead_letters
        total = f"/{self._total}" if self._total else ""
        return (
            f"newsbeam: {time.monotonic() - self._started:6.1f} s · sources {sources}{total} · "
            f"records {records} · tagged {tagged} · articles done {rows} · dead letters {dead}"
        )

    def __enter__(self) -> "ProgressLine":
        TALLY.reset()
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="newsbeam-progress", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._stream.write("\r\033[K" + self.render())
            self._stream.flush()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._stream.write("\r\033[K" + self.render() + "\n")
            self._stream.flush()
