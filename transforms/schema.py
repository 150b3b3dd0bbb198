"""The one article record that flows through every stage, and its Arrow twin.

`Article` is the typed element of every article PCollection; `ARTICLE_SCHEMA`
is the explicit Parquet schema the writer uses (never inferred from data).
`tests/test_schema.py` checks that the two agree field by field, so adding a
field means adding it in both places.

Dead letters have the same pairing: `DeadLetter` and `DEAD_LETTER_SCHEMA`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Optional

import pyarrow as pa

UTC = dt.timezone.utc

# Partition value for articles whose publication date is unknown. It is the
# Hive convention for a null partition value, so DuckDB, Spark and pyarrow read
# the `date` column of those rows as NULL rather than as a string.
UNKNOWN_DATE_PARTITION = "__HIVE_DEFAULT_PARTITION__"

# How many characters of a failed input a dead letter keeps in `raw`.
DEAD_LETTER_RAW_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Entity:
    """One named-entity mention, with the name it is grouped under."""

    text: str  # the mention as written in the article
    label: str  # spaCy label: PERSON, ORG, GPE, LOC, NORP
    norm: str  # normalised name shared by every variant of the same entity


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, as read, cleaned, deduplicated, tagged and grouped.

    Stages never mutate an Article; they return `dataclasses.replace(a, ...)`.
    """

    article_id: str  # stable across re-runs of the same input (see make_article_id)
    url: Optional[str]
    outlet: Optional[str]
    title: Optional[str]
    text: str
    published_at: Optional[dt.datetime]  # timezone-aware, UTC; None when unknown
    language: Optional[str]  # ISO 639-1 code, e.g. "en"
    source_kind: str  # "text", "html", "jsonl", "feed", "nitf", "newsml", "rcv1", "warc" or "csv"
    source_ref: str  # where it came from: path, path:LINE, path[INDEX], path@OFFSET (WARC), archive!/member, or URL
    ingested_at: dt.datetime  # when this run read it (UTC)
    date_source: str = "unknown"  # evidence for published_at (see README)
    content_source: str = "file"  # where `text` came from: file, page, feed_summary
    wire_agency: Optional[str] = None
    dup_group_id: Optional[str] = None
    canonical_id: Optional[str] = None
    is_canonical: Optional[bool] = None
    lag_seconds: Optional[int] = None  # seconds behind the canonical copy
    entities: tuple[Entity, ...] = field(default=())
    event_id: Optional[str] = None

    @property
    def date(self) -> Optional[dt.date]:
        """Partition date: the UTC calendar day of publication."""
        return self.published_at.astimezone(UTC).date() if self.published_at else None

    @property
    def date_partition(self) -> str:
        date = self.date
        return date.isoformat() if date else UNKNOWN_DATE_PARTITION

    def replace(self, **changes) -> "Article":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that a step could not turn into an article, and why."""

    step: str  # the stage and step that refused it, e.g. "read.jsonl"
    reason: str  # a short stable code, e.g. "invalid_json", "empty_file"
    detail: str  # a human-readable explanation naming the problem
    source_ref: str
    raw: str  # the input, truncated to DEAD_LETTER_RAW_CHARS characters
    raw_size: int  # length of the untruncated input (bytes or characters)
    at: dt.datetime


ENTITY_TYPE = pa.struct(
    [
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("norm", pa.string(), nullable=False),
    ]
)

TIMESTAMP = pa.timestamp("us", tz="UTC")

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("outlet", pa.string()),
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("published_at", TIMESTAMP),
        pa.field("date", pa.date32()),
        pa.field("language", pa.string()),
        pa.field("source_kind", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
        pa.field("ingested_at", TIMESTAMP, nullable=False),
        pa.field("date_source", pa.string(), nullable=False),
        pa.field("content_source", pa.string(), nullable=False),
        pa.field("wire_agency", pa.string()),
        pa.field("dup_group_id", pa.string()),
        pa.field("canonical_id", pa.string()),
        pa.field("is_canonical", pa.bool_()),
        pa.field("lag_seconds", pa.int64()),
        pa.field("entities", pa.list_(pa.field("item", ENTITY_TYPE, nullable=False)), nullable=False),
        pa.field("event_id", pa.string()),
    ]
)

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("step", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("source_ref", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("raw_size", pa.int64(), nullable=False),
        pa.field("at", TIMESTAMP, nullable=False),
    ]
)


def article_to_row(article: Article) -> dict:
    """The Arrow row of an article: every schema field, `date` included."""
    row = {name: getattr(article, name) for name in ARTICLE_SCHEMA.names}
    row["entities"] = [
        {"text": e.text, "label": e.label, "norm": e.norm} for e in article.entities
    ]
    return row


def row_to_article(row: dict) -> Article:
    """Inverse of article_to_row (for readers of our own output)."""
    values = {f.name: row.get(f.name) for f in dataclasses.fields(Article)}
    values["entities"] = tuple(Entity(**e) for e in (row.get("entities") or ()))
    for key in ("published_at", "ingested_at"):
        if values[key] is not None and values[key].tzinfo is None:
            values[key] = values[key].replace(tzinfo=UTC)
    return Article(**values)


def dead_letter_to_row(letter: DeadLetter) -> dict:
    return {name: getattr(letter, name) for name in DEAD_LETTER_SCHEMA.names}


def stable_id(*parts: object, prefix: str = "", length: int = 16) -> str:
    """A short hex digest of the parts: the same parts always give the same id."""
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return prefix + digest.hexdigest()[:length]


def make_article_id(identity: str, text: str) -> str:
    """Stable id from where the article is (URL, or dump name and position) and its text.

    The same input read again gives the same id; two different articles at one
    identity (e.g. a corrected version at the same URL) get different ids.
    """
    return stable_id(identity, hashlib.sha256(text.encode("utf-8")).hexdigest())


REPEATED_ARTICLE_REASON = "duplicate_article"
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def kept_first(article: Article) -> tuple:
    """Which of several records with one article_id stays (the smallest; transforms/repeats.py):
    the earliest published (undated last), then the smaller source_ref, then the earlier ingestion."""
    return (
        article.published_at is None,
        article.published_at or _EARLIEST,
        article.source_ref or "",
        article.ingested_at or _EARLIEST,
    )
