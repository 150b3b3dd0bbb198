"""Golden end-to-end runs through the real `newsbeam` command.

Each scenario runs the installed console script in a subprocess on the pinned
in-process runner (what `newsbeam run` uses by default), then reads the output
back with DuckDB the way a user would.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline.queries import records
from tests.conftest import FIXTURES, SEEDS_DIR, run_newsbeam

COUNTS_LINE = re.compile(r"^counts: read=(\d+) written=(\d+) dead_letters=(\d+) conserved=(\w+)", re.M)


def counts_of(result: subprocess.CompletedProcess) -> tuple[int, int, int, str]:
    match = COUNTS_LINE.search(result.stdout)
    assert match, f"no counts line in:\n{result.stdout}"
    read, written, dead, conserved = match.groups()
    return int(read), int(written), int(dead), conserved


def articles(output: pathlib.Path) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"select * from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning = true)"
    )


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("seeds") / "out"
    # No --input: the bundled sample, into the given directory.
    result = run_newsbeam("--output", str(output))
    return output, result


def test_seeds_give_five_rows_one_event_and_no_copies(seeds_run):
    output, result = seeds_run
    assert counts_of(result) == (5, 5, 0, "yes")
    (rows, events, copies) = duckdb.sql(
        f"select count(*), count(distinct event_id), count(*) filter (where not is_canonical) "
        f"from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning = true)"
    ).fetchall()[0]
    assert (rows, events, copies) == (5, 1, 0)
    own_canonical = duckdb.sql(
        f"select bool_and(canonical_id = article_id) "
        f"from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning = true)"
    ).fetchall()[0][0]
    assert own_canonical


def test_pyarrow_reads_the_output_folder_the_way_the_readme_says(seeds_run):
    """Its own columns, the dead letters and the manifest left out, unknown dates as NULL."""
    from transforms.schema import ARTICLE_SCHEMA

    output, _ = seeds_run
    table = pq.read_table(output, partitioning=None)
    assert table.schema.remove_metadata().equals(ARTICLE_SCHEMA.remove_metadata())
    assert table.num_rows == 5
    undated = len(list(output.glob("event_id=*/date=__HIVE_DEFAULT_PARTITION__/*.parquet")))
    assert (table.column("date").null_count > 0) == (undated > 0)


def test_a_run_does_not_print_beams_missing_gcp_extras_notice(seeds_run):
    """`import apache_beam` logs "apitools not found..." without the GCP extras; the
    command drops it (nothing local uses BigQuery), and keeps its own messages."""
    _, result = seeds_run
    assert "apitools not found" not in result.stderr
    assert "newsbeam: run" in result.stderr + result.stdout


def test_seed_entities_and_cleaned_text(seeds_run):
    output, _ = seeds_run
    people = {
        row[0]
        for row in duckdb.sql(
            f"select distinct e.norm from read_parquet('{output}/event_id=*/date=*/*.parquet', "
            "hive_partitioning = true), unnest(entities) as u(e) where e.label = 'PERSON'"
        ).fetchall()
    }
    assert {"Rajnath Singh", "Pete Hegseth"} <= people
    texts = [row[0] for row in articles(output).select("text").fetchall()]
    debris_article = [t for t in texts if "strained India-US trade caused by Trump" in t]
    assert len(debris_article) == 1
    assert "pic.twitter.com" not in debris_article[0]
    assert "(@ANI)" not in debris_article[0]
    assert "#WATCH" not in debris_article[0]
    assert "Speaking to the media about the Defence Framework" in debris_article[0]


def test_seed_dates_from_markers(seeds_run):
    output, _ = seeds_run
    marked = duckdb.sql(
        f"select count(*) from read_parquet('{output}/event_id=*/date=*/*.parquet', hive_partitioning = true) "
        "where date = DATE '2025-10-31' and date_source = 'marker'"
    ).fetchall()[0][0]
    assert marked == 2


def test_reprint_fixture_is_marked_as_a_copy_with_its_lag(golden_output):
    output = golden_output
    manifest = json.loads((output / "_run.json").read_text())
    assert (manifest["records_read"], manifest["rows_written"], manifest["dead_letters"]) == (6, 6, 0)
    rows = {
        r["source_ref"].rsplit("/", 1)[-1]: r
        for r in records(
            articles(output).select(
                "source_ref, article_id, canonical_id, is_canonical, lag_seconds, dup_group_id, event_id"
            )
        )
    }
    original = rows["000_ebedc5cfecfe2817.txt"]
    reprint = rows["reprint_of_seed_000.jsonl:1"]
    assert reprint["canonical_id"] == original["article_id"]
    assert not reprint["is_canonical"] and original["is_canonical"]
    assert reprint["dup_group_id"] == original["dup_group_id"]
    # Marker date 2025-10-31 (midnight UTC) vs. published 06:30 UTC.
    assert reprint["lag_seconds"] == 6 * 3600 + 30 * 60
    assert reprint["event_id"] == original["event_id"]
    others = [r for k, r in rows.items() if k not in {"000_ebedc5cfecfe2817.txt", "reprint_of_seed_000.jsonl:1"}]
    assert all(r["is_canonical"] and r["canonical_id"] == r["article_id"] for r in others)


def test_bad_input_is_conserved_with_reasons(tmp_path):
    output = tmp_path / "out"
    result = run_newsbeam("--input", str(FIXTURES / "bad_input" / "*"), "--output", str(output))
    read, written, dead, conserved = counts_of(result)
    assert conserved == "yes" and read == written + dead and dead > 0
    reasons = {
        r[0]
        for r in duckdb.sql(f"select reason from read_parquet('{output}/_dead_letters/*.parquet')").fetchall()
    }
    assert {"empty_file", "binary_file", "invalid_json", "missing_text", "no_article_text"} <= reasons
    # Decodable encodings are rows, not dead letters.
    refs = [r[0] for r in articles(output).select("source_ref").fetchall()]
    assert any("cp1252" in ref for ref in refs) and any("utf16" in ref for ref in refs)


def test_rerun_into_the_same_directory_gives_the_same_content(seeds_run, tmp_path):
    output, _ = seeds_run
    before = _content_without_ingest_time(output)
    run_newsbeam("--output", str(output))
    assert _content_without_ingest_time(output) == before
    assert articles(output).count("*").fetchall()[0][0] == 5


def test_two_worker_processes_give_the_same_content_without_their_start_up_chatter(seeds_run, tmp_path):
    """`--direct_running_mode multi_processing`: Beam starts its worker processes without
    the run's options, and each printed about twenty INFO lines of its start-up; the run
    hands them the log level (pipeline.runners.subprocess_worker_options)."""
    output, _ = seeds_run
    result = run_newsbeam(
        "--output", str(tmp_path / "out"), "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"
    )
    assert counts_of(result) == (5, 5, 0, "yes")
    assert _content_without_ingest_time(tmp_path / "out") == _content_without_ingest_time(output)
    assert "Load pipeline options from file" in result.stderr  # the workers read the run's options
    for chatter in ("Pipeline_options: {}", "Control channel established", "semi_persistent_directory"):
        assert chatter not in result.stderr, result.stderr


def _content_without_ingest_time(output: pathlib.Path) -> dict[str, list]:
    """Every published file with its rows, minus ingested_at (the run's own clock)."""
    content = {}
    for path in sorted(output.glob("event_id=*/date=*/*.parquet")):
        table = pq.read_table(path).drop_columns(["ingested_at"])
        content[str(path.relative_to(output))] = table.to_pylist()
    return content


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--input", "/nonexistent/*.txt"), "matched no files"),
        (("--feed", "ftp://example.org/feed.xml"), "only http and https"),
        (("--streaming",), "needs --input folders to watch or feeds to poll"),
        (("--config", "/nonexistent.yaml"), "cannot read configuration"),
    ],
)
def test_unusable_runs_fail_with_a_clear_message(args, message, tmp_path):
    result = run_newsbeam(*args, "--output", str(tmp_path / "out"), check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("streaming", [False, True])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, streaming):
    (tmp_path / "a-file").write_text("not a directory")
    output = tmp_path / "a-file" / "out"
    flags = ("--streaming", "--max-rounds", "1") if streaming else ()
    result = run_newsbeam("--input", str(SEEDS_DIR / "*.txt"), *flags, "--output", str(output), check=False)
    assert result.returncode == 2
    assert f"cannot write to --output {output}: Not a directory" in result.stderr
    assert "Traceback" not in result.stderr and "records read" not in result.stdout
