"""DuckDB over a newsbeam output directory, with the project's views defined.

`views.sql`, one file, defines `articles`, `dead_letters`, `event_entities`,
`events`, `copy_groups`, `wire_copies` and the table macro `who_carried(word)`
over the directory named by the DuckDB variable `newsbeam_output`.
"""

from __future__ import annotations

import importlib.resources
import pathlib
import sys

import duckdb

VIEWS_FILE = "views.sql"


def view_sql() -> str:
    return (importlib.resources.files(__name__) / VIEWS_FILE).read_text(encoding="utf-8")


# How views.sql reads the article files; `connect` swaps it for an empty table when there are none.
ARTICLE_FILES = "read_parquet(getvariable('newsbeam_output') || '/event_id=*/date=*/*.parquet', hive_partitioning = true)"
_NO_ARTICLES = "newsbeam_no_articles"


class OutputDirError(ValueError):
    """The directory is not a newsbeam output."""


def _count_files(connection: duckdb.DuckDBPyConnection, pattern: str) -> int:
    return connection.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchall()[0][0]


def connect(output_dir: str, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every newsbeam view defined over output_dir.

    An output whose every record became a dead letter has no article files; its views are
    defined over an empty table of the article schema, so "what failed, and why" can be asked
    there too.
    """
    output = str(output_dir).rstrip("/")
    local = "://" not in output
    if local and not pathlib.Path(output).is_dir():
        raise OutputDirError(f"{output_dir}: no such directory")
    connection = duckdb.connect(database)
    connection.execute("SET VARIABLE newsbeam_output = ?", [output])
    articles = _count_files(connection, output + "/event_id=*/date=*/*.parquet")
    if not articles and not _count_files(connection, output + "/_dead_letters/*.parquet"):
        raise OutputDirError(f"{output_dir}: not a newsbeam output (no article files and no _dead_letters/)")
    sql = view_sql()
    if not articles:
        from transforms.schema import ARTICLE_SCHEMA

        if ARTICLE_FILES not in sql:
            raise RuntimeError(f"{VIEWS_FILE} no longer reads the articles as {ARTICLE_FILES}")
        connection.register(_NO_ARTICLES, ARTICLE_SCHEMA.empty_table())
        sql = sql.replace(ARTICLE_FILES, _NO_ARTICLES)
    connection.execute(sql)
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
