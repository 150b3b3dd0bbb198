"""DuckDB over a newsbeam output directory, with the project's views defined.

`views.sql`, one file, defines the views `articles`, `dead_letters`,
`event_entities`, `events`, `copy_groups`, `wire_copies` and the table macro
`who_carried(word)` over the directory named by the DuckDB variable
`newsbeam_output`; `catalog` lists what a connection defines (the prompt's
banner and `.tables` read it). `print_relation` (render.py) prints a result in
full, as a table, CSV or JSON Lines.

    newsbeam sql out
    newsbeam sql out -c "select * from who_carried('framework')"
"""

from __future__ import annotations

import importlib.resources
import pathlib
import sys
from typing import Optional, TextIO

import duckdb

from pipeline.queries.render import FORMATS, check_format, print_relation, print_rows

__all__ = [
    "FORMATS", "OutputDirError", "banner", "catalog", "check_format", "connect", "interactive", "print_relation",
    "print_rows", "records", "view_sql",
]

VIEWS_FILE = "views.sql"

# The output layout of transforms/write_parquet.py (ARTICLE_GLOB, DEAD_LETTER_GLOB, MANIFEST_NAME,
# WINDOWS_DIR, STAGING_PREFIX and REPORT_DIR), repeated here so that `newsbeam sql` and `newsbeam
# report` start without importing Beam; tests/test_views.py checks that the two agree.
ARTICLE_GLOB = "event_id=*/date=*/*.parquet"
DEAD_LETTER_GLOB = "_dead_letters/*.parquet"
MANIFEST_NAME = "_run.json"
WINDOW_MANIFEST_GLOB = "_windows/*.json"
STAGING_PREFIX = ".staging-"
REPORT_DIR = "_report"  # newsbeam report's page; a replacing batch run removes it

# How views.sql reads the files; `connect` swaps each for an empty table of its schema when
# the output has none of them yet.
ARTICLE_FILES = "read_parquet(getvariable('newsbeam_output') || '/event_id=*/date=*/*.parquet', hive_partitioning = true)"
DEAD_LETTER_FILES = "read_parquet(getvariable('newsbeam_output') || '/_dead_letters/*.parquet')"
_EMPTY_ARTICLES = "newsbeam_no_articles"
_EMPTY_DEAD_LETTERS = "newsbeam_no_dead_letters"


def view_sql() -> str:
    return (importlib.resources.files(__name__) / VIEWS_FILE).read_text(encoding="utf-8")


class OutputDirError(ValueError):
    """The directory is not a newsbeam output."""


def _count_files(connection: duckdb.DuckDBPyConnection, pattern: str) -> int:
    return connection.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchall()[0][0]


def connect(output_dir: str, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every newsbeam view defined over output_dir.

    A newsbeam output has article files, dead-letter files, a run manifest (`_run.json`: batch
    runs and the rounds of a local streaming run) or window manifests (`_windows/`: unbounded
    runs). Views over files the output does not have yet (every record became a dead letter;
    a stream that has published no row, or no dead letter, so far) read an empty table of the
    same schema, so every view answers, with zero rows where there are none.
    """
    output = str(output_dir).rstrip("/")
    local = "://" not in output
    if local and not pathlib.Path(output).is_dir():
        raise OutputDirError(f"{output_dir}: no such directory")
    connection = duckdb.connect(database)
    connection.execute("SET VARIABLE newsbeam_output = ?", [output])
    found = {
        pattern: _count_files(connection, f"{output}/{pattern}")
        for pattern in (ARTICLE_GLOB, DEAD_LETTER_GLOB, MANIFEST_NAME, WINDOW_MANIFEST_GLOB)
    }
    if not any(found.values()):
        raise OutputDirError(
            f"{output_dir}: not a newsbeam output (no article files, no _dead_letters/, no {MANIFEST_NAME} "
            f"and no _windows/){_nothing_published_yet(output) if local else ''}"
        )
    sql = view_sql()
    if not (found[ARTICLE_GLOB] and found[DEAD_LETTER_GLOB]):
        from transforms.schema import ARTICLE_SCHEMA, DEAD_LETTER_SCHEMA

        for pattern, files, empty, schema in (
            (ARTICLE_GLOB, ARTICLE_FILES, _EMPTY_ARTICLES, ARTICLE_SCHEMA),
            (DEAD_LETTER_GLOB, DEAD_LETTER_FILES, _EMPTY_DEAD_LETTERS, DEAD_LETTER_SCHEMA),
        ):
            if found[pattern]:
                continue
            if files not in sql:
                raise RuntimeError(f"{VIEWS_FILE} no longer reads {pattern} as {files}")
            connection.register(empty, schema.empty_table())
            sql = sql.replace(files, empty)
    connection.execute(sql)
    return connection


def _nothing_published_yet(output: str) -> str:
    """What an empty folder may be: a streaming run's output before its first publish."""
    names = [entry.name for entry in pathlib.Path(output).iterdir()]
    if not names:
        return "; it is empty: nothing is published here yet (a streaming run publishes once it has input)"
    if all(name.startswith(STAGING_PREFIX) for name in names):
        return "; a run is staging its first files here and has published nothing yet"
    return ""


def records(relation: duckdb.DuckDBPyRelation) -> list[dict]:
    """A query result as a list of dicts (no pandas needed)."""
    columns = relation.columns
    return [dict(zip(columns, row)) for row in relation.fetchall()]


_CATALOG_SQL = """
SELECT view_name AS name, 'view' AS kind FROM duckdb_views() WHERE NOT internal
UNION ALL
SELECT table_name, 'table' FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT function_name || '(' || array_to_string(parameters, ', ') || ')',
       CASE function_type WHEN 'table_macro' THEN 'table macro' ELSE 'macro' END
FROM duckdb_functions()
WHERE NOT internal AND function_type IN ('macro', 'table_macro')
"""
_KIND_ORDER = ("view", "table", "table macro", "macro")


def catalog(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, kind) of every view, table and macro the connection defines: newsbeam's, and any
    the user created since; kinds 'view', 'table', 'table macro', 'macro'. Macros are named
    with their parameters: `who_carried(word)`."""
    rows = connection.sql(_CATALOG_SQL).fetchall()
    shown = [(name, kind) for name, kind in rows if name not in (_EMPTY_ARTICLES, _EMPTY_DEAD_LETTERS)]
    return sorted(shown, key=lambda row: (_KIND_ORDER.index(row[1]), row[0]))


def banner(connection: duckdb.DuckDBPyConnection) -> str:
    """The prompt's first line: what can be queried, and how to get out."""
    by_kind: dict[str, list[str]] = {}
    for name, kind in catalog(connection):
        by_kind.setdefault(kind, []).append(name)
    listed = "; ".join(f"{kind}{'s' if len(names) > 1 else ''} {', '.join(names)}" for kind, names in by_kind.items())
    return (
        f"newsbeam sql: {listed}. End statements with ';'. "
        ".tables lists them, .mode table|csv|json, .help; .quit or Ctrl-D quits."
    )


_HELP = """\
.tables          the views, tables and macros to query
.mode [FORMAT]   print results as table (all rows and columns), csv or json (JSON Lines);
                 no FORMAT: the current one
.help            this text
.quit, .exit     leave (Ctrl-D too)
A statement runs when a line ends with ';'; it may span lines, empty ones included.
Ctrl-C drops the statement being typed."""


def interactive(
    connection: duckdb.DuckDBPyConnection,
    output_format: str = "table",
    *,
    stdin: Optional[TextIO] = None,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
) -> int:
    """A small SQL prompt, like DuckDB's shell: a statement runs when a line ends with ';' and may
    span several lines, empty ones included (an empty line does not quit). At the start of a
    statement, `.tables`, `.mode [table|csv|json]`, `.help`, `.quit` and `.exit`. End of input
    (Ctrl-D) quits, running a last statement left without its ';'; Ctrl-C drops the statement
    being typed, or stops the one running. Results are printed in full (`print_relation`).

    The prompts are shown only when stdin is a terminal (on stderr when stdout is not one), so
    `newsbeam sql out < queries.sql > results.txt` writes the results alone. Returns the exit code (0).
    """
    check_format(output_format)
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    terminal = stdin.isatty()
    editing = terminal and stdin is sys.stdin and stdout is sys.stdout and stdout.isatty()
    if editing:
        import readline  # noqa: F401  (line editing and history for input())
    print(banner(connection), file=stderr)
    buffer: list[str] = []
    while True:
        try:
            prompt = ("newsbeam> " if not buffer else "      ...> ") if terminal else ""
            line = _read_line(stdin, prompt, editing, stderr)
        except KeyboardInterrupt:
            buffer.clear()
            print(file=stderr)
            continue
        if line is None:
            if terminal:
                print(file=stderr)
            if "".join(buffer).strip():
                _run(connection, "\n".join(buffer), output_format, stdout, stderr)
            return 0
        if not buffer and line.strip().startswith("."):
            command, _, argument = line.strip().partition(" ")
            if command in (".quit", ".exit"):
                return 0
            output_format = _dot_command(connection, command, argument.strip(), output_format, stdout, stderr)
            continue
        if not buffer and not line.strip():
            continue
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if not statement.endswith(";"):
            continue
        buffer.clear()
        _run(connection, statement, output_format, stdout, stderr)


def _read_line(stdin: TextIO, prompt: str, editing: bool, stderr: TextIO) -> Optional[str]:
    """The next line, None at end of input; with line editing (input()) on a terminal."""
    if editing:
        try:
            return input(prompt)
        except EOFError:
            return None
    if prompt:
        stderr.write(prompt)
        stderr.flush()
    line = stdin.readline()
    return line.rstrip("\r\n") if line else None


def _dot_command(
    connection: duckdb.DuckDBPyConnection, command: str, argument: str, output_format: str, stdout: TextIO,
    stderr: TextIO,
) -> str:
    """Run one dot command other than .quit/.exit; returns the output format from now on."""
    if command == ".tables":
        print_rows(["name", "kind"], catalog(connection), output_format, file=stdout)
    elif command == ".mode" and not argument:
        print(output_format, file=stdout)
    elif command == ".mode" and argument in FORMATS:
        return argument
    elif command == ".mode":
        print(f"error: .mode takes one of {', '.join(FORMATS)}, not {argument!r}", file=stderr)
    elif command == ".help":
        print(_HELP, file=stdout)
    else:
        print(f"error: unknown command {command}; .help lists the commands", file=stderr)
    stdout.flush()
    return output_format


def _run(connection: duckdb.DuckDBPyConnection, text: str, output_format: str, stdout: TextIO, stderr: TextIO) -> None:
    """Run each statement of `text`, printing each result in full; errors are printed, not raised."""
    try:
        for statement in connection.extract_statements(text):
            print_relation(connection.sql(statement.query), output_format, file=stdout)
    except duckdb.Error as error:
        print(f"error: {error}", file=stderr)
    except KeyboardInterrupt:
        print("interrupted", file=stderr)
    stdout.flush()
