"""The DuckDB views of `newsbeam sql`, checked against values computed
independently from the Parquet files with pyarrow."""

from __future__ import annotations

import collections
import csv
import io
import json
import pathlib
import re
import subprocess

import pyarrow.parquet as pq
import pytest

from pipeline.queries import OutputDirError, connect, interactive, print_relation, records, view_sql
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
    empty_note = r"not a newsbeam output .*; it is empty: nothing is published here yet"
    with pytest.raises(OutputDirError, match=empty_note):
        connect(str(tmp_path / "empty"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not an output")
    plain = r"not a newsbeam output \(no article files, no _dead_letters/, no _run.json and no _windows/\)$"
    with pytest.raises(OutputDirError, match=plain):
        connect(str(tmp_path / "other"))
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


# ---------------------------------------------------------------- results printed in full


def _printed(relation, output_format: str) -> str:
    out = io.StringIO()
    print_relation(relation, output_format, file=out)
    return out.getvalue()


def test_a_result_is_printed_with_every_row_and_column(db):
    # DuckDB's own printing showed 20 of 1000 rows, 6 of who_carried's 9 columns and cut long values.
    lines = _printed(db.sql("select range as n, repeat('x', 300) as wide from range(1000)"), "table").splitlines()
    assert lines[0].split(" | ") == ["  n", "wide"] and set(lines[1]) == {"-", "+"}
    assert [line.split(" | ")[0].strip() for line in lines[2:-1]] == [str(n) for n in range(1000)]
    assert all(line.endswith(" | " + "x" * 300) for line in lines[2:-1])
    assert lines[-1] == "(1000 rows)"

    carried = _printed(db.sql("select * from who_carried('pact')"), "table").splitlines()
    header = [name.strip() for name in carried[0].split(" | ")]
    assert header == db.sql("select * from who_carried('pact')").columns and "outlet" in header and "title" in header
    assert "The Deccan Courier" in carried[3] and carried[-1] == "(2 rows)"


def test_table_cells_stay_on_one_line_and_in_their_columns(db):
    query = "select 'a\nb\tc' as raw, NULL as gone, '日本語' as wide, [1, 2] as ids, 3.5 as x"
    text = _printed(db.sql(query), "table")
    assert text.splitlines() == [
        "raw     | gone | wide   | ids    |   x",
        "--------+------+--------+--------+----",
        "a\\nb\\tc | NULL | 日本語 | [1, 2] | 3.5",
        "(1 row)",
    ]


def test_csv_and_json_lines_carry_every_value(db):
    query = (
        "select article_id, title, published_at, entities, is_canonical, lag_seconds from articles order by article_id"
    )
    expected = records(db.sql(query))
    rows = list(csv.DictReader(io.StringIO(_printed(db.sql(query), "csv"))))
    assert [r["article_id"] for r in rows] == [r["article_id"] for r in expected]
    for got, want in zip(rows, expected):
        assert got["title"] == want["title"]
        assert got["published_at"] == ("" if want["published_at"] is None else want["published_at"].isoformat(sep=" "))
        assert json.loads(got["entities"]) == want["entities"]
        assert got["is_canonical"] == str(want["is_canonical"]).lower()

    objects = [json.loads(line) for line in _printed(db.sql(query), "json").splitlines()]
    assert len(objects) == len(expected)
    for got, want in zip(objects, expected):
        published = want["published_at"].isoformat() if want["published_at"] is not None else None
        assert got == {**want, "published_at": published}
    repeated = _printed(db.sql("select 1 as a, 2 as a, 'nan'::double as d"), "json")
    assert [json.loads(line) for line in repeated.splitlines()] == [{"a": 1, "a_2": 2, "d": None}]
    with pytest.raises(ValueError, match="table, csv, json"):
        print_relation(db.sql("select 1"), "xml")


# ---------------------------------------------------------------- the prompt


def _prompt(connection, typed: str, output_format: str = "table") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = interactive(connection, output_format, stdin=io.StringIO(typed), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _defined_in_views_sql() -> set[str]:
    return set(re.findall(r"^CREATE OR REPLACE (?:VIEW|MACRO) (\w+)", view_sql(), re.M))


def test_the_banner_and_dot_tables_name_every_view_and_macro(db):
    names = _defined_in_views_sql()
    assert {"copy_groups", "who_carried"} <= names
    code, out, err = _prompt(db, ".tables\n.quit\n")
    assert code == 0
    banner_line = err.splitlines()[0]
    for name in names:
        assert re.search(rf"\b{name}\b", banner_line), name
    assert "who_carried(word)" in banner_line
    listed = {line.split(" | ")[0].strip(): line.split(" | ")[1].strip() for line in out.splitlines()[2:-1]}
    assert {name.split("(")[0] for name in listed} == names
    assert listed["who_carried(word)"] == "table macro" and listed["wire_copies"] == "view"


def test_an_empty_line_does_not_quit_and_a_statement_may_span_lines(db):
    code, out, err = _prompt(db, "\nselect 1 as one;\n\nselect\n\n  2 as two;\nselect 3 as three;\n")
    assert code == 0
    assert [line for line in out.splitlines() if line.strip() in ("1", "2", "3")] == ["  1", "  2", "    3"]
    assert "error" not in err


def test_quit_exit_mode_help_and_errors_at_the_prompt(db):
    typed = "select nope;\n.mode json\nselect 1 as a; select 2 as b;\n.bogus\n.help\n.exit\nselect 'after';\n"
    code, out, err = _prompt(db, typed)
    assert code == 0
    assert '{"a": 1}\n{"b": 2}\n' in out and ".tables" in out and "after" not in out
    assert "error: Binder Error" in err and "unknown command .bogus" in err
    code, out, _ = _prompt(db, "select 5 as five", "csv")  # end of input runs the statement left without ';'
    assert out == "five\n5\n"
    assert _prompt(db, ".quit\nselect 1;\n")[1] == ""


def test_newsbeam_sql_prompt_through_the_command(golden_output):
    result = subprocess.run(
        [NEWSBEAM, "sql", str(golden_output)],
        input="\n.tables\nselect outlet\n\nfrom wire_copies order by carried_order;\n.quit\n",
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "copy_groups" in result.stderr.splitlines()[0] and "who_carried(word)" in result.stderr.splitlines()[0]
    assert "who_carried(word) | table macro" in result.stdout
    assert "The Deccan Courier" in result.stdout and "newsbeam>" not in result.stdout  # no prompt when piped


# ---------------------------------------------------------------- dead letters' `at`


def test_dead_letters_have_failed_at_beside_the_keyword_at(dead_letters_only):
    connection = connect(str(dead_letters_only))
    rows = records(connection.sql('select reason, failed_at, "at" from dead_letters order by reason'))
    assert len(rows) == 2 and all(r["failed_at"] == r["at"] and r["failed_at"] is not None for r in rows)
    assert connection.sql("select * from dead_letters").columns[-2:] == ["at", "failed_at"]


# ---------------------------------------------------------------- outputs with no rows yet


def test_the_layout_read_here_is_the_writers():
    from pipeline import queries
    from transforms import write_parquet

    assert queries.ARTICLE_GLOB == write_parquet.ARTICLE_GLOB
    assert queries.DEAD_LETTER_GLOB == write_parquet.DEAD_LETTER_GLOB
    assert queries.MANIFEST_NAME == write_parquet.MANIFEST_NAME
    assert queries.WINDOW_MANIFEST_GLOB == f"{write_parquet.WINDOWS_DIR}/*.json"
    assert queries.STAGING_PREFIX == write_parquet.STAGING_PREFIX
    assert queries.REPORT_DIR == write_parquet.REPORT_DIR


@pytest.fixture(scope="module")
def unbounded_outputs(golden_output, tmp_path_factory) -> dict[str, pathlib.Path]:
    """Outputs of an unbounded run's writer (landing-time windows, as on Dataflow), run on the local
    streaming runner: `nothing_yet` has read records and published no row or dead letter so far;
    `no_dead_letters` has the golden output's articles and no dead letter."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.test_stream import TestStream

    from tests.conftest import STREAMING_RUNNER
    from transforms.schema import row_to_article
    from transforms.write_parquet import WriteParquet

    folder = tmp_path_factory.mktemp("unbounded")
    articles = [
        row_to_article(row) for path in sorted(golden_output.glob("event_id=*/date=*/*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]
    options = PipelineOptions(runner=STREAMING_RUNNER)
    options.view_as(StandardOptions).streaming = True
    events = TestStream().add_elements([("record", i) for i in range(len(articles))])
    events = events.add_elements([("article", a) for a in articles]).advance_watermark_to_infinity()
    with TestPipeline(runner=STREAMING_RUNNER, options=options) as p:
        arriving = p | events
        records_read = arriving | "Records" >> beam.FlatMap(lambda e: [e[1]] if e[0] == "record" else [])
        none = arriving | "NoRows" >> beam.FlatMap(lambda e: [])
        {"articles": none, "dead_letters": none, "records_read": records_read} | "NothingYet" >> WriteParquet(
            str(folder / "nothing_yet"), "stream1"
        )
        {
            "articles": arriving | "Articles" >> beam.FlatMap(lambda e: [e[1]] if e[0] == "article" else []),
            "dead_letters": none,
            "records_read": records_read,
        } | "NoDeadLetters" >> WriteParquet(str(folder / "no_dead_letters"), "stream2")
    outputs = {"nothing_yet": folder / "nothing_yet", "no_dead_letters": folder / "no_dead_letters"}
    assert [p.parent.name for p in outputs["nothing_yet"].rglob("*") if p.is_file()] == ["_windows"]
    assert not list(outputs["no_dead_letters"].glob("_dead_letters/*.parquet"))
    return outputs


def test_a_stream_that_has_published_no_row_yet_has_empty_views(unbounded_outputs, db):
    empty = connect(str(unbounded_outputs["nothing_yet"]))
    for view in ("articles", "dead_letters", "events", "wire_copies", "copy_groups", "event_entities"):
        assert empty.sql(f"select count(*) from {view}").fetchall()[0] == (0,), view
    assert empty.sql("select count(*) from who_carried('pact')").fetchall()[0] == (0,)
    for view in ("articles", "dead_letters"):
        assert empty.sql(f"describe {view}").fetchall() == db.sql(f"describe {view}").fetchall(), view
    assert build_report(str(unbounded_outputs["nothing_yet"])).name == "index.html"


def test_a_stream_without_dead_letters_answers_with_none(unbounded_outputs, db):
    connection = connect(str(unbounded_outputs["no_dead_letters"]))
    assert connection.sql("select count(*) from dead_letters").fetchall()[0] == (0,)
    count = "select count(*) from articles"
    assert connection.sql(count).fetchall() == db.sql(count).fetchall()
    assert len(records(connection.sql("select * from who_carried('pact')"))) == 2
    assert build_report(str(unbounded_outputs["no_dead_letters"])).name == "index.html"
