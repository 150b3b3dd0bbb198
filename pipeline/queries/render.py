"""A query result printed in full: every row and every column, nothing cut.

DuckDB's own printing (`print(relation)`) draws a box that fits a screen: a
long result shows 20 of its rows, columns past the width are dropped and long
values cut with '…' (`69 rows (20 shown)`, `9 columns (6 shown)`). That suits a
notebook, not `newsbeam sql -c QUERY > file`. `print_relation` prints
everything, in one of `FORMATS`:

- `table`: aligned columns for reading (a terminal, `less -S`, a file), a
  header, a rule and `(N rows)`; NULL as `NULL`; line breaks and tabs inside
  a value shown as `\\n`, `\\r`, `\\t` so that each row stays one line;
- `csv`: RFC 4180 with a header row; NULL as an empty field; lists and
  structs as JSON text;
- `json`: JSON Lines, one object per row; timestamps and dates as ISO 8601
  strings, NaN and infinities as null.

    newsbeam sql out -c "select * from who_carried('framework')"
    newsbeam sql out -c "select * from wire_copies" --format csv > wire_copies.csv
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import sys
import unicodedata
import uuid
from typing import Any, Iterable, Iterator, Optional, TextIO

import duckdb

FORMATS = ("table", "csv", "json")
_BATCH_ROWS = 2048
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def print_relation(
    relation: Optional[duckdb.DuckDBPyRelation], output_format: str = "table", file: Optional[TextIO] = None
) -> int:
    """Print every row and column of `relation` to `file` (stdout) as `output_format`; returns the row count.

    `relation` None (what DuckDB returns for a statement without a result) prints nothing.
    csv and json rows are written as they are read; table reads them all first to size its columns.
    """
    if relation is None:
        check_format(output_format)
        return 0
    return print_rows(list(relation.columns), _rows(relation), output_format, file)


def print_rows(
    columns: list[str], rows: Iterable[tuple], output_format: str = "table", file: Optional[TextIO] = None
) -> int:
    """Print rows of Python values under their column names, as `print_relation` does; returns the row count."""
    check_format(output_format)
    out = sys.stdout if file is None else file
    if output_format == "csv":
        return _write_csv(columns, rows, out)
    if output_format == "json":
        return _write_json_lines(columns, rows, out)
    return _write_table(columns, list(rows), out)


def check_format(output_format: str) -> None:
    """Raise ValueError unless output_format is one of FORMATS."""
    if output_format not in FORMATS:
        raise ValueError(f"output format {output_format!r} is not one of {', '.join(FORMATS)}")


def _rows(relation: duckdb.DuckDBPyRelation) -> Iterator[tuple]:
    """The relation's rows, a batch at a time, from one execution of it."""
    if hasattr(relation, "iter_rows"):  # duckdb 2
        yield from relation.iter_rows(batch_size=_BATCH_ROWS)
        return
    while batch := relation.fetchmany(_BATCH_ROWS):  # duckdb 1.x
        yield from batch


# ---------------------------------------------------------------- table


def _write_table(names: list[str], rows: list[tuple], out: TextIO) -> int:
    cells = [[_table_cell(value) for value in row] for row in rows]
    numeric = [
        any(row[i] is not None for row in rows) and all(row[i] is None or _is_number(row[i]) for row in rows)
        for i in range(len(names))
    ]
    headers = [_escape(name) for name in names]
    widths = [max([_width(headers[i]), *(_width(row[i]) for row in cells)]) for i in range(len(names))]

    def line(values: list[str]) -> str:
        padded = [_pad(value, widths[i], right=numeric[i]) for i, value in enumerate(values)]
        return " | ".join(padded).rstrip()

    out.write(line(headers) + "\n")
    out.write("-+-".join("-" * width for width in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")
    return len(rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _table_cell(value: Any) -> str:
    return _escape(_text(value, null="NULL"))


def _text(value: Any, null: str) -> str:
    """A value as DuckDB's shell writes it: lists [a, b], structs {'k': v}, NULL as `null`."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(item, "NULL") for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"'{key}': {_text(item, 'NULL')}" for key, item in value.items()) + "}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)


def _escape(text: str) -> str:
    """Control characters made visible, so one row is one line."""
    if text.isprintable():
        return text
    return "".join(_ESCAPES.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch) for ch in text)


def _width(text: str) -> int:
    """Columns the text takes in a terminal: wide East Asian characters 2, combining marks 0."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.category(ch) in ("Mn", "Me", "Cf") else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


# ---------------------------------------------------------------- csv


def _write_csv(names: list[str], rows: Iterable[tuple], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
        count += 1
    return count


def _csv_cell(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return _text(value, null="")


# ---------------------------------------------------------------- json lines


def _write_json_lines(names: list[str], rows: Iterable[tuple], out: TextIO) -> int:
    keys = _unique(names)
    count = 0
    for row in rows:
        record = {key: _json_value(value) for key, value in zip(keys, row)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _unique(names: list[str]) -> list[str]:
    """Column names as object keys: a repeated name (`select a.x, b.x`) gets `_2`, `_3`, ... rather than
    overwriting the first."""
    keys: list[str] = []
    for name in names:
        key, n = name, 1
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
