"""DuckDB over a newsbeam output directory, with the project's views defined.

`views.sql`, one file, defines `articles`, `dead_letters`, `event_entities`,
`events`, `copy_groups`, `wire_copies` and the table macro `who_carried(word)`
over the directory named by the DuckDB variable `newsbeam_output`.
"""

from __future__ import annotations

import importlib.resources
import sys

import duckdb

VIEWS_FILE = "views.sql"


def view_sql() -> str:
    return (importlib.resources.files(__name__) / VIEWS_FILE).read_text(encoding="utf-8")


def connect(output_dir: str, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every newsbeam view defined over output_dir."""
    connection = duckdb.connect(database)
    connection.execute("SET VARIABLE newsbeam_output = ?", [str(output_dir).rstrip("/")])
    connection.execute(view_sql())
    return connection


def records(relation: duckdb.DuckDBPyRelation) -> list[dict]:
    """A query result as a list of dicts (no pandas needed)."""
    columns = relation.columns
    return [dict(zip(columns, row)) for row in relation.fetchall()]


def interactive(connection: duckdb.DuckDBPyConnection) -> int:
    """A small SQL prompt: statements end with ';', an empty line or EOF quits."""
    print("newsbeam sql: views articles, wire_copies, events, event_entities, dead_letters. "
          "End statements with ';', quit with Ctrl-D.", file=sys.stderr)
    buffer: list[str] = []
    while True:
        try:
            line = input("newsbeam> " if not buffer else "      ...> ")
        except EOFError:
            print(file=sys.stderr)
            return 0
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if not statement.endswith(";"):
            continue
        buffer.clear()
        try:
            result = connection.sql(statement)
            if result is not None:
                print(result)
        except duckdb.Error as error:
            print(f"error: {error}", file=sys.stderr)
