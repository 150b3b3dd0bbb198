"""Throughput of AssignEvents at 1k, 10k and 100k articles, and how its cost grows.

Two inputs, both real:

- `headlines`: the first N headlines of ../shared/data/uci_news_stories (dev),
  in time order with their real timestamps (100k headlines span about seven
  weeks, so expiry keeps the live events bounded the way a stream does);
- `articles`: the 723 full articles of ../shared/data/ecbplus_events, repeated
  to reach N. Copy k of an article gets its own article_id and a publication
  time k hours after the start, with all 723 spread over that hour, so the
  stream reads as one ECB+ per hour: every copy meets the earlier copies of
  its own text inside the quiet period (the worst case for candidate lists).

For each size the script times, in one process:

- `rule`: the pure online clustering (`transforms/event_clustering.py`):
  features and assignment, sorted input, no Beam;
- `beam`: the real `AssignEvents` stage in a batch pipeline on Beam's
  in-process FnApiRunner, from `beam.Create` to a count; pipeline
  construction and start-up included.

Each is timed in wall-clock and CPU seconds of this process (the in-process
runner does all its work here); growth is given on CPU time (time ratio
against article ratio; linear is 10.0 for 10x the articles, the goal is at
most 12). A benchmark, not a test: it asserts nothing.

    python bench/bench_events.py                         # headlines and articles at 1k, 10k, 100k
    python bench/bench_events.py --sizes 1000 10000      # quicker
    python bench/bench_events.py --inputs headlines
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import json
import pathlib
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.runners import BATCH_LOCAL_RUNNER
from transforms import event_clustering as clustering
from transforms.events import AssignEvents, EventsConfig
from transforms.schema import UTC, Article, make_article_id

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
UCI = DATA / "uci_news_stories" / "uci_news_stories.dev.jsonl.gz"
ECBPLUS = DATA / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz"
INGESTED = dt.datetime(2000, 1, 1, tzinfo=UTC)
START = dt.datetime(2013, 1, 1, tzinfo=UTC)


def _article(identity: str, title, text: str, published: dt.datetime) -> Article:
    return Article(
        article_id=make_article_id(identity, text),
        url=None,
        outlet=None,
        title=title,
        text=text,
        published_at=published,
        language="en",
        source_kind="jsonl",
        source_ref=identity,
        ingested_at=INGESTED,
    )


def headlines(size: int) -> list[Article]:
    out = []
    with gzip.open(UCI, "rt", encoding="utf-8") as lines:
        for line in itertools.islice(lines, size):
            record = json.loads(line)
            published = dt.datetime.fromtimestamp(record["timestamp_ms"] / 1000, tz=UTC)
            out.append(_article(f"uci:{record['id']}", record["title"], record["title"], published))
    return out


def articles(size: int) -> list[Article]:
    with gzip.open(ECBPLUS, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    out = []
    for index in range(size):
        copy, position = divmod(index, len(records))
        record = records[position]
        published = START + dt.timedelta(hours=copy, seconds=position * 3600 // len(records))
        out.append(_article(f"ecbplus:{record['doc_id']}:{copy}", record.get("title"), record["text"], published))
    return out


class _Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def time_rule(items: list[Article], params: clustering.ClusteringParams) -> tuple[_Clock, int]:
    with _Clock() as clock:
        assigned = clustering.cluster_in_order(items, params)
    return clock, len({event for _, event in assigned})


def time_beam(items: list[Article], config: EventsConfig) -> _Clock:
    with _Clock() as clock:
        with beam.Pipeline(options=PipelineOptions([], runner=BATCH_LOCAL_RUNNER)) as pipeline:
            rows, _ = (
                pipeline
                | "Articles" >> beam.Create(items).with_output_types(Article)
                | "AssignEvents" >> AssignEvents(config)
            )
            _ = rows | "Count" >> beam.combiners.Count.Globally()
    return clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--inputs", nargs="+", choices=["headlines", "articles"], default=["headlines", "articles"])
    args = parser.parse_args()
    config = EventsConfig()
    params = config.params()
    print(f"AssignEvents defaults: {config.model_dump()}")
    print(f"{'input':9s} {'size':>7s} {'events':>7s} | {'rule art/s':>10s} {'cpu s':>7s} | "
          f"{'beam art/s':>10s} {'cpu s':>7s} {'wall s':>7s} | {'growth (beam cpu)':>17s}")
    for name in args.inputs:
        make = headlines if name == "headlines" else articles
        previous = None
        for size in args.sizes:
            items = make(size)
            rule, events = time_rule(items, params)
            run = time_beam(items, config)
            growth = ""
            if previous is not None:
                growth = f"{run.cpu / previous[1]:.1f}x for {size / previous[0]:.0f}x"
            print(
                f"{name:9s} {size:7d} {events:7d} | {size / rule.cpu:10.0f} {rule.cpu:7.2f} | "
                f"{size / run.cpu:10.0f} {run.cpu:7.2f} {run.wall:7.2f} | {growth:>17s}",
                flush=True,
            )
            previous = (size, run.cpu)
    print("art/s per CPU second of this process; growth: beam CPU time ratio for the article ratio "
          "(10.0 is linear).")


if __name__ == "__main__":
    main()
