"""The labelled JSONL files the evaluations read (`.jsonl` or `.jsonl.gz`), one reader for all."""

from __future__ import annotations

import gzip
import json
import pathlib
from typing import Iterator, Union

PathLike = Union[str, pathlib.Path]


def text_lines(path: PathLike) -> Iterator[str]:
    """The lines of a text file, gzip-compressed when its name ends in .gz."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        yield from lines


def first_record(path: PathLike) -> dict:
    """The first record of a JSONL file, or a ValueError that says what is wrong with the file.

    The evaluations check it before any pipeline starts, so a missing file or one of another
    format is refused in one line (a missing file raises OSError).
    """
    first = next((line for line in text_lines(path) if line.strip()), None)
    if first is None:
        raise ValueError(f"{path} holds no records")
    try:
        record = json.loads(first)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the first record is not JSON ({error})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}: the first record is not a JSON object")
    return record
