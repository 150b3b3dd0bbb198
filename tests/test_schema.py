"""The typed record and the Arrow schema must describe the same columns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

import pyarrow as pa

from transforms.schema import (
    ARTICLE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    ENTITY_TYPE,
    UNKNOWN_DATE_PARTITION,
    Article,
    DeadLetter,
    Entity,
    article_to_row,
    make_article_id,
    row_to_article,
)

# Columns that are computed from other fields rather than stored on the record.
DERIVED_COLUMNS = {"date": pa.date32()}

PYTHON_TO_ARROW = {
    str: pa.string(),
    int: pa.int64(),
    bool: pa.bool_(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(hint) -> tuple[pa.DataType, bool]:
    """(arrow type, nullable) for a dataclass field's type hint."""
    nullable = False
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(hint))
        (hint,) = args
    if typing.get_origin(hint) is tuple:
        (item, _) = typing.get_args(hint)
        assert item is Entity
        return pa.list_(pa.field("item", ENTITY_TYPE, nullable=False)), nullable
    return PYTHON_TO_ARROW[hint], nullable


def _expected_schema(record_type) -> dict[str, tuple[pa.DataType, bool]]:
    hints = typing.get_type_hints(record_type)
    return {f.name: _arrow_type(hints[f.name]) for f in dataclasses.fields(record_type)}


def test_article_schema_mirrors_the_record():
    expected = _expected_schema(Article)
    actual = {f.name: (f.type, f.nullable) for f in ARTICLE_SCHEMA}
    for name, arrow_type in DERIVED_COLUMNS.items():
        assert actual.pop(name)[0] == arrow_type
    assert actual == expected


def test_dead_letter_schema_mirrors_the_record():
    actual = {f.name: (f.type, f.nullable) for f in DEAD_LETTER_SCHEMA}
    assert actual == _expected_schema(DeadLetter)


def test_entity_struct_mirrors_the_record():
    assert [f.name for f in ENTITY_TYPE] == [f.name for f in dataclasses.fields(Entity)]


def _article(**changes) -> Article:
    base = Article(
        article_id="a1",
        url="https://example.org/a",
        outlet="Example",
        title="Title",
        text="Body text.",
        published_at=dt.datetime(2025, 10, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
        language="en",
        source_kind="jsonl",
        source_ref="dump.jsonl:1",
        ingested_at=dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc),
        entities=(Entity("Singh", "PERSON", "Rajnath Singh"),),
    )
    return base.replace(**changes)


def test_partition_date_is_the_utc_day():
    # 23:30 at UTC-2 is 01:30 the next day in UTC.
    assert _article().date_partition == "2025-11-01"
    assert _article(published_at=None).date_partition == UNKNOWN_DATE_PARTITION


def test_rows_round_trip_through_arrow():
    article = _article()
    table = pa.Table.from_pylist([article_to_row(article)], schema=ARTICLE_SCHEMA)
    assert table.schema == ARTICLE_SCHEMA
    back = row_to_article(table.to_pylist()[0])
    assert back == article.replace(published_at=article.published_at.astimezone(dt.timezone.utc))


def test_article_ids_are_stable_and_content_sensitive():
    assert make_article_id("https://x/a", "text") == make_article_id("https://x/a", "text")
    assert make_article_id("https://x/a", "text") != make_article_id("https://x/a", "text 2")
    assert make_article_id("https://x/a", "text") != make_article_id("https://x/b", "text")
