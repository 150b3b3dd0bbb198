"""CleanArticles as a Beam stage: the five seeds clean, an empty article is a dead letter."""

from __future__ import annotations

import datetime as dt
import re

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to

from tests.conftest import BATCH_RUNNER, seed_paths
from transforms.clean import CleanArticles, CleanConfig
from transforms.schema import Article, make_article_id

DATE_MARKER = re.compile(r"^ date \d{4}-\d{2}-\d{2} ")
INGESTED_AT = dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc)


def article(source_ref: str, text: str) -> Article:
    """An article as the readers hand it on: raw text, no title, no language."""
    return Article(
        article_id=make_article_id(source_ref, text),
        url=None,
        outlet=None,
        title=None,
        text=text,
        published_at=None,
        language=None,
        source_kind="text",
        source_ref=source_ref,
        ingested_at=INGESTED_AT,
    )


def seed_articles() -> list[Article]:
    return [
        article(path.name, DATE_MARKER.sub("", path.read_text(encoding="utf-8")))
        for path in seed_paths()
    ]


def check_cleaned_seeds(seeds: list[Article]):
    ids = {a.article_id: a.source_ref for a in seeds}

    def check(cleaned: list[Article]) -> None:
        if sorted(a.article_id for a in cleaned) != sorted(ids):
            raise BeamAssertException(f"expected the 5 seeds, got {[a.source_ref for a in cleaned]}")
        for a in cleaned:
            if a.language != "en" or a.wire_agency is not None or not a.title:
                raise BeamAssertException(f"{a.source_ref}: {a.language=} {a.wire_agency=} {a.title=}")
            if len(a.title) > CleanConfig().title_max_chars:
                raise BeamAssertException(f"{a.source_ref}: title too long: {a.title!r}")
        by_ref = {a.source_ref: a for a in cleaned}
        (embeds,) = [a for ref, a in by_ref.items() if ref.startswith("001_")]
        if "pic.twitter.com" in embeds.text or "(@ANI)" in embeds.text or "#WATCH" in embeds.text:
            raise BeamAssertException("tweet debris left in seed 001")
        if "Speaking to the media about the Defence Framework" not in embeds.text:
            raise BeamAssertException("an article sentence of seed 001 was lost")
        (markdown,) = [a for ref, a in by_ref.items() if ref.startswith("003_")]
        if "*" in markdown.text or "Commerce Minister Piyush Goyal" not in markdown.text:
            raise BeamAssertException("Markdown marks left in seed 003")

    return check


def test_clean_articles_on_seeds_and_an_empty_article():
    seeds = seed_articles()
    assert len(seeds) == 5
    empty = article("dump.jsonl:7", " \n\u200b\n ")
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        cleaned, dead_letters = (
            pipeline
            | "Articles" >> beam.Create(seeds + [empty])
            | "Clean" >> CleanArticles(CleanConfig())
        )
        assert_that(cleaned, check_cleaned_seeds(seeds), label="FiveCleanedEnglishSeeds")
        assert_that(
            dead_letters | "Summary" >> beam.Map(lambda d: (d.step, d.reason, d.source_ref, d.raw)),
            equal_to([("clean", "empty_after_clean", "dump.jsonl:7", " \n\u200b\n ")]),
            label="OneEmptyDeadLetter",
        )


def test_unexpected_error_is_a_dead_letter_not_a_crash():
    good = article("good.txt", "The defence ministers of India and the United States met on Friday.")
    broken = article("broken.txt", "placeholder").replace(text=None)
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        cleaned, dead_letters = (
            pipeline | "Articles" >> beam.Create([good, broken]) | "Clean" >> CleanArticles()
        )
        assert_that(
            cleaned | "Refs" >> beam.Map(lambda a: (a.source_ref, a.language)),
            equal_to([("good.txt", "en")]),
            label="GoodArticleCleaned",
        )
        assert_that(
            dead_letters | "Summary" >> beam.Map(lambda d: (d.step, d.reason, d.source_ref, d.detail.split(":")[0])),
            equal_to([("clean", "clean_error", "broken.txt", "AttributeError")]),
            label="BrokenArticleDeadLettered",
        )


def test_bad_bytes_become_replacement_characters_and_nothing_else_is_lost():
    """A file of UTF-8 with two bad bytes after "café", read and cleaned as the pipeline does (on a
    line that is ASCII besides, ftfy turned "é" and both U+FFFD into one U+FFFD)."""
    from transforms.decoding import decode_bytes

    sentence = "The coffee shop on the corner closes after thirty years, its owners said on Friday."
    decoded = decode_bytes(f"{sentence}\n\n{sentence} ".encode("utf-8") + b"caf\xc3\xa9\xff\xfe")
    assert decoded.replaced == 2
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        cleaned, _ = pipeline | beam.Create([article("cafe.txt", decoded.text)]) | CleanArticles()
        assert_that(
            cleaned | beam.Map(lambda a: a.text.rsplit("\n\n", 1)[-1]),
            equal_to([f"{sentence} café\ufffd\ufffd"]),
        )
