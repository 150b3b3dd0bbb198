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
    if "_dead_letters" in query:
        assert rows == []  # the golden input has no bad records
    else:
        assert rows, f"no rows from:\n{query}"
