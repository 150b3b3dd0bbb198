"""Throughput of TagEntities beside plain spaCy `nlp.pipe` on the same texts.

Texts: the real articles of ../shared/data/ecbplus_events (dev) and
../shared/data/reprints (dev), repeated to reach each size; every repeat k
rotates the paragraphs of its text by k, so no two copies are the same string
(spaCy keeps no per-text cache, so this keeps the work honest rather than
changing it). For each size the script times, in one process with the model
already loaded:

- `plain`: one `nlp.pipe(texts, batch_size)` over the tagging views of the
  texts (the physical limit: spaCy's own speed);
- `beam`: the real `TagEntities` stage (batching DoFn, normalisation,
  cross-article merge map) in a batch pipeline on Beam's in-process
  FnApiRunner, from `beam.Create` to a count; pipeline construction and
  start-up included.

Each is timed in wall-clock seconds and in CPU seconds of this process (the
in-process runner does all its work here). On a shared machine the wall
figures move with the load average (printed per row); the CPU figures
barely do, so the beam/plain ratio and the growth are given on CPU time.
It prints articles/s, tokens/s, the ratio beam/plain (Beam's cost) and the
cost growth between sizes (time ratio against article ratio; linear is 10.0
for 10x the articles). A benchmark, not a test: it asserts nothing.

    python bench/bench_entities.py                 # 1k and 10k articles
    python bench/bench_entities.py --sizes 1000    # quick
    python bench/bench_entities.py --with-100k     # adds 100k (about 4 hours)
    python bench/bench_entities.py --sizes 100000 --side-by-side   # about 2.5 hours on 2 cores

`--side-by-side` runs `plain` and `beam` at the same time, each in its own
forked process (the model already loaded, one core each on a 2-core machine),
so both see the same machine load; each process's own CPU seconds are what
is compared. It halves the wall time of a size (100k: 7,040 and 6,370 CPU
seconds, run side by side in 2 h 23 min).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import multiprocessing
import os
import pathlib
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.runners import BATCH_LOCAL_RUNNER
from transforms.entities import EntitiesConfig, TagEntities, load_spacy_pipeline
from transforms.entity_normalisation import tagging_view
from transforms.schema import Article

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SOURCES = (
    DATA / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz",
    DATA / "reprints" / "reprints.dev.jsonl.gz",
)
UTC = dt.timezone.utc
NOW = dt.datetime(2025, 11, 1, tzinfo=UTC)


def read_texts() -> list[str]:
    texts: list[str] = []
    for path in SOURCES:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            texts.extend(record["text"] for record in map(json.loads, lines) if record.get("text"))
    return texts


def rotate_paragraphs(text: str, k: int) -> str:
    paragraphs = text.split("\n")
    k %= len(paragraphs)
    return "\n".join(paragraphs[k:] + paragraphs[:k])


def corpus(base: list[str], size: int) -> list[str]:
    return [rotate_paragraphs(base[i % len(base)], i // len(base)) for i in range(size)]


def make_articles(texts: list[str]) -> list[Article]:
    return [
        Article(
            article_id=f"bench-{i}",
            url=None,
            outlet=None,
            title=None,
            text=text,
            published_at=NOW,
            language="en",
            source_kind="jsonl",
            source_ref=f"bench:{i}",
            ingested_at=NOW,
        )
        for i, text in enumerate(texts)
    ]


class Stopwatch:
    """Wall-clock and process CPU seconds of a block."""

    def __enter__(self) -> "Stopwatch":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def time_plain(nlp, texts: list[str], config: EntitiesConfig) -> tuple[Stopwatch, int]:
    views = [tagging_view(text, config.max_chars)[0] for text in texts]
    with Stopwatch() as watch:
        tokens = sum(len(doc) for doc in nlp.pipe(views, batch_size=config.batch_size))
    return watch, tokens


def time_beam(texts: list[str], config: EntitiesConfig) -> Stopwatch:
    articles = make_articles(texts)
    with Stopwatch() as watch:
        pipeline = beam.Pipeline(runner=BATCH_LOCAL_RUNNER, options=PipelineOptions([]))
        tagged, dead = pipeline | beam.Create(articles, reshuffle=False) | TagEntities(config)
        (tagged, dead) | beam.Flatten() | beam.combiners.Count.Globally()
        pipeline.run().wait_until_finish()
    return watch


_FORKED_NLP = None  # the loaded model, inherited by forked workers


def _measure(job: tuple[str, list[str], EntitiesConfig]) -> tuple[Stopwatch, int]:
    """One side of a side-by-side size, in a forked worker: its stopwatch and tokens (plain only)."""
    side, texts, config = job
    if side == "plain":
        return time_plain(_FORKED_NLP, texts, config)
    return time_beam(texts, config), 0


def time_side_by_side(nlp, texts: list[str], config: EntitiesConfig) -> tuple[Stopwatch, int, Stopwatch]:
    global _FORKED_NLP
    _FORKED_NLP = nlp
    with multiprocessing.get_context("fork").Pool(2) as pool:
        (plain, tokens), (tagged, _) = pool.map(_measure, [("plain", texts, config), ("beam", texts, config)], chunksize=1)
    return plain, tokens, tagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--with-100k", action="store_true", help="also run 100,000 articles")
    parser.add_argument(
        "--side-by-side", action="store_true", help="time plain and beam at the same time, one process each"
    )
    args = parser.parse_args()
    sizes = sorted(set(args.sizes + ([100_000] if args.with_100k else [])))

    config = EntitiesConfig()
    with Stopwatch() as load:
        nlp, _, _ = load_spacy_pipeline(config.model, tuple(config.exclude))
    print(f"model {config.model} components {nlp.pipe_names} loaded in {load.wall:.2f}s")
    base = read_texts()
    print(f"{len(base)} distinct source texts; batch_size {config.batch_size}; max_chars {config.max_chars}")
    list(nlp.pipe(base[:50], batch_size=config.batch_size))  # warm-up, untimed
    print(
        f"{'articles':>8} {'tokens':>9} | {'plain wall':>10} {'cpu':>7} {'art/s':>6} {'tok/s':>6} | "
        f"{'beam wall':>9} {'cpu':>7} {'art/s':>6} {'tok/s':>6} | {'beam/plain cpu':>14} {'wall':>5} | load"
    )
    rows = []
    for size in sizes:
        texts = corpus(base, size)
        if args.side_by_side:
            plain, tokens, tagged = time_side_by_side(nlp, texts, config)
        else:
            plain, tokens = time_plain(nlp, texts, config)
            tagged = time_beam(texts, config)
        rows.append((size, tokens, tagged))
        print(
            f"{size:>8} {tokens:>9} | {plain.wall:>10.1f} {plain.cpu:>7.1f} {size / plain.cpu:>6.1f} "
            f"{tokens / plain.cpu:>6.0f} | {tagged.wall:>9.1f} {tagged.cpu:>7.1f} {size / tagged.cpu:>6.1f} "
            f"{tokens / tagged.cpu:>6.0f} | {tagged.cpu / plain.cpu:>14.2f} {tagged.wall / plain.wall:>5.2f} | "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print(
        "art/s and tok/s are per CPU second of the measuring process (one core)"
        + ("; plain and beam ran at the same time, one process each." if args.side_by_side else ".")
    )
    for (small, small_tokens, small_run), (large, large_tokens, large_run) in zip(rows, rows[1:]):
        print(
            f"growth {small} -> {large}: {large / small:.0f}x articles ({large_tokens / small_tokens:.1f}x tokens), "
            f"TagEntities {large_run.cpu / small_run.cpu:.1f}x CPU time, {large_run.wall / small_run.wall:.1f}x wall time"
        )

if __name__ == "__main__":
    main()
