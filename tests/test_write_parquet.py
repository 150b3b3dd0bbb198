"""WriteParquet: Hive layout, explicit schema, atomic publish, replace on re-run."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.counts import check_output
from tests.conftest import BATCH_RUNNER
from transforms.dead_letters import make_dead_letter
from transforms.schema import ARTICLE_SCHEMA, DEAD_LETTER_SCHEMA, UNKNOWN_DATE_PARTITION, Article, Entity
from transforms.write_parquet import MANIFEST_NAME, STAGING_PREFIX, OutputConfig, WriteParquet, read_manifest

UTC = dt.timezone.utc


def _article(article_id: str, event_id: str, day: int | None) -> Article:
    return Article(
        article_id=article_id,
        url=f"https://example.org/{article_id}",
        outlet="Example",
        title=f"Title {article_id}",
        text=f"Text of {article_id}.",
        published_at=dt.datetime(2025, 10, day, 8, tzinfo=UTC) if day else None,
        language="en",
        source_kind="jsonl",
        source_ref=f"dump.jsonl:{article_id}",
        ingested_at=dt.datetime(2025, 11, 1, tzinfo=UTC),
        entities=(Entity("Singh", "PERSON", "Rajnath Singh"),),
        event_id=event_id,
        dup_group_id=f"cg-{article_id}",
        canonical_id=article_id,
        is_canonical=True,
        lag_seconds=0,
    )


ARTICLES = [
    _article("a1", "ev-1", 30),
    _article("a2", "ev-1", 30),
    _article("a3", "ev-1", 31),
    _article("a4", "ev-2", None),
    _article("a5", "ev-2", 31),
]
DEAD = [make_dead_letter("read.jsonl", "invalid_json", "line 3 is not JSON", "dump.jsonl:3", "{oops")]


def _write(output: pathlib.Path, articles, dead, run_id: str, config: OutputConfig | None = None):
    with TestPipeline(runner=BATCH_RUNNER) as p:
        {
            "articles": p | "Articles" >> beam.Create(articles),
            "dead_letters": p | "Dead" >> beam.Create(dead),
            "records_read": p | "Read" >> beam.Create([len(articles) + len(dead)]),
        } | WriteParquet(str(output), run_id, config)


def _relative_files(output: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file())


def test_layout_schema_and_manifest(tmp_path):
    _write(tmp_path, ARTICLES, DEAD, "run1")
    assert _relative_files(tmp_path) == [
        "_dead_letters/part-00000.parquet",
        MANIFEST_NAME,
        "event_id=ev-1/date=2025-10-30/part-00000.parquet",
        "event_id=ev-1/date=2025-10-31/part-00000.parquet",
        "event_id=ev-2/date=2025-10-31/part-00000.parquet",
        f"event_id=ev-2/date={UNKNOWN_DATE_PARTITION}/part-00000.parquet",
    ]
    table = pq.read_table(tmp_path / "event_id=ev-1/date=2025-10-30/part-00000.parquet")
    assert table.schema.remove_metadata() == ARTICLE_SCHEMA
    assert table.column("article_id").to_pylist() == ["a1", "a2"]
    dead = pq.read_table(tmp_path / "_dead_letters/part-00000.parquet")
    assert dead.schema.remove_metadata() == DEAD_LETTER_SCHEMA
    assert dead.column("reason").to_pylist() == ["invalid_json"]

    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["records_read"] == 6
    assert manifest["rows_written"] == 5
    assert manifest["dead_letters_by_reason"] == {"read.jsonl/invalid_json": 1}
    assert manifest["conserved"] is True
    counts = check_output(str(tmp_path), manifest)
    assert counts.conserved and counts.rows_on_disk == 5 and counts.dead_letters_on_disk == 1


def test_duckdb_reads_the_hive_layout_with_null_unknown_dates(tmp_path):
    _write(tmp_path, ARTICLES, DEAD, "run1")
    rows = duckdb.sql(
        f"select event_id, date, count(*) from read_parquet('{tmp_path}/event_id=*/date=*/*.parquet', "
        "hive_partitioning = true) group by all order by all"
    ).fetchall()
    assert rows == [
        ("ev-1", dt.date(2025, 10, 30), 2),
        ("ev-1", dt.date(2025, 10, 31), 1),
        ("ev-2", dt.date(2025, 10, 31), 1),
        ("ev-2", None, 1),
    ]


def test_rerun_replaces_and_never_doubles(tmp_path):
    _write(tmp_path, ARTICLES, DEAD, "run1")
    first = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet") if "_dead_letters" not in str(p)}
    _write(tmp_path, ARTICLES, DEAD, "run2")
    second = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet") if "_dead_letters" not in str(p)}
    assert first == second
    # A smaller input replaces the dataset: partitions it no longer has are gone.
    _write(tmp_path, ARTICLES[:1], [], "run3")
    assert _relative_files(tmp_path) == [
        "_dead_letters/part-00000.parquet",
        MANIFEST_NAME,
        "event_id=ev-1/date=2025-10-30/part-00000.parquet",
    ]
    assert read_manifest(str(tmp_path))["run_id"] == "run3"
    assert not any(p.name.startswith(STAGING_PREFIX) for p in tmp_path.iterdir())


def test_partitions_split_into_capped_files(tmp_path):
    _write(tmp_path, ARTICLES, [], "run1", OutputConfig(max_rows_per_file=1))
    files = sorted((tmp_path / "event_id=ev-1/date=2025-10-30").iterdir())
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet"]
    assert check_output(str(tmp_path), read_manifest(str(tmp_path))).conserved


def test_a_failed_run_publishes_nothing_and_keeps_the_old_output(tmp_path):
    _write(tmp_path, ARTICLES, DEAD, "good")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    # An entity that is not an Entity makes staging of its partition fail.
    broken = ARTICLES[:3] + [ARTICLES[3].replace(entities=("not an entity",))]
    with pytest.raises(Exception):
        _write(tmp_path, broken, [], "bad")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and STAGING_PREFIX not in str(p)}
    assert after == before
    assert read_manifest(str(tmp_path))["run_id"] == "good"


# ---------------------------------------------------------------- append mode (rounds of a local streaming run)


def _append(output: pathlib.Path, articles, dead, round_tag: str, state=()):
    from transforms.write_parquet import AppendRound, read_state

    previous = read_manifest(str(output)) if (output / MANIFEST_NAME).exists() else {}
    append = AppendRound(
        round_tag=round_tag,
        previous_manifest=previous,
        carried_state={"feeds": read_state(str(output), "feeds")},
        state_updates={"files": {"pattern": round_tag}},
    )
    with TestPipeline(runner=BATCH_RUNNER) as p:
        {
            "articles": p | "Articles" >> beam.Create(articles).with_output_types(Article),
            "dead_letters": p | "Dead" >> beam.Create(dead),
            "records_read": p | "Read" >> beam.Create([len(articles) + len(dead)]),
            "state": p | "State" >> beam.Create(list(state)),
        } | WriteParquet(str(output), round_tag, append=append)


def test_append_rounds_add_files_counts_and_state_and_a_batch_run_replaces_them(tmp_path):
    from transforms.write_parquet import read_state

    output = tmp_path / "out"
    _append(output, ARTICLES[:2], [], "r1", state=[("feeds", "http://a/feed", "state-1")])
    _append(output, ARTICLES[2:], DEAD, "r2", state=[("feeds", "http://b/feed", "state-2")])

    files = _relative_files(output)
    assert "event_id=ev-1/date=2025-10-30/part-r1-00000.parquet" in files
    assert "event_id=ev-1/date=2025-10-31/part-r2-00000.parquet" in files
    assert "_dead_letters/part-r2-00000.parquet" in files
    manifest = read_manifest(str(output))
    assert (manifest["mode"], manifest["rounds"], manifest["round_tag"]) == ("append", 2, "r2")
    assert (manifest["records_read"], manifest["rows_written"], manifest["dead_letters"]) == (6, 5, 1)
    assert manifest["last_round"] == {"records_read": 4, "rows_written": 3, "dead_letters": 1}
    counts = check_output(str(output), manifest)
    assert counts.conserved, counts.problems
    # Carried entries stay, new ones join them; launcher updates replace theirs.
    assert read_state(str(output), "feeds") == {"http://a/feed": "state-1", "http://b/feed": "state-2"}
    assert read_state(str(output), "files") == {"pattern": "r2"}
    assert duckdb.sql(
        f"select count(*) from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning=true)"
    ).fetchall()[0][0] == 5

    # A report page of the rounds stays while rounds append; a batch run's new data removes it.
    (output / "_report").mkdir()
    (output / "_report" / "index.html").write_text("<html>rounds r1, r2</html>")
    _write(output, ARTICLES[:1], [], "batch")
    assert not (output / "_state").exists()
    assert not (output / "_report").exists()
    assert read_manifest(str(output))["mode"] == "replace"
    assert [f for f in _relative_files(output) if f.endswith(".parquet")] == [
        "_dead_letters/part-00000.parquet",
        "event_id=ev-1/date=2025-10-30/part-00000.parquet",
    ]


# ---------------------------------------------------------------- windows (unbounded runs)


def test_unbounded_input_is_published_window_by_window(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
    from apache_beam.testing.test_stream import TestStream

    from tests.conftest import STREAMING_RUNNER
    from transforms.write_parquet import WINDOWS_DIR, windowed_manifest

    output = tmp_path / "out"
    config = OutputConfig(window_s=0.05)  # short windows: the elements land in several
    options = PipelineOptions(runner=STREAMING_RUNNER)
    options.view_as(StandardOptions).streaming = True

    # One TestStream (the local streaming runner takes one): every record read,
    # then what became of it, arriving over time.
    events = TestStream()
    for index, element in enumerate([*ARTICLES, *DEAD]):
        kind = "article" if isinstance(element, Article) else "dead"
        events = events.add_elements([("record", index), (kind, element)]).advance_processing_time(1)
    events = events.advance_watermark_to_infinity()

    with TestPipeline(runner=STREAMING_RUNNER, options=options) as p:
        arriving = p | events | "Slowly" >> beam.Map(_slowly)
        {
            "articles": arriving | "Articles" >> beam.FlatMap(lambda e: [e[1]] if e[0] == "article" else []),
            "dead_letters": arriving | "Dead" >> beam.FlatMap(lambda e: [e[1]] if e[0] == "dead" else []),
            "records_read": arriving | "Records" >> beam.FlatMap(lambda e: [e[1]] if e[0] == "record" else []),
        } | WriteParquet(str(output), "stream", config)

    manifest = windowed_manifest(str(output))
    assert manifest["windows"] >= 2, manifest
    assert (manifest["records_read"], manifest["rows_written"], manifest["dead_letters"]) == (6, 5, 1)
    assert manifest["dead_letters_by_reason"] == {"read.jsonl/invalid_json": 1}
    counts = check_output(str(output), manifest)
    assert counts.conserved, counts.problems
    files = _relative_files(output)
    assert all(
        f.startswith((WINDOWS_DIR + "/", "_dead_letters/part-w", "event_id=")) for f in files
    ), files
    assert not any(f.startswith(STAGING_PREFIX) for f in files)
    rows = duckdb.sql(
        f"select article_id, event_id from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning=true)"
    ).fetchall()
    assert sorted(rows) == sorted((a.article_id, a.event_id) for a in ARTICLES)


def _slowly(article):
    import time

    time.sleep(0.1)  # so consecutive articles land in different windows
    return article
