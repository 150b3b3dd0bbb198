"""Throughput of DedupSyndicated beside the same method in a plain Python loop.

Data, the same recipe at every size (so sizes differ in scale, not in kind):
originals are the texts of ../shared/data/reprints (dev; full articles, about
600 words) and headlines of ../shared/data/uci_news_stories (dev; about 10
words) in a fixed share (`--long-share` of the originals are reprint texts,
cycled when a size needs more than the file holds, each cycle perturbed so no
two strings repeat), shuffled with a fixed seed. Each original gets 0-2 perturbed
copies (0.67 on average): a new dateline and agency credit, its last
paragraph (or a headline's last words) dropped, 2% of words with swapped
letters, published 5 minutes to 2 days later. For each size the script times:

- `beam`: the real DedupSyndicated stage in a batch pipeline on Beam's
  in-process FnApiRunner, from `beam.Create` to a count of rows (pipeline
  construction and start-up included);
- `python`: the same profiles, signatures, band and sentence keys, buckets
  (`bucket_pairs`), verification and union-find, in one plain Python loop: what
  the method costs without Beam.

Wall-clock and CPU seconds of this process are both reported (the in-process
runner works in this process; on a shared machine the CPU figures are the
steadier ones). It prints articles/s, the beam/python ratio (Beam's cost),
the growth between sizes (time ratio for a 10x size ratio; linear is 10) and
the share of planted copies the stage put in their original's group.
A benchmark, not a test: it asserts nothing.

    python bench/bench_dedup.py                          # 1k and 10k articles
    python bench/bench_dedup.py --sizes 1000 10000 100000
    python bench/bench_dedup.py --sizes 1000 --workers 2  # Beam's --direct_num_workers
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import json
import os
import pathlib
import random
import time
from dataclasses import dataclass
from typing import Iterator

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.runners import BATCH_LOCAL_RUNNER
from transforms import dedup_matching as matching
from transforms.dedup import DedupConfig, DedupSyndicated
from transforms.schema import UTC, Article

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
REPRINTS = DATA / "reprints" / "reprints.dev.jsonl.gz"
HEADLINES = DATA / "uci_news_stories" / "uci_news_stories.dev.jsonl.gz"
INGESTED_AT = dt.datetime(2026, 1, 1, tzinfo=UTC)
DATELINES = ("NEW DELHI (PTI) -", "LONDON (Reuters) -", "WASHINGTON (AP) —", "PARIS (AFP) -", "SYDNEY, Jan 3 -")


@dataclass(frozen=True)
class Original:
    text: str
    published_at: dt.datetime
    long: bool


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _reprint_texts() -> list[Original]:
    with gzip.open(REPRINTS, "rt", encoding="utf-8") as lines:
        return [Original(r["text"], _parse(r["published"]), True) for r in map(json.loads, lines)]


def _headlines(count: int) -> list[Original]:
    seen: set[str] = set()
    found = []
    with gzip.open(HEADLINES, "rt", encoding="utf-8") as lines:
        for record in map(json.loads, lines):
            title = record["title"].strip()
            if title and title not in seen:
                seen.add(title)
                found.append(Original(title, _parse(record["published"]), False))
                if len(found) == count:
                    break
    return found


def _swap_letters(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def perturb(text: str, rng: random.Random, long: bool) -> str:
    """A wire-style copy: new dateline, tail dropped, a few letter swaps."""
    if long:
        paragraphs = [p for p in text.split("\n") if p.strip()]
        if len(paragraphs) > 2:
            paragraphs = paragraphs[:-1]
        text = "\n".join(paragraphs)
        text = f"{rng.choice(DATELINES)} {text}"
    else:
        words = text.split()
        if len(words) > 6:
            words = words[:-1]
        text = " ".join(words)
    words = text.split(" ")
    return " ".join(_swap_letters(w, rng) if rng.random() < 0.02 else w for w in words)


def make_articles(size: int, long_share: float, seed: int = 11) -> tuple[list[Article], list[tuple[str, str]]]:
    """`size` articles by the recipe above, and the planted (original, copy) id pairs."""
    rng = random.Random(seed)
    copies_per_original = [0, 0, 0, 1, 1, 2]  # 0.67 on average, drawn per original
    originals_needed = size  # more than enough: the loop below stops at `size` articles
    long_needed = max(1, round(originals_needed * long_share))
    reprints = _reprint_texts()
    longs = []
    for cycle in itertools.count():
        for original in reprints:
            if len(longs) == long_needed:
                break
            text = original.text if cycle == 0 else perturb(original.text, random.Random(cycle), True)
            longs.append(Original(text, original.published_at + dt.timedelta(days=cycle), True))
        if len(longs) == long_needed:
            break
    shorts = _headlines(originals_needed - long_needed)
    originals = longs + shorts
    rng.shuffle(originals)  # the long share holds in any prefix (publication order does not matter in batch)
    articles: list[Article] = []
    planted: list[tuple[str, str]] = []

    def add(text: str, published_at: dt.datetime) -> str:
        article_id = f"bench{len(articles):07d}"
        articles.append(
            Article(
                article_id=article_id, url=None, outlet=f"outlet{len(articles) % 97}", title=None,
                text=text, published_at=published_at, language="en", source_kind="text",
                source_ref=article_id, ingested_at=INGESTED_AT,
            )
        )
        return article_id

    for original in originals:
        if len(articles) >= size:
            break
        original_id = add(original.text, original.published_at)
        for _ in range(rng.choice(copies_per_original)):
            if len(articles) >= size:
                break
            lag = dt.timedelta(seconds=rng.randrange(300, 2 * 86400))
            planted.append((original_id, add(perturb(original.text, rng, original.long), original.published_at + lag)))
    return articles, planted


def run_beam(articles: list[Article], config: DedupConfig, workers: int) -> tuple[dict[str, str], float, float]:
    """(article_id -> dup_group_id, wall s, cpu s) of the real stage."""
    groups: dict[str, str] = {}
    options = PipelineOptions([], runner=BATCH_LOCAL_RUNNER, direct_num_workers=workers)
    result_path = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-dedup-{os.getpid()}"
    wall, cpu = time.perf_counter(), time.process_time()
    with beam.Pipeline(options=options) as pipeline:
        rows, _ = (
            pipeline
            | "Articles" >> beam.Create(articles).with_output_types(Article)
            | "DedupSyndicated" >> DedupSyndicated(config)
        )
        _ = (
            rows
            | "Groups" >> beam.Map(lambda a: f"{a.article_id}\t{a.dup_group_id}")
            | "Write" >> beam.io.WriteToText(str(result_path), shard_name_template="")
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with open(result_path, encoding="utf-8") as lines:
        for line in lines:
            article_id, group = line.rstrip("\n").split("\t")
            groups[article_id] = group
    result_path.unlink()
    return groups, wall, cpu


def run_python(articles: list[Article], config: DedupConfig) -> tuple[dict[str, str], float, float]:
    """The same method without Beam: (article_id -> group, wall s, cpu s)."""
    wall, cpu = time.perf_counter(), time.process_time()
    hasher = matching.MinHasher(config.num_perm, config.seed)
    match = matching.get_matcher(config.method)
    thresholds = config.thresholds()
    profiles: dict[str, matching.MatchProfile] = {}
    published = {}
    buckets: dict[str, list[str]] = {}
    for article in articles:
        analysis = matching.analyse_text(article.text)
        profile = matching.build_profile(article.article_id, analysis, config.shingle_size)
        published[article.article_id] = article.published_at
        if profile is None:
            continue
        profiles[article.article_id] = profile
        keys = matching.band_keys(hasher.signature(profile.shingles), config.bands, config.rows)
        keys += matching.sentence_band_keys(
            analysis, hasher, config.sentence_key_rows, config.sentence_key_min_words, config.sentence_key_shingle_size
        )
        for key in keys:
            buckets.setdefault(key, []).append(article.article_id)
    pairs = {p for key, members in buckets.items() for p in matching.bucket_pairs(key, members, config.max_bucket_size)}
    union = matching.UnionFind()
    for first, second in pairs:
        if match(profiles[first], profiles[second], thresholds).is_copy:
            union.union(first, second)
    groups = {}
    for members in union.groups():
        canonical = min(members, key=lambda a: matching.canonical_order_key(published[a], a))
        for member in members:
            groups[member] = matching.group_id_for(canonical)
    for article in articles:
        groups.setdefault(article.article_id, matching.group_id_for(article.article_id))
    return groups, time.perf_counter() - wall, time.process_time() - cpu


def _rows(sizes, long_share, workers, config) -> Iterator[dict]:
    for size in sizes:
        articles, planted = make_articles(size, long_share)
        beam_groups, beam_wall, beam_cpu = run_beam(articles, config, workers)
        python_groups, python_wall, python_cpu = run_python(articles, config)
        found = sum(beam_groups[a] == beam_groups[b] for a, b in planted) / max(1, len(planted))
        agree = sum(beam_groups[a.article_id] == python_groups[a.article_id] for a in articles) / len(articles)
        words = sum(len(a.text.split()) for a in articles)
        yield {
            "articles": len(articles), "words": words, "planted": len(planted),
            "beam_wall": beam_wall, "beam_cpu": beam_cpu, "python_wall": python_wall, "python_cpu": python_cpu,
            "found": found, "agree": agree, "load": os.getloadavg()[0],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--long-share", type=float, default=0.03,
                        help="share of originals that are full reprint texts (the rest are headlines)")
    parser.add_argument("--workers", type=int, default=1, help="Beam --direct_num_workers")
    args = parser.parse_args()
    config = DedupConfig()
    header = (
        f"{'articles':>8} {'words':>9} {'beam s':>8} {'beam cpu':>8} {'art/s':>7} {'python s':>8} "
        f"{'py cpu':>7} {'art/s':>7} {'beam/py':>7} {'growth':>7} {'copies found':>12} {'py agree':>8} {'load':>5}"
    )
    print(header)
    previous = None
    for row in _rows(args.sizes, args.long_share, args.workers, config):
        growth = "-"
        if previous:
            growth = f"{row['beam_cpu'] / previous['beam_cpu']:.1f}/{row['articles'] / previous['articles']:.0f}"
        print(
            f"{row['articles']:>8} {row['words']:>9} {row['beam_wall']:>8.1f} {row['beam_cpu']:>8.1f} "
            f"{row['articles'] / row['beam_wall']:>7.0f} {row['python_wall']:>8.1f} {row['python_cpu']:>7.1f} "
            f"{row['articles'] / row['python_wall']:>7.0f} {row['beam_cpu'] / row['python_cpu']:>7.2f} {growth:>7} "
            f"{row['found']:>12.1%} {row['agree']:>8.1%} {row['load']:>5.1f}",
            flush=True,
        )
        previous = row
    print("growth = beam CPU-time ratio / article ratio vs the previous size (linear: 10.0/10); "
          "copies found = planted copies in their original's group; py agree = same group in both runs")


if __name__ == "__main__":
    main()
