"""Assembles the newsbeam graph without running it.

    sources -> DropRepeatedArticles -> CleanArticles -> DedupSyndicated -> TagEntities
            -> AssignEvents -> WriteParquet

Every stage returns (articles, dead_letters); all dead letters are flattened
into one collection written beside the data. `records_read` counts every input
record the readers saw (each one became an article or a dead letter), so the
published manifest can check rows in = rows written + dead letters.

With `streaming` (an unbounded run on a streaming runner) feeds are polled and
input folders watched forever, and the writer publishes fixed windows.

A round of a local streaming run (`pipeline/rounds.py`) is the same graph,
bounded, given a `RoundCarry`: feeds continue from their carried state,
dedup matches against the articles earlier rounds published (and an article
one of them already was is a repeat), events continue
from the carried clusterers, and the writer appends, publishing the state the
next round needs with the round's files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import apache_beam as beam

from pipeline.config import NewsbeamConfig
from pipeline.progress import TapArticlesDone, TapArticlesTagged, TapDeadLetters, TapRecordsRead
from transforms.clean import CleanArticles
from transforms.dedup import DedupSyndicated
from transforms.entities import TagEntities
from transforms.events import EVENT_STATE_NAME, AssignEvents
from transforms.read_feeds import FEED_STATE_NAME, ReadFeeds
from transforms.read_files import ReadFileDumps
from transforms.repeats import DropRepeatedArticles
from transforms.schema import Article
from transforms.write_parquet import AppendRound, WriteParquet


@dataclasses.dataclass(frozen=True)
class RoundCarry:
    """What one round of a local streaming run takes over from the rounds before it."""

    append: AppendRound  # its carried_state holds the feed and event state the round starts from
    tick_s: float
    references: list[Article] = dataclasses.field(default_factory=list)

    @property
    def feed_state(self) -> dict:
        return self.append.carried_state.get(FEED_STATE_NAME, {})

    @property
    def event_state(self) -> dict:
        return self.append.carried_state.get(EVENT_STATE_NAME, {})


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
    carry: RoundCarry | None = None,
):
    """Add the whole newsbeam graph to `pipeline`; returns the manifest PCollection."""
    read_articles, read_dead, state = [], [], []
    if sources.inputs:
        articles, dead = pipeline | "ReadFileDumps" >> ReadFileDumps(
            list(sources.inputs), config.read, ingested_at=ingested_at, watch=config.watch if streaming else None
        )
        read_articles.append(articles)
        read_dead.append(dead)
    if sources.feeds or config.feeds.has_feeds:
        # ReadFeeds reads the --feed URLs and the feeds listed in the config.
        read = pipeline | "ReadFeeds" >> ReadFeeds(
            list(sources.feeds), config.feeds, ingested_at=ingested_at, streaming=streaming,
            tick_s=carry.tick_s if carry else 0.0, carried_state=carry.feed_state if carry else None,
        )
        articles, dead = read[0], read[1]
        if carry:
            state.append(read[2])
        read_articles.append(articles)
        read_dead.append(dead)

    if not read_articles:  # a round with no new files and no feeds
        read_articles.append(pipeline | "NoInput" >> beam.Create([]).with_output_types(Article))
    raw_articles = tuple(read_articles) | "AllSources" >> beam.Flatten()
    records_read = (
        (raw_articles, *read_dead)
        | "AllRecordsRead" >> beam.Flatten()
        | "ProgressRecordsRead" >> TapRecordsRead()
    )
    if not streaming:
        # Unbounded, the writer counts the records per output window instead.
        records_read = records_read | "CountRecordsRead" >> beam.combiners.Count.Globally()

    distinct, repeat_dead = raw_articles | "DropRepeatedArticles" >> DropRepeatedArticles(
        config.dedup.retention_days,
        known_ids=[reference.article_id for reference in carry.references] if carry else None,
        streaming=streaming,
    )
    cleaned, clean_dead = distinct | "CleanArticles" >> CleanArticles(config.clean)
    deduplicated, dedup_dead = cleaned | "DedupSyndicated" >> DedupSyndicated(
        config.dedup, references=carry.references if carry else None
    )
    tagged, entity_dead = deduplicated | "TagEntities" >> TagEntities(
        config.entities, observe_tagged=TapArticlesTagged()
    )
    assigned = tagged | "AssignEvents" >> AssignEvents(
        config.events, carried_state=carry.event_state if carry else None
    )
    grouped, event_dead = assigned[0], assigned[1]
    if carry:
        state.append(assigned[2])

    dead_letters = (
        (*read_dead, repeat_dead, clean_dead, dedup_dead, entity_dead, event_dead)
        | "AllDeadLetters" >> beam.Flatten()
        | "ProgressDeadLetters" >> TapDeadLetters()
    )
    outputs = {
        "articles": grouped | "ProgressArticlesDone" >> TapArticlesDone(),
        "dead_letters": dead_letters,
        "records_read": records_read,
    }
    if carry:
        outputs["state"] = tuple(state) | "AllState" >> beam.Flatten()
    return outputs | "WriteParquet" >> WriteParquet(
        output_dir, run_id, config.output, append=carry.append if carry else None
    )
