"""The DuckDB views of `newsbeam sql`, checked against values computed
independently from the Parquet files with pyarrow."""

from __future__ import annotations

import collections
import subprocess

import pyarrow.parquet as pq
import pytest

from pipeline.queries import OutputDirError, connect, records
from pipeline.report import build_report
from tests.conftest import NEWSBEAM, run_newsbeam


@pytest.fixture(scope="module")
def rows(golden_output) -> list[dict]:
    return [r for path in sorted(golden_output.glob("event_id=*/date=*/*.parquet")) for r in pq.read_table(path).to_pylist()]


@pytest.fixture(scope="module")
def db(golden_output):
    return connect(str(golden_output))


def test_articles_view_has_every_row_with_partition_columns(db, rows):
    got = {r["article_id"]: (r["event_id"], r["date"]) for r in records(db.sql("select * from articles"))}
    assert got == {r["article_id"]: (r["event_id"], r["date"]) for r in rows}


def test_wire_copies_names_the_earliest_copy_and_each_lag(db, rows):
    by_group = collections.defaultdict(list)
    for r in rows:
        by_group[r["dup_group_id"]].append(r)
    expected = {}
    for members in by_group.values():
        if len(members) < 2:
            continue
        first = min(members, key=lambda r: (r["published_at"] is None, r["published_at"], r["article_id"]))
        for m in members:
            expected[m["article_id"]] = (first["article_id"], int((m["published_at"] - first["published_at"]).total_seconds()))
    got = {
        r["article_id"]: (r["canonical_id"], r["lag_seconds"])
        for r in records(db.sql("select article_id, canonical_id, lag_seconds from wire_copies"))
    }
    assert got == expected and len(got) == 2
    carried = records(db.sql("select outlet, lag_seconds from who_carried('pact')"))
    assert [r["lag_seconds"] for r in carried] == [0, 23400]


def test_events_view_spans_counts_and_names(db, rows):
    by_event = collections.defaultdict(list)
    for r in rows:
        by_event[r["event_id"]].append(r)
    got = {r["event_id"]: r for r in records(db.sql("select * from events"))}
    assert set(got) == set(by_event)
    for event_id, members in by_event.items():
        dated = [m["published_at"] for m in members if m["published_at"] is not None]
        assert got[event_id]["articles"] == len(members)
        assert got[event_id]["first_published"] == min(dated)
        assert got[event_id]["last_published"] == max(dated)
        people = collections.Counter()
        for m in members:
            people.update({e["norm"] for e in m["entities"] if e["label"] == "PERSON"})
        top = [name for name, _ in sorted(people.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
        assert got[event_id]["top_people"] == top
        assert "Rajnath Singh" in got[event_id]["top_people"]


def test_event_entities_has_every_mention(db, rows):
    (count,) = db.sql("select count(*) from event_entities").fetchall()[0]
    assert count == sum(len(r["entities"]) for r in rows)


def test_dead_letters_view_reads_the_empty_table(db):
    assert db.sql("select count(*) from dead_letters").fetchall()[0] == (0,)


def test_newsbeam_sql_answers_who_carried_it(golden_output):
    result = subprocess.run(
        [NEWSBEAM, "sql", str(golden_output), "-c", "select outlet, lag_seconds from wire_copies order by carried_order"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "The Deccan Courier" in result.stdout and "23400" in result.stdout


@pytest.fixture(scope="module")
def dead_letters_only(tmp_path_factory):
    """A real run in which every record fails: the output has dead letters and no article file."""
    folder = tmp_path_factory.mktemp("dead_only")
    (folder / "broken.jsonl").write_text('not json\n{"title": "a record without text"}\n', encoding="utf-8")
    output = folder / "out"
    result = run_newsbeam("--input", str(folder / "broken.jsonl"), "--output", str(output))
    assert "read=2 written=0 dead_letters=2" in result.stdout
    assert not list(output.glob("event_id=*/date=*/*.parquet"))
    return output


def test_an_output_of_dead_letters_only_answers_what_failed(dead_letters_only, db):
    empty = connect(str(dead_letters_only))
    reasons = records(empty.sql("select reason, count(*) as n from dead_letters group by reason order by reason"))
    assert reasons == [{"reason": "invalid_json", "n": 1}, {"reason": "missing_text", "n": 1}]
    for view in ("articles", "events", "wire_copies", "event_entities"):
        assert empty.sql(f"select count(*) from {view}").fetchall()[0] == (0,), view
    # The empty articles view has the columns and types of a real one.
    assert empty.sql("describe articles").fetchall() == db.sql("describe articles").fetchall()
    assert build_report(str(dead_letters_only)).name == "index.html"


def test_a_directory_that_is_not_an_output_is_refused_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputDirError, match="not a newsbeam output"):
        connect(str(tmp_path / "empty"))
    for command in (["sql", str(tmp_path / "missing"), "-c", "select 1"], ["report", str(tmp_path / "empty")],
                    ["dead-letters", str(tmp_path / "missing")]):
        result = subprocess.run([NEWSBEAM, *command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, command
        assert result.stderr.startswith(f"newsbeam {command[0]}: ") and "Traceback" not in result.stderr, result.stderr


def test_newsbeam_sql_reports_a_bad_query_in_one_line(golden_output):
    result = subprocess.run(
        [NEWSBEAM, "sql", str(golden_output), "-c", "select no_such_column from articles"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("newsbeam sql: Binder Error") and "Traceback" not in result.stderr, result.stderr
