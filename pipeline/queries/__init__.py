"""DuckDB over a newsbeam output directory, with the project's views defined.

`views.sql` defines `articles`, `dead_letters`, `events` and `event_entities`;
every other `*.sql` file in this folder (e.g. `wire_copies.sql`) is read after
it, in name order, and may build on those views.
"""

from __future__ import annotations

import importlib.resources
import sys

import duckdb

BASE_VIEWS = "views.sql"


def view_files() -> list[str]:
    folder = importlib.resources.files(__name__)
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql") and p.name != BASE_VIEWS)
    return [BASE_VIEWS, *names]


def view_sql() -> str:
    folder = importlib.resources.files(__name__)
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in view_files())


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
