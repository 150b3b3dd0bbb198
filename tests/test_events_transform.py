"""AssignEvents in real Beam pipelines: batch, streaming (TestStream), and both on the same input."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import pickle
import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from tests.conftest import BATCH_RUNNER, SHARED, STREAMING_RUNNER, require_shared
from transforms import event_clustering as clustering
from transforms.events import UNDATED_FLUSH, AssignEvents, EventsConfig, state_key
from transforms.schema import UTC, Article

FRIDAY = dt.datetime(2025, 10, 31, 9, tzinfo=UTC)
UCI = SHARED / "data" / "uci_news_stories" / "uci_news_stories.dev.jsonl.gz"
ECBPLUS = SHARED / "data" / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz"


def make_article(article_id, text, published_at=None, title=None, language="en", **fields) -> Article:
    return Article(
        article_id=article_id,
        url=None,
        outlet=None,
        title=title,
        text=text,
        published_at=published_at,
        language=language,
        source_kind="text",
        source_ref=f"test:{article_id}",
        ingested_at=FRIDAY,
        **fields,
    )


@pytest.fixture(scope="module")
def seed_articles(seed_texts) -> list[Article]:
    # Two seeds dated, three without a date, as the readers may leave them.
    return [
        make_article(name, text, FRIDAY + dt.timedelta(hours=i) if i < 2 else None)
        for i, (name, text) in enumerate(sorted(seed_texts.items()))
    ]


@pytest.fixture(scope="module")
def ecbplus_records() -> list[dict]:
    with gzip.open(require_shared(ECBPLUS), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def stream_input(ecbplus_records) -> list[Article]:
    """500 real headlines over two days (real times, several stories), three undated
    articles and two syndicated copies of one headline: one half an hour late, one
    a day late (its original's event closed by then)."""
    headlines = []
    with gzip.open(require_shared(UCI), "rt", encoding="utf-8") as lines:
        for line in itertools.islice(lines, 500):
            record = json.loads(line)
            published = dt.datetime.fromtimestamp(record["timestamp_ms"] / 1000, tz=UTC)
            headlines.append(make_article(f"uci-{record['id']}", record["title"], published, title=record["title"]))
    undated = [make_article(r["doc_id"], r["text"], None, title=r.get("title")) for r in ecbplus_records[:3]]
    original = headlines[100]

    def copy_of(prefix: str, text: str, lag: dt.timedelta) -> Article:
        return make_article(
            prefix + original.article_id, text, original.published_at + lag,
            canonical_id=original.article_id, is_canonical=False, lag_seconds=int(lag.total_seconds()),
        )

    copy = copy_of("copy-of-", "A reprint that words it all differently.", dt.timedelta(minutes=30))
    late_copy = copy_of("late-copy-of-", "Another reprint, carried a day later.", dt.timedelta(hours=24))
    return headlines + undated + [copy, late_copy]


def run_batch(articles, config=None, check=None, check_dead=None) -> None:
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        rows, dead = (
            pipeline
            | "Articles" >> beam.Create(articles).with_output_types(Article)
            | "AssignEvents" >> AssignEvents(config)
        )
        assert_that(rows, check, label="CheckRows")
        assert_that(dead, check_dead or equal_to([]), label="CheckDeadLetters")


def streaming_pipeline() -> TestPipeline:
    options = PipelineOptions(runner=STREAMING_RUNNER)
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner=STREAMING_RUNNER, options=options)


def save_to(path):
    def save(rows):
        assert rows, "no rows"
        path.write_bytes(pickle.dumps({row.article_id: row.event_id for row in rows}))

    return save


def events_of(rows) -> dict[str, str]:
    found = {row.article_id: row.event_id for row in rows}
    assert len(found) == len(rows), "an article came out twice"
    assert all(found.values()), "an article left without an event_id"
    return found


# ---------------------------------------------------------------- batch


def test_the_seeds_get_one_event_dated_or_not(seed_articles):
    def check(rows):
        events = events_of(rows)
        assert len(events) == 5 and len(set(events.values())) == 1

    run_batch(seed_articles, check=check)


def test_unrelated_articles_stay_apart_from_the_seeds(seed_articles, ecbplus_records):
    others = [make_article(r["doc_id"], r["text"], FRIDAY, title=r.get("title")) for r in ecbplus_records[:2]]
    others += [make_article(r["doc_id"], r["text"], FRIDAY, title=r.get("title")) for r in ecbplus_records[-2:]]

    def check(rows):
        events = events_of(rows)
        seed_event = {events[a.article_id] for a in seed_articles}
        assert len(seed_event) == 1
        assert not seed_event & {events[a.article_id] for a in others}
        # 1_1ecb/1_1ecbplus are two rehab stories years apart; the last two are one other event.
        assert events[others[0].article_id] != events[others[1].article_id]
        assert events[others[2].article_id] == events[others[3].article_id]

    run_batch(seed_articles + others, check=check)


def test_syndicated_copies_join_their_canonical_event_also_after_it_closed(stream_input):
    copies = [a for a in stream_input if a.is_canonical is False]
    original = next(a for a in stream_input if a.article_id == copies[0].canonical_id)
    assert max(copy.lag_seconds for copy in copies) > EventsConfig().quiet_period_hours * 3600

    def check(rows):
        events = events_of(rows)
        assert [events[copy.article_id] for copy in copies] == [events[original.article_id]] * 2

    run_batch(stream_input, check=check)


def test_an_unexpected_error_on_one_record_is_a_dead_letter_and_the_rest_flow(seed_articles):
    broken = make_article("broken", 12345, FRIDAY)  # text that is not text

    def check_dead(letters):
        assert [(d.step, d.reason, d.source_ref) for d in letters] == [("events", "features_failed", "test:broken")]
        assert "AttributeError" in letters[0].detail

    def check(rows):
        assert len(set(events_of(rows).values())) == 1 and len(rows) == 5

    run_batch(seed_articles + [broken], check=check, check_dead=check_dead)


def test_time_buckets_and_languages_make_separate_states(seed_articles):
    dated = seed_articles[0]
    assert state_key(dated, 0) == "en"
    assert state_key(dated.replace(language=None), 0) == "und"
    bucket = state_key(dated, 7)
    assert bucket.startswith("en/") and bucket != "en/undated"
    assert state_key(seed_articles[3], 7) == "en/undated"
    # A copy is keyed by its canonical copy's time, so it meets it across a boundary.
    copy = dated.replace(
        article_id="c", published_at=dated.published_at + dt.timedelta(days=7), canonical_id=dated.article_id,
        is_canonical=False, lag_seconds=7 * 86400,
    )
    assert state_key(copy, 7) == bucket
    french = seed_articles[:2] + [make_article("fr", "Le ministre indien de la Défense a signé.", FRIDAY, language="fr")]

    def check(rows):
        events = events_of(rows)
        assert events["fr"] == clustering.event_id_for("fr")

    run_batch(french, EventsConfig(time_bucket_days=1), check=check)


# ---------------------------------------------------------------- streaming vs batch


def run_stream(articles: list[Article], config: EventsConfig, saved) -> None:
    """Deliver the articles in hourly batches, shuffled inside each hour; undated ones at the end."""
    shuffled = random.Random(7)
    dated = sorted((a for a in articles if a.published_at), key=lambda a: a.published_at)
    undated = [a for a in articles if a.published_at is None]
    stream = TestStream()
    for _, hour in itertools.groupby(dated, key=lambda a: a.published_at.replace(minute=0, second=0, microsecond=0)):
        batch = list(hour)
        shuffled.shuffle(batch)
        stream = stream.add_elements([TimestampedValue(a, a.published_at.timestamp()) for a in batch])
        # TestStream watermarks are whole milliseconds: the next one after the hour's last article.
        latest_ms = max(clustering.order_key(a)[1] for a in batch) // 1000
        stream = stream.advance_watermark_to(Timestamp(micros=(latest_ms + 1) * 1000))
    # Undated articles arrive last, on time (stamped at the watermark).
    arrival = Timestamp(micros=(clustering.order_key(dated[-1])[1] // 1000 + 1) * 1000)
    stream = stream.add_elements([TimestampedValue(a, arrival) for a in undated])
    # As a drain does: the watermark passes the point where undated articles are processed, then the end.
    stream = stream.advance_watermark_to(UNDATED_FLUSH + Duration(micros=1000)).advance_watermark_to_infinity()
    with streaming_pipeline() as pipeline:
        rows, dead = pipeline | "Stream" >> stream | "AssignEvents" >> AssignEvents(config)
        assert_that(rows, save_to(saved), label="SaveRows")
        assert_that(dead, equal_to([]), label="NoDeadLetters")


def test_batch_and_streaming_give_identical_event_ids(stream_input, tmp_path):
    # A short quiet period so that events also close inside the two days.
    config = EventsConfig(quiet_period_hours=3)
    streamed_path, batched_path = tmp_path / "stream.pickle", tmp_path / "batch.pickle"
    run_stream(stream_input, config, streamed_path)
    reversed_input = list(reversed(stream_input))
    run_batch(reversed_input, config, check=save_to(batched_path))
    streamed = pickle.loads(streamed_path.read_bytes())
    batched = pickle.loads(batched_path.read_bytes())
    assert len(streamed) == len(stream_input)
    assert streamed == batched
    # Not a degenerate answer: several events, most articles sharing one with others.
    sizes = sorted((list(batched.values()).count(e) for e in set(batched.values())), reverse=True)
    assert 10 < len(sizes) < len(stream_input) / 2 and sizes[0] > 5


def test_batch_and_streaming_agree_when_full_articles_outlive_headline_events(stream_input, ecbplus_records, tmp_path):
    """Full articles over three days among headlines: each kind of event closes after its own quiet period."""
    config = EventsConfig(quiet_period_hours=3, full_text_quiet_period_hours=10)
    spread = random.Random(11)
    start = min(a.published_at for a in stream_input if a.published_at)
    topics = {"t1_ecb", "t3_ecb", "t20_ecbplus", "t30_ecbplus"}
    full_texts = [
        make_article(r["doc_id"], r["text"], start + dt.timedelta(minutes=spread.randrange(3 * 24 * 60)), title=r.get("title"))
        for r in ecbplus_records
        if r["event_id"] in topics
    ]
    headlines = [a for a in stream_input if a.published_at][:200]
    articles = full_texts + headlines
    streamed_path, batched_path = tmp_path / "stream.pickle", tmp_path / "batch.pickle"
    run_stream(articles, config, streamed_path)
    run_batch(list(reversed(articles)), config, check=save_to(batched_path))
    streamed = pickle.loads(streamed_path.read_bytes())
    batched = pickle.loads(batched_path.read_bytes())
    assert len(streamed) == len(articles) and streamed == batched
    # Both quiet periods decide something here: full-text events closing after the headlines'
    # 3 h, or never closing, would give other ids.
    for other_full_text_period in (3.0, 1000.0):
        other = config.model_copy(update={"full_text_quiet_period_hours": other_full_text_period})
        assert dict((a.article_id, e) for a, e in clustering.cluster_in_order(articles, other.params())) != batched


def test_streaming_puts_the_seeds_under_one_event(seed_articles, tmp_path):
    saved = tmp_path / "seeds.pickle"
    run_stream(seed_articles, EventsConfig(), saved)
    events = pickle.loads(saved.read_bytes())
    assert len(events) == 5 and len(set(events.values())) == 1


# ---------------------------------------------------------------- carried state (rounds of a local streaming run)


def _run_round(articles, carried, rows_path, state_path) -> None:
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        rows, dead, state = (
            pipeline
            | "Articles" >> beam.Create(articles).with_output_types(Article)
            | "AssignEvents" >> AssignEvents(carried_state=carried)
        )
        assert_that(rows, save_to(rows_path), label="SaveRows")
        assert_that(
            state,
            lambda entries: state_path.write_bytes(pickle.dumps({key: value for _, key, value in entries})),
            label="SaveState",
        )
        assert_that(dead, equal_to([]), label="CheckDeadLetters")


def test_rounds_with_carried_state_give_the_ids_of_one_batch_run(stream_input, tmp_path):
    dated = sorted((a for a in stream_input if a.published_at is not None), key=clustering.order_key)
    first, second = dated[: len(dated) // 2], dated[len(dated) // 2 :]

    run_batch(dated, check=save_to(tmp_path / "batch.pickle"))
    _run_round(first, {}, tmp_path / "r1.pickle", tmp_path / "s1.pickle")
    carried = pickle.loads((tmp_path / "s1.pickle").read_bytes())
    assert list(carried) == ["en"]
    _run_round(second, carried, tmp_path / "r2.pickle", tmp_path / "s2.pickle")

    batch = pickle.loads((tmp_path / "batch.pickle").read_bytes())
    rounds = {**pickle.loads((tmp_path / "r1.pickle").read_bytes()), **pickle.loads((tmp_path / "r2.pickle").read_bytes())}
    assert rounds == batch
    # Some event founded in round 1 took articles in round 2.
    first_ids = {article.article_id for article in first}
    founded_in_first = {event for article_id, event in rounds.items() if article_id in first_ids}
    assert any(rounds[a.article_id] in founded_in_first for a in second)
