"""DedupSyndicated in real Beam pipelines (batch and streaming), and the wire_copies view."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import pickle

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from pipeline.queries import connect, records
from tests.conftest import BATCH_RUNNER, FIXTURES, STREAMING_RUNNER
from transforms.dedup import DedupConfig, DedupSyndicated
from transforms.schema import ARTICLE_SCHEMA, DEAD_LETTER_SCHEMA, UTC, Article, article_to_row

FRIDAY = dt.datetime(2025, 10, 31, tzinfo=UTC)
DAY = 86400


def make_article(article_id: str, text, published_at, outlet: str | None = None, title: str | None = None) -> Article:
    return Article(
        article_id=article_id,
        url=f"https://{outlet or article_id}.example/{article_id}",
        outlet=outlet or article_id,
        title=title,
        text=text,
        published_at=published_at,
        language="en",
        source_kind="text",
        source_ref=f"test:{article_id}",
        ingested_at=FRIDAY,
    )


@pytest.fixture(scope="module")
def fixture_record() -> dict:
    return json.loads((FIXTURES / "reprint" / "reprint_of_seed_000.jsonl").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_articles(seed_texts) -> list[Article]:
    return [
        make_article(name, text, FRIDAY, outlet=f"outlet{i}", title=f"Seed {i}")
        for i, (name, text) in enumerate(sorted(seed_texts.items()))
    ]


@pytest.fixture(scope="module")
def reprint_article(fixture_record) -> Article:
    return make_article(
        "reprint",
        fixture_record["text"],
        dt.datetime.fromisoformat(fixture_record["published"]),
        outlet=fixture_record["outlet"],
        title=fixture_record["title"],
    )


def run_batch(articles: list[Article], config: DedupConfig | None = None, check=None, check_dead=None) -> None:
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        rows, dead = (
            pipeline
            | "Articles" >> beam.Create(articles).with_output_types(Article)
            | "Dedup" >> DedupSyndicated(config)
        )
        assert_that(rows, check, label="CheckRows")
        assert_that(dead, check_dead or equal_to([]), label="CheckDeadLetters")


def by_id(rows) -> dict[str, Article]:
    found = {row.article_id: row for row in rows}
    assert len(found) == len(rows), "an article came out twice"
    return found


def dump_to(path: pathlib.Path):
    """An assert_that matcher that saves the rows (pickled) for checks after the run."""

    def save(rows):
        assert rows, "no rows"
        path.write_bytes(pickle.dumps(list(rows)))

    return save


def write_output(rows: list[Article], directory: pathlib.Path) -> pathlib.Path:
    """Rows in newsbeam's output layout (DIR/event_id=*/date=*/part.parquet, DIR/_dead_letters/)."""
    partitions: dict[str, list[Article]] = {}
    for row in rows:
        partitions.setdefault(f"event_id={row.event_id or 'unassigned'}/date={row.date_partition}", []).append(row)
    for partition, members in partitions.items():
        folder = directory / partition
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist([article_to_row(a) for a in members], schema=ARTICLE_SCHEMA)
        pq.write_table(table, folder / "part-00000.parquet")
    (directory / "_dead_letters").mkdir()
    pq.write_table(DEAD_LETTER_SCHEMA.empty_table(), directory / "_dead_letters" / "part-00000.parquet")
    return directory


# ---------------------------------------------------------------- batch


def test_seeds_are_five_groups_and_the_reprint_joins_its_original(seed_articles, reprint_article):
    original = seed_articles[0]

    def check(rows):
        rows = by_id(rows)
        assert len(rows) == 6
        copy, source = rows["reprint"], rows[original.article_id]
        assert copy.dup_group_id == source.dup_group_id == "cg-" + original.article_id
        assert copy.canonical_id == source.canonical_id == original.article_id
        assert source.is_canonical and not copy.is_canonical
        assert copy.lag_seconds == 6 * 3600 + 30 * 60 and source.lag_seconds == 0
        for seed in seed_articles[1:]:
            row = rows[seed.article_id]
            assert (row.dup_group_id, row.canonical_id, row.is_canonical, row.lag_seconds) == (
                "cg-" + seed.article_id, seed.article_id, True, 0
            )
        assert rows["reprint"].text == reprint_article.text  # matching never edits the text

    run_batch(seed_articles + [reprint_article], check=check)


def test_the_seeds_alone_give_no_copies(seed_articles):
    def check(rows):
        assert len({row.dup_group_id for row in rows}) == 5
        assert all(row.is_canonical for row in rows)

    run_batch(seed_articles, check=check)


def test_an_article_with_no_words_is_its_own_group_not_a_dead_letter(seed_articles):
    empty = make_article("no-words", " — … !!! ", FRIDAY)

    def check(rows):
        row = by_id(rows)["no-words"]
        assert (row.dup_group_id, row.canonical_id, row.is_canonical, row.lag_seconds) == (
            "cg-no-words", "no-words", True, 0
        )

    run_batch(seed_articles[:2] + [empty], check=check)


def test_an_unexpected_error_on_one_record_is_a_dead_letter_and_the_rest_flow(seed_articles):
    broken = make_article("broken", 12345, FRIDAY)  # a reader bug: text that is not text

    def check_dead(letters):
        assert [(d.step, d.reason, d.source_ref) for d in letters] == [("dedup", "sign_failed", "test:broken")]
        assert "TypeError" in letters[0].detail

    def check(rows):
        assert sorted(row.article_id for row in rows) == sorted(a.article_id for a in seed_articles[:3])

    run_batch(seed_articles[:3] + [broken], check=check, check_dead=check_dead)


def test_a_story_carried_by_more_outlets_than_a_bucket_holds_is_one_group(seed_texts, seed_articles):
    story = sorted(seed_texts.values())[2]
    copies = [
        make_article(f"carrier{i:02d}", story, FRIDAY + dt.timedelta(minutes=5 * (30 - i)))
        for i in range(30)
    ]
    config = DedupConfig(max_bucket_size=8)

    def check(rows):
        rows = by_id(rows)
        groups = {rows[c.article_id].dup_group_id for c in copies}
        assert groups == {"cg-carrier29"}  # carrier29 was published first
        assert rows["carrier00"].lag_seconds == 29 * 5 * 60
        assert sum(rows[c.article_id].is_canonical for c in copies) == 1

    run_batch(copies + seed_articles[:2], config=config, check=check)


def test_canonical_ties_go_to_the_smaller_id_and_unknown_times_sort_last(seed_texts):
    story = sorted(seed_texts.values())[1]
    articles = [
        make_article("b-copy", story, FRIDAY),
        make_article("a-copy", story, FRIDAY),
        make_article("undated", story, None),
        make_article("later", story, FRIDAY + dt.timedelta(hours=2)),
    ]

    def check(rows):
        rows = by_id(rows)
        assert {r.canonical_id for r in rows.values()} == {"a-copy"}
        assert rows["a-copy"].is_canonical and not rows["b-copy"].is_canonical
        assert rows["b-copy"].lag_seconds == 0
        assert rows["later"].lag_seconds == 7200
        assert rows["undated"].lag_seconds is None and not rows["undated"].is_canonical

    run_batch(articles, check=check)


def test_the_matcher_is_chosen_by_name(seed_articles, reprint_article):
    # The reprint keeps 96% of its original's shingles: every matcher finds it;
    # Jaccard at 0.95 does not.
    def check_found(rows):
        assert by_id(rows)["reprint"].canonical_id == seed_articles[0].article_id

    def check_missed(rows):
        assert by_id(rows)["reprint"].is_canonical

    run_batch([seed_articles[0], reprint_article], DedupConfig(method="containment"), check=check_found)
    run_batch([seed_articles[0], reprint_article], DedupConfig(method="jaccard", min_jaccard=0.95), check=check_missed)


# ---------------------------------------------------------------- streaming


def streaming_pipeline() -> TestPipeline:
    options = PipelineOptions(runner=STREAMING_RUNNER)
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner=STREAMING_RUNNER, options=options)


@pytest.fixture(scope="module")
def out_of_order(seed_articles, reprint_article) -> dict:
    """Three copies of seed 000 delivered latest-published first, among unrelated seeds."""
    original = seed_articles[0]
    earlier_copy = make_article(
        "earlier-copy",
        reprint_article.text.replace("NEW DELHI, Oct 31: ", "KUALA LUMPUR, Oct 31 (IANS) "),
        FRIDAY + dt.timedelta(hours=3),
        outlet="The Port Weekly",
        title="Decade-long defence pact signed",
    )
    return {
        "original": original,
        "copies": [reprint_article, earlier_copy],
        "others": seed_articles[1:],
        "all": seed_articles + [reprint_article, earlier_copy],
    }


def run_out_of_order_stream(case: dict, saved: pathlib.Path) -> None:
    late_copy, earlier_copy = case["copies"]
    others = case["others"]
    stream = (
        TestStream()
        .add_elements([TimestampedValue(late_copy, 1000)])  # published 06:30, arrives first
        .advance_watermark_to(1001)
        .add_elements([TimestampedValue(others[0], 1002), TimestampedValue(others[1], 1003)])
        .advance_watermark_to(1004)
        .add_elements([TimestampedValue(case["original"], 1005)])  # published 00:00, arrives third
        .advance_watermark_to(1006)
        .add_elements([TimestampedValue(earlier_copy, 1007)] + [TimestampedValue(o, 1008) for o in others[2:]])
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as pipeline:
        rows, dead = pipeline | "Stream" >> stream | "Dedup" >> DedupSyndicated(DedupConfig())
        assert_that(rows, dump_to(saved), label="SaveRows")
        assert_that(dead, equal_to([]), label="NoDeadLetters")


def test_streaming_keeps_a_stable_group_id_for_copies_arriving_out_of_order(out_of_order, tmp_path):
    saved = tmp_path / "rows.pickle"
    run_out_of_order_stream(out_of_order, saved)
    rows = by_id(pickle.loads(saved.read_bytes()))
    assert len(rows) == len(out_of_order["all"])
    late_copy, earlier_copy = out_of_order["copies"]
    original = out_of_order["original"]
    group = {rows[a.article_id].dup_group_id for a in (late_copy, original, earlier_copy)}
    # The group is named after the copy it was first seen with, and stays so.
    assert group == {"cg-" + late_copy.article_id}
    # Rows say what was known on arrival: the first copy thought itself canonical ...
    assert rows[late_copy.article_id].is_canonical
    # ... later arrivals know the earliest-published copy.
    assert rows[original.article_id].is_canonical and rows[original.article_id].canonical_id == original.article_id
    assert rows[earlier_copy.article_id].canonical_id == original.article_id
    assert rows[earlier_copy.article_id].lag_seconds == 3 * 3600
    for other in out_of_order["others"]:
        assert rows[other.article_id].dup_group_id == "cg-" + other.article_id


def test_the_view_reads_streaming_output_the_same_as_batch(out_of_order, tmp_path):
    saved = tmp_path / "stream.pickle"
    run_out_of_order_stream(out_of_order, saved)
    streamed = pickle.loads(saved.read_bytes())
    batch_saved = tmp_path / "batch.pickle"
    run_batch(out_of_order["all"], check=dump_to(batch_saved))
    batched = pickle.loads(batch_saved.read_bytes())

    def answer(rows, name):
        connection = connect(str(write_output(rows, tmp_path / name)))
        return records(
            connection.sql(
                "SELECT canonical_id, agency, article_id, outlet, is_canonical, lag_seconds, copies "
                "FROM wire_copies ORDER BY carried_order"
            )
        )

    from_stream, from_batch = answer(streamed, "stream-out"), answer(batched, "batch-out")
    assert from_stream == from_batch
    original = out_of_order["original"]
    late_copy, earlier_copy = out_of_order["copies"]
    assert [(r["article_id"], r["lag_seconds"], r["is_canonical"]) for r in from_batch] == [
        (original.article_id, 0, True),
        (earlier_copy.article_id, 3 * 3600, False),
        (late_copy.article_id, 6 * 3600 + 30 * 60, False),
    ]
    assert {r["canonical_id"] for r in from_batch} == {original.article_id}
    assert {r["copies"] for r in from_batch} == {3}


def test_streaming_state_expires_after_the_retention(seed_articles, reprint_article, tmp_path):
    original = seed_articles[0]
    within = reprint_article.replace(article_id="within-retention")
    after = reprint_article.replace(article_id="after-retention")
    stream = (
        TestStream()
        .add_elements([TimestampedValue(original, 0)])
        .advance_watermark_to(DAY // 2)
        .add_elements([TimestampedValue(within, DAY // 2)])
        .advance_watermark_to(3 * DAY)  # more than a day after anything was seen: state cleared
        .add_elements([TimestampedValue(after, 3 * DAY)])
        .advance_watermark_to_infinity()
    )
    saved = tmp_path / "rows.pickle"
    with streaming_pipeline() as pipeline:
        rows, _ = pipeline | "Stream" >> stream | "Dedup" >> DedupSyndicated(DedupConfig(retention_days=1))
        assert_that(rows, dump_to(saved), label="SaveRows")
    rows = by_id(pickle.loads(saved.read_bytes()))
    assert rows["within-retention"].dup_group_id == "cg-" + original.article_id
    assert rows["after-retention"].dup_group_id == "cg-after-retention"
    assert rows["after-retention"].is_canonical


def test_streaming_is_detected_from_an_unbounded_input(seed_articles, reprint_article, tmp_path):
    stream = TestStream().add_elements([TimestampedValue(a, 10) for a in (seed_articles[0], reprint_article)])
    saved = tmp_path / "rows.pickle"
    with streaming_pipeline() as pipeline:
        rows, _ = pipeline | "Stream" >> stream.advance_watermark_to_infinity() | "Dedup" >> DedupSyndicated()
        assert_that(rows, dump_to(saved), label="SaveRows")
    assert "IndexByKey" in str(pipeline.to_runner_api())
    rows = by_id(pickle.loads(saved.read_bytes()))
    assert rows["reprint"].canonical_id == seed_articles[0].article_id


# ---------------------------------------------------------------- the DuckDB views


def test_wire_copies_and_who_carried_on_batch_output(seed_articles, reprint_article, tmp_path):
    saved = tmp_path / "rows.pickle"
    agency_seed = seed_articles[0].replace(wire_agency="IANS")
    run_batch([agency_seed, *seed_articles[1:], reprint_article], check=dump_to(saved))
    connection = connect(str(write_output(pickle.loads(saved.read_bytes()), tmp_path / "out")))
    copies = records(connection.sql("SELECT * FROM wire_copies ORDER BY carried_order"))
    assert [(r["outlet"], r["lag_seconds"], r["agency"]) for r in copies] == [
        ("outlet0", 0, "IANS"),
        (reprint_article.outlet, 23400, "IANS"),
    ]
    # The headline word of the reprint finds the whole story, canonical first.
    carried = records(connection.sql("SELECT * FROM who_carried('pact')"))
    assert [r["outlet"] for r in carried] == ["outlet0", reprint_article.outlet]
    assert records(connection.sql("SELECT * FROM who_carried('pac')")) == []
    assert connection.sql("SELECT count(*) FROM copy_groups").fetchall() == [(6,)]


def test_the_view_follows_chains_of_group_links(tmp_path):
    # Streaming can write Z -> Y -> X (Z matched only Y, which had matched X).
    rows = [
        make_article("x", "x", FRIDAY + dt.timedelta(hours=2)).replace(dup_group_id="cg-x"),
        make_article("y", "y", FRIDAY + dt.timedelta(hours=1)).replace(dup_group_id="cg-x"),
        make_article("z", "z", FRIDAY).replace(dup_group_id="cg-y"),
        make_article("solo", "solo", FRIDAY).replace(dup_group_id="cg-solo"),
    ]
    connection = connect(str(write_output(rows, tmp_path / "out")))
    copies = records(
        connection.sql("SELECT copy_group, article_id, lag_seconds FROM wire_copies ORDER BY carried_order")
    )
    assert copies == [
        {"copy_group": "cg-x", "article_id": "z", "lag_seconds": 0},
        {"copy_group": "cg-x", "article_id": "y", "lag_seconds": 3600},
        {"copy_group": "cg-x", "article_id": "x", "lag_seconds": 7200},
    ]


# ---------------------------------------------------------------- references (rounds of a local streaming run)


def test_groups_with_references_keep_their_group_id_and_earliest_canonical():
    from transforms.dedup import CopyEdge, KnownGroup, Member, assign_groups

    monday = FRIDAY + dt.timedelta(days=3)
    earlier_group = KnownGroup("cg-wire", "wire", FRIDAY)  # its canonical is no longer a reference
    later_group = KnownGroup("cg-other", "other", monday)
    edges = [
        CopyEdge(Member("ref-a", FRIDAY + dt.timedelta(hours=2), earlier_group), Member("new", monday)),
        CopyEdge(Member("new", monday), Member("ref-b", monday, later_group)),
        CopyEdge(Member("x", monday), Member("y", monday + dt.timedelta(hours=1))),
    ]
    groups = dict(assign_groups(edges))
    # "new" bridges two earlier groups: the earliest one's id, and its canonical copy.
    assert groups["new"].dup_group_id == "cg-wire"
    assert (groups["new"].canonical_id, groups["new"].canonical_published_at) == ("wire", FRIDAY)
    assert groups["x"].dup_group_id == "cg-x" and groups["y"].canonical_id == "x"


def test_a_copy_of_a_reference_joins_its_group_and_references_never_leave(seed_articles, reprint_article):
    earlier = [
        article.replace(dup_group_id=f"cg-{article.article_id}", canonical_id=article.article_id,
                        is_canonical=True, lag_seconds=0)
        for article in seed_articles
    ]
    original = earlier[0]

    def check(rows):
        found = by_id(rows)
        assert set(found) == {"reprint"}
        assert found["reprint"].dup_group_id == original.dup_group_id
        assert found["reprint"].canonical_id == original.article_id
        assert found["reprint"].lag_seconds == int((reprint_article.published_at - FRIDAY).total_seconds())

    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        rows, dead = (
            pipeline
            | "Articles" >> beam.Create([reprint_article]).with_output_types(Article)
            | "Dedup" >> DedupSyndicated(references=earlier)
        )
        assert_that(rows, check, label="CheckRows")
        assert_that(dead, equal_to([]), label="CheckDeadLetters")
