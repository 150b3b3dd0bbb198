"""Every SQL block of the README runs on a golden output and returns rows."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import REPO

SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_readme_has_queries():
    assert len(SQL_BLOCKS) >= 5


@pytest.mark.parametrize("query", SQL_BLOCKS, ids=[f"block{i}" for i in range(len(SQL_BLOCKS))])
def test_readme_query_runs_on_golden_output(query, golden_output):
    bound = query.replace("'out/", f"'{golden_output}/")
    assert bound != query, "README queries read from 'out/...'"
    relation = duckdb.sql(bound)
    rows = relation.fetchall()
    if "'out/_dead_letters" in query:
        assert rows == []  # the golden input has no bad records
    else:
        assert rows, f"no rows from:\n{query}"


VIEW_QUESTIONS = re.findall(
    r'^newsbeam sql out -c "(.*)"$', (REPO / "README.md").read_text(encoding="utf-8"), re.M
)


def test_the_readme_asks_questions_of_the_views():
    assert len(VIEW_QUESTIONS) >= 4


@pytest.mark.parametrize("query", VIEW_QUESTIONS, ids=[f"question{i}" for i in range(len(VIEW_QUESTIONS))])
def test_readme_view_question_runs_on_golden_output(query, golden_output):
    from pipeline.queries import connect

    relation = connect(str(golden_output)).sql(query)
    relation.fetchall()  # runs without error; today's events may be none on a 2025 sample
    assert relation.columns
