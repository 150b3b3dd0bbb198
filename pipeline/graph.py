"""Assembles the newsbeam graph without running it.

    sources -> CleanArticles -> DedupSyndicated -> TagEntities -> AssignEvents -> WriteParquet

Every stage returns (articles, dead_letters); all dead letters are flattened
into one collection written beside the data. `records_read` counts every input
record the readers saw (each one became an article or a dead letter), so the
published manifest can check rows in = rows written + dead letters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import apache_beam as beam

from pipeline.config import NewsbeamConfig
from pipeline.progress import TapArticlesDone, TapDeadLetters, TapRecordsRead
from transforms.clean import CleanArticles
from transforms.dedup import DedupSyndicated
from transforms.entities import TagEntities
from transforms.events import AssignEvents
from transforms.read_feeds import ReadFeeds
from transforms.read_files import ReadFileDumps
from transforms.write_parquet import WriteParquet


@dataclasses.dataclass(frozen=True)
class Sources:
    """What a run reads: file-dump globs and feed URLs given on the command line."""

    inputs: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()


def build_pipeline(
    pipeline: beam.Pipeline,
    sources: Sources,
    output_dir: str,
    config: NewsbeamConfig,
    run_id: str,
    ingested_at: dt.datetime,
    streaming: bool = False,
):
    """Add the whole newsbeam graph to `pipeline`; returns the manifest PCollection."""
    read_articles, read_dead = [], []
    if sources.inputs:
        articles, dead = pipeline | "ReadFileDumps" >> ReadFileDumps(
            list(sources.inputs), config.read, ingested_at=ingested_at
        )
        read_articles.append(articles)
        read_dead.append(dead)
    if sources.feeds or config.feeds.sources:
        # ReadFeeds reads the --feed URLs and the feeds listed in the config.
        articles, dead = pipeline | "ReadFeeds" >> ReadFeeds(
            list(sources.feeds), config.feeds, ingested_at=ingested_at, streaming=streaming
        )
        read_articles.append(articles)
        read_dead.append(dead)

    raw_articles = tuple(read_articles) | "AllSources" >> beam.Flatten()
    records_read = (
        (raw_articles, *read_dead)
        | "AllRecordsRead" >> beam.Flatten()
        | "ProgressRecordsRead" >> TapRecordsRead()
        | "CountRecordsRead" >> beam.combiners.Count.Globally()
    )

    cleaned, clean_dead = raw_articles | "CleanArticles" >> CleanArticles(config.clean)
    deduplicated, dedup_dead = cleaned | "DedupSyndicated" >> DedupSyndicated(config.dedup)
    tagged, entity_dead = deduplicated | "TagEntities" >> TagEntities(config.entities)
    grouped, event_dead = tagged | "AssignEvents" >> AssignEvents(config.events)

    dead_letters = (
        (*read_dead, clean_dead, dedup_dead, entity_dead, event_dead)
        | "AllDeadLetters" >> beam.Flatten()
        | "ProgressDeadLetters" >> TapDeadLetters()
    )
    return {
        "articles": grouped | "ProgressArticlesDone" >> TapArticlesDone(),
        "dead_letters": dead_letters,
        "records_read": records_read,
    } | "WriteParquet" >> WriteParquet(output_dir, run_id, config.output)
