"""Feed benchmark: 1,000 feeds on a loopback server, polling and fetch + extract.

The server (`python -m tests.feed_server`) runs in its own process, so it does
not share the pipeline's GIL. It serves 1,000 synthetic RSS feeds of 20 items
each, with strong ETags and 304 answers; every item links to one of the 127
real pages of ../shared/data/article_extraction (a unique URL per item). All
feeds are on one host, so the per-host politeness is opened up for the run
(min_host_delay_s=0, max_connections_per_host=8): a local server permits it.

Figures printed:
1. polls: the poll stage's own code (`poll_feed` + the HTTP client, what the
   PollFeeds DoFn runs per feed) over all 1,000 feeds in one thread, as one
   DoFn instance does: a cold round (200s, parsed, items found), then a round
   where nothing changed (304s). Goal: the 304 round under 10 s.
2. batch poll through Beam: `ReadFeeds` over the 1,000 feeds with
   fetch_pages off (20,000 items from the feeds' own text), wall time.
3. fetch + extract: `ReadFeeds` over the first N feeds with pages on (N x 20
   pages fetched, extracted in the time-limited helper), against trafilatura's
   extraction of the same page bytes in a plain loop, same settings, in a
   fresh process. Beam's time is end to end (pipeline start, polls, fetches
   included). Goal: Beam within 1.3x of the plain loop on one worker.

    python bench/bench_feeds.py [--feeds 1000] [--page-feeds 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import apache_beam as beam  # noqa: E402
from apache_beam.metrics import Metrics  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from pipeline.runners import BATCH_LOCAL_RUNNER  # noqa: E402
from transforms.http_fetch import HttpConfig  # noqa: E402
from transforms.read_feeds import FeedsConfig, FeedState, ReadFeeds, make_http_client, poll_feed, resolve_feeds  # noqa: E402

UTC = dt.timezone.utc
AE = REPO.parent / "shared" / "data" / "article_extraction"


def start_server() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.feed_server", "--port", "0", "--until-stdin-closes"], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        process.kill()
        raise RuntimeError("the feed server did not start")
    return process, int(line[1])


def bench_config(fetch_pages: bool) -> FeedsConfig:
    return FeedsConfig(
        allowed_networks=("127.0.0.0/8",),
        fetch_pages=fetch_pages,
        respect_robots_txt=True,
        http=HttpConfig(min_host_delay_s=0, max_connections_per_host=8),
    )


def feed_urls(port: int, count: int) -> list[str]:
    return [f"http://127.0.0.1:{port}/synthetic/{n}.xml?items=20" for n in range(count)]


def bench_polls(urls: list[str]) -> dict:
    config = bench_config(fetch_pages=False)
    client = make_http_client(config)
    feeds = resolve_feeds(urls, config)
    states = {}
    started = time.perf_counter()
    items = 0
    for feed in feeds:
        outcome = poll_feed(client, feed, FeedState(), config, tick_s=0)
        assert outcome.status == "fetched", outcome.refusals
        states[feed.url] = outcome.state
        items += len(outcome.items)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    statuses = set()
    for feed in feeds:
        outcome = poll_feed(client, feed, states[feed.url], config, tick_s=300)
        statuses.add(outcome.status)
    unchanged = time.perf_counter() - started
    return {"feeds": len(feeds), "items": items, "cold_round_s": round(cold, 2), "not_modified_round_s": round(unchanged, 2), "statuses": sorted(statuses)}


def _count(kind: str):
    counter = Metrics.counter("bench", kind)

    def count(_element) -> None:
        counter.inc()

    return count


def run_read_feeds(urls: list[str], config: FeedsConfig, workers: int) -> tuple[float, dict]:
    options = PipelineOptions(flags=[], direct_num_workers=workers, direct_running_mode="multi_threading" if workers > 1 else "in_memory")
    started = time.perf_counter()
    pipeline = beam.Pipeline(runner=BATCH_LOCAL_RUNNER, options=options)
    articles, dead_letters = pipeline | ReadFeeds(urls, config, ingested_at=dt.datetime.now(UTC))
    articles | "CountArticles" >> beam.Map(_count("articles"))
    dead_letters | "CountDead" >> beam.Map(_count("dead_letters"))
    result = pipeline.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - started
    counters = result.metrics().query(MetricsFilter().with_namespace("bench"))["counters"]
    return seconds, {c.key.metric.name: c.committed for c in counters}


PLAIN_LOOP = """
import gzip, json, sys, time
from transforms.feed_items import decode_page, extract_page
ae, feeds = sys.argv[1], int(sys.argv[2])
rows = {json.loads(line)["id"]: json.loads(line) for line in gzip.open(ae + "/ground_truth.dev.jsonl.gz", "rt")}
page_ids = sorted(rows)
pages = []
for number in range(feeds):
    for index in range(20):
        row = rows[page_ids[(number * 20 + index) % len(page_ids)]]
        pages.append((gzip.open(ae + "/" + row["html_file"], "rb").read(), row["url"]))
started = time.perf_counter()
extracted = sum(1 for html, url in pages if extract_page(decode_page(html), url) is not None)
print(json.dumps({"seconds": time.perf_counter() - started, "extracted": extracted}))
"""


def plain_loop(page_count: int, feeds: int) -> float:
    """trafilatura on the same page bytes, same order and settings, in a plain
    loop in a fresh process (no Beam imported, as a user would run it)."""
    output = subprocess.run(
        [sys.executable, "-c", PLAIN_LOOP, str(AE), str(feeds)], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["extracted"] == page_count, result
    return result["seconds"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--page-feeds", type=int, default=50, help="feeds whose 20 pages are fetched and extracted")
    args = parser.parse_args(argv)
    server, port = start_server()
    try:
        urls = feed_urls(port, args.feeds)
        polls = bench_polls(urls)
        print(json.dumps({"bench": "poll_stage_one_thread", **polls, "goal_not_modified_round_s": 10}), flush=True)

        seconds, counts = run_read_feeds(urls, bench_config(fetch_pages=False), workers=1)
        print(json.dumps({"bench": "beam_batch_poll_pages_off", "feeds": args.feeds, "seconds": round(seconds, 2), **counts}), flush=True)

        page_urls = urls[: args.page_feeds]
        pages = args.page_feeds * 20
        plain = plain_loop(pages, args.page_feeds)
        print(json.dumps({"bench": "plain_trafilatura_loop", "pages": pages, "seconds": round(plain, 2), "pages_per_s": round(pages / plain, 1)}), flush=True)
        for workers in (1, 2):
            seconds, counts = run_read_feeds(page_urls, bench_config(fetch_pages=True), workers=workers)
            print(
                json.dumps(
                    {
                        "bench": "beam_fetch_extract",
                        "workers": workers,
                        "pages": pages,
                        "seconds": round(seconds, 2),
                        "articles_per_s": round(counts.get("articles", 0) / seconds, 1),
                        "ratio_to_plain_loop": round(seconds / plain, 2),
                        "goal_ratio": 1.3,
                        **counts,
                    }
                ),
                flush=True,
            )
    finally:
        server.stdin.close()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
