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
