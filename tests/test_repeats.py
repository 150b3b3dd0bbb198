"""DropRepeatedArticles: one row per article_id, every repeat a dead letter naming the record kept."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

import apache_beam as beam
from tests.conftest import BATCH_RUNNER, STREAMING_RUNNER, run_newsbeam
from tests.test_end_to_end import articles, counts_of
from transforms.repeats import REASON, STEP, DropRepeatedArticles
from transforms.schema import UTC, Article, kept_first, make_article_id

DAY = dt.datetime(2025, 10, 31, tzinfo=UTC)
URL = "https://wire.example/story"
TEXT = "The same story, word for word, read from two places."


def record(source_ref: str, published_at, text: str = TEXT, url: str = URL) -> Article:
    return Article(
        article_id=make_article_id(url, text),
        url=url,
        outlet="Wire",
        title="Story",
        text=text,
        published_at=published_at,
        language="en",
        source_kind="jsonl",
        source_ref=source_ref,
        ingested_at=DAY,
    )


def test_kept_first_prefers_the_earliest_published_then_the_smaller_source():
    undated = record("a.jsonl:1", None)
    late = record("a.jsonl:2", DAY + dt.timedelta(hours=2))
    early_b = record("b.jsonl:1", DAY)
    early_a = record("c.jsonl:1", DAY)
    assert sorted([undated, late, early_b, early_a], key=kept_first) == [early_b, early_a, late, undated]


def _refs(dead_letters) -> list[tuple[str, str, str]]:
    return sorted((d.step, d.reason, d.source_ref) for d in dead_letters)


def test_batch_keeps_one_record_per_id_whatever_the_delivery_order():
    repeats = [record("b.jsonl:7", DAY + dt.timedelta(hours=1)), record("a.jsonl:3", DAY), record("c.jsonl:1", None)]
    other = record("a.jsonl:4", DAY, text="A different story.")
    for delivered in (repeats + [other], [other] + repeats[::-1]):
        with TestPipeline(runner=BATCH_RUNNER) as pipeline:
            rows, dead = pipeline | beam.Create(delivered) | DropRepeatedArticles(retention_days=7)
            assert_that(
                rows | "Refs" >> beam.Map(lambda a: a.source_ref), equal_to(["a.jsonl:3", "a.jsonl:4"]), label="Rows"
            )

            def check(dead_letters):
                if _refs(dead_letters) != [(STEP, REASON, "b.jsonl:7"), (STEP, REASON, "c.jsonl:1")]:
                    raise BeamAssertException(f"unexpected dead letters {_refs(dead_letters)}")
                if not all("already read from a.jsonl:3" in d.detail and d.raw == TEXT for d in dead_letters):
                    raise BeamAssertException(f"detail should name the kept record: {dead_letters}")

            assert_that(dead, check, label="DeadLetters")


def test_ids_published_by_earlier_rounds_are_repeats():
    again = record("later.jsonl:1", DAY)
    new = record("later.jsonl:2", DAY, text="Something new.")
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        rows, dead = pipeline | beam.Create([again, new]) | DropRepeatedArticles(7, known_ids=[again.article_id])
        assert_that(rows | "Ids" >> beam.Map(lambda a: a.article_id), equal_to([new.article_id]), label="Rows")
        assert_that(
            dead | "Why" >> beam.Map(lambda d: (d.source_ref, "already published" in d.detail)),
            equal_to([("later.jsonl:1", True)]),
            label="DeadLetters",
        )


def test_streaming_passes_the_first_sighting_and_forgets_after_the_retention():
    day_s = 86400
    first, repeat, much_later = record("feed:1", DAY), record("dump:1", DAY), record("dump:2", DAY)
    stream = (
        TestStream()
        .add_elements([TimestampedValue(first, 1000)])
        .advance_watermark_to(1001)
        .add_elements([TimestampedValue(repeat, 1002)])
        .advance_watermark_to(1003 + 3 * day_s)  # past the retention of 2 days: the id is forgotten
        .add_elements([TimestampedValue(much_later, 1004 + 3 * day_s)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions(runner=STREAMING_RUNNER)
    options.view_as(StandardOptions).streaming = True
    with TestPipeline(runner=STREAMING_RUNNER, options=options) as pipeline:
        rows, dead = pipeline | stream | DropRepeatedArticles(retention_days=2)
        assert_that(rows | "Refs" >> beam.Map(lambda a: a.source_ref), equal_to(["feed:1", "dump:2"]), label="Rows")
        assert_that(
            dead | "DeadRefs" >> beam.Map(lambda d: (d.reason, d.source_ref, "already read from feed:1" in d.detail)),
            equal_to([(REASON, "dump:1", True)]),
            label="DeadLetters",
        )


def test_a_record_in_two_dumps_is_one_row_and_one_dead_letter(tmp_path):
    line = {"url": URL, "title": "Story", "published": "2025-10-31T06:30:00+00:00", "text": TEXT * 5}
    other = dict(line, url="https://other.example/story", text="Another story entirely, told at length. " * 5)
    (tmp_path / "a.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(other) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    output = tmp_path / "out"
    read, written, dead, conserved = counts_of(
        run_newsbeam("--input", str(tmp_path / "*.jsonl"), "--output", str(output))
    )
    assert (read, written, dead, conserved) == (3, 2, 1, "yes")
    assert articles(output).select("url").order("url").fetchall() == [("https://other.example/story",), (URL,)]
    assert duckdb.sql(
        f"select step, reason, source_ref from read_parquet('{output}/_dead_letters/*.parquet')"
    ).fetchall() == [(STEP, REASON, f"{tmp_path / 'b.jsonl'}:1")]
