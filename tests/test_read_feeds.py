"""ReadFeeds end to end against a real HTTP server on 127.0.0.1: the fault matrix,
real feed files, conditional GET and state, and exactly-once polling in streaming."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

import apache_beam as beam
import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from pydantic import ValidationError

from tests.conftest import BATCH_RUNNER, NEWSBEAM, REPO, STREAMING_RUNNER
from tests.feed_server import FIXED_DATE, LONG_SUMMARY, FeedServer, Response, closed_port, rss
from transforms.feed_items import FeedItem, parse_feed, read_message, write_message
from transforms.http_fetch import HttpConfig
from transforms.read_feeds import (
    EXTRACTORS,
    FeedsConfig,
    FeedSpec,
    FeedState,
    ReadFeeds,
    ReadFeedsAtTicks,
    TimeLimitedExtractor,
    ExtractionTimeout,
    article_for_item,
    make_http_client,
    poll_feed,
    resolve_feeds,
    start_extraction_helper,
)

UTC = dt.timezone.utc
FIXED_PUBLISHED = dt.datetime(2025, 10, 31, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def server():
    feed_server = FeedServer().start()
    feed_server.gzip_bomb()
    yield feed_server
    feed_server.stop()


def fast_config(**changes) -> FeedsConfig:
    http = HttpConfig(
        min_host_delay_s=0,
        connect_timeout_s=1,
        read_timeout_s=0.5,
        total_timeout_s=1.5,
        backoff_base_s=0.02,
        backoff_max_s=0.1,
        max_feed_bytes=2_000_000,
        max_retry_after_s=5,
    )
    return FeedsConfig(allowed_networks=("127.0.0.0/8",), http=http, **changes)


# ---------------------------------------------------------------- labelling outputs

_FEED_LINE = re.compile(r"^feed: (\S+)$", re.MULTILINE)


def label_article(article, names: dict) -> tuple:
    assert article.source_kind == "feed" and article.text
    return (article.outlet, "article", article.content_source)


def label_dead_letter(letter, names: dict) -> tuple:
    feed_url = letter.source_ref if letter.step in ("feeds.fetch", "feeds.parse") else _FEED_LINE.search(letter.raw).group(1)
    assert letter.detail
    return (names[feed_url], letter.step, letter.reason)


# ---------------------------------------------------------------- the fault matrix


PAGE = ("article", "page")
SUMMARY = ("article", "feed_summary")


def fault_matrix(server) -> dict[str, tuple[str, list[tuple]]]:
    """name -> (path, expected outputs as (kind, ...) without the name)."""
    return {
        "good": ("/fault/good.xml", [PAGE, PAGE]),
        "slow": ("/fault/slow?delay=1.5", [("feeds.fetch", "read_timeout")]),
        "drip": ("/fault/drip?chunks=100&interval=0.05", [("feeds.fetch", "total_timeout")]),
        "not-found": ("/fault/status/404", [("feeds.fetch", "http_404")]),
        "server-error": ("/fault/status/500", [("feeds.fetch", "http_500")]),
        "rate-limited-briefly": ("/fault/retry-after?key=matrix&after=1", [PAGE, PAGE]),
        "rate-limited-long": ("/fault/retry-after?key=matrix-long&after=3600&fails=9", [("feeds.fetch", "http_429")]),
        "not-modified-unasked": ("/fault/always-304", [("feeds.fetch", "unexpected_not_modified")]),
        "oversized": ("/fault/oversized?bytes=3000000", [("feeds.fetch", "body_too_large")]),
        "gzip-bomb": ("/fault/gzip-bomb", [("feeds.fetch", "decompressed_too_large")]),
        "redirect-loop": ("/fault/redirect-loop/a", [("feeds.fetch", "redirect_loop")]),
        "malformed": ("/fault/malformed.xml", [("feeds.parse", "malformed_xml_items_kept"), PAGE, PAGE, ("feeds.page", "no_link")]),
        "garbage": ("/fault/garbage.xml", [("feeds.parse", "malformed_feed")]),
        "wrong-charset": ("/fault/wrong-charset.xml", [("feeds.parse", "charset_mismatch_items_kept"), PAGE, PAGE]),
        "missing-charset": ("/fault/no-charset.xml", [("feeds.parse", "charset_mismatch_items_kept"), PAGE, PAGE]),
        "damaged-declaration": ("/fault/damaged-declaration.xml", [("feeds.parse", "malformed_feed")]),
        "html-as-feed": ("/fault/html-as-feed", [("feeds.parse", "not_a_feed")]),
        "empty-body": ("/fault/empty", [("feeds.parse", "empty_feed")]),
        "local-path-body": ("/fault/local-path-body", [("feeds.parse", "malformed_feed")]),
        "billion-laughs": ("/fault/billion-laughs.xml", [("feeds.parse", "xml_entity_expansion")]),
        "quadratic-blowup": ("/fault/quadratic.xml", [("feeds.parse", "xml_entity_expansion")]),
        "private-links": ("/fault/private-links.xml", [("feeds.page", "private_address")] * 4),
        "failing-pages": (
            "/fault/pages-failing.xml",
            [
                SUMMARY,  # 404 page, real summary
                ("feeds.page", "http_500"),  # 500 page, two-word summary
                SUMMARY,  # robots.txt disallows the page, real summary
                ("feeds.page", "not_html"),
                ("feeds.page", "no_article_text"),
                ("feeds.page", "unsupported_scheme"),  # javascript: link, refused despite its summary
                SUMMARY,  # no link, real summary
            ],
        ),
    }


def test_fault_matrix_every_case_ends_as_rows_or_reasoned_dead_letters(server):
    matrix = fault_matrix(server)
    feeds = [FeedSpec(url=server.url(path), outlet=name) for name, (path, _) in matrix.items()]
    expected = [(name, *outcome) for name, (_, outcomes) in matrix.items() for outcome in outcomes]
    started = time.monotonic()
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        names = {spec.url: spec.outlet for spec in feeds}
        articles, dead_letters = pipeline | "ReadFeeds" >> ReadFeeds(feeds, fast_config(), ingested_at=dt.datetime(2025, 11, 1, tzinfo=UTC))
        labelled = (
            articles | "LabelArticles" >> beam.Map(label_article, names),
            dead_letters | "LabelDead" >> beam.Map(label_dead_letter, names),
        ) | "AllLabels" >> beam.Flatten()
        # Exactly one output per record: a multiset comparison, so a lost or doubled record fails.
        assert_that(labelled, equal_to(expected))
        assert_that(
            articles | "Dates" >> beam.Map(lambda a: (a.published_at, a.date_source)),
            equal_to([(FIXED_PUBLISHED, "feed_item")] * sum(1 for e in expected if e[1] == "article")),
            label="ItemDatesWin",
        )
    assert time.monotonic() - started < 60
    # The private links were refused before any connection: nothing but loopback was contacted.
    assert all(r.headers.get("host", "").startswith("127.0.0.1") for r in server.requests)


def test_fetch_pages_off_uses_the_items_own_text_and_real_feed_files(server):
    """Real feeds from ../shared/data/feeds (their links point at the internet: pages off)."""
    paths = [
        "feedjira/JoelonSoftware.xml",
        "feedjira/PaulGraham.xml",
        "feedjira/Slashdot.xml",
        "feedjira/HuffPostCanada.xml",
        "feedjira/AmazonWebServicesBlog.xml",
    ]
    feeds = [FeedSpec(url=server.url(f"/files/{path}"), outlet=path, fetch_pages=False) for path in paths]
    config = fast_config()
    expected = []
    for spec, path in zip(feeds, paths):
        body, headers = server.feed_file(path)
        parsed = parse_feed(body, url=spec.url, content_type=headers.get("Content-type", "application/xml"))
        entries = parsed.entries
        assert entries, path
        if parsed.problem is not None:  # a real feed with a flaw: recorded once, items kept
            expected.append((path, "feeds.parse", parsed.problem.reason))
        first_listings = {entry.identity: entry for entry in reversed(entries)}  # a twice-listed item counts once
        for entry in first_listings.values():
            real = len(re.findall(r"\w+", entry.text)) >= config.min_summary_words
            expected.append((path, "article", "feed_summary") if real else (path, "feeds.page", "page_fetch_disabled"))
    requests_before = len(server.requests)
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        names = {spec.url: spec.outlet for spec in feeds}
        articles, dead_letters = pipeline | "ReadFeeds" >> ReadFeeds(feeds, config)
        labelled = (
            articles | "LabelArticles" >> beam.Map(label_article, names),
            dead_letters | "LabelDead" >> beam.Map(label_dead_letter, names),
        ) | "AllLabels" >> beam.Flatten()
        assert_that(labelled, equal_to(expected))
    assert sum(1 for label in expected if label[1] == "article") > 30
    # Only the five feeds were requested: no page, no robots.txt.
    assert sorted(r.route for r in server.requests[requests_before:]) == sorted(f"/files/{path}" for path in paths)


def test_an_aggregator_feeds_articles_carry_each_items_publisher(server):
    """A Google News style feed: the outlet of each article is its item's <source>, not the aggregator."""
    items = [
        {"guid": f"g{i}", "link": f"http://127.0.0.1/g{i}", "title": f"Story {i} - {name}", "summary": LONG_SUMMARY,
         "pubDate": FIXED_DATE, "source": (name, f"https://{name.lower().replace(' ', '')}.example")}
        for i, name in enumerate(["Reuters", "The Hindu", "Reuters"])
    ]
    server.route("/test/aggregator.xml", lambda r: Response(200, {"Content-Type": "application/rss+xml"}, rss("News aggregator", items)))
    feeds = [
        FeedSpec(url=server.url("/test/aggregator.xml"), fetch_pages=False),
        FeedSpec(url=server.url("/test/aggregator.xml?configured"), outlet="Aggregator", fetch_pages=False),
    ]
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        articles, dead_letters = pipeline | ReadFeeds(feeds, fast_config())
        assert_that(
            articles | "TitleAndOutlet" >> beam.Map(lambda a: (a.title, a.outlet)),
            equal_to(
                [("Story 0", "Reuters"), ("Story 1", "The Hindu"), ("Story 2", "Reuters")]
                + [("Story 0", "Aggregator"), ("Story 1", "Aggregator"), ("Story 2", "Aggregator")]
            ),
        )
        assert_that(dead_letters, equal_to([]), label="NoDeadLetters")


def test_a_json_feed_is_polled_and_its_linked_pages_fetched(server):
    """JSON Feed over HTTP: one item links a real page (fetched and extracted), one has only its text."""
    page_id = sorted(server.ae_pages)[3]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON Desk",
        "items": [
            {"id": "page-item", "url": server.page_url("ae", page_id), "title": "Linked story", "summary": "Read more."},
            {"id": "text-item", "title": "Story in the feed", "content_html": f"<p>{LONG_SUMMARY}</p>",
             "date_published": "2025-10-31T10:00:00Z"},
        ],
    }
    body = json.dumps(feed).encode("utf-8")
    server.route("/test/feed.json", lambda r: Response(200, {"Content-Type": "application/feed+json"}, body))
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        articles, dead_letters = pipeline | ReadFeeds([server.url("/test/feed.json")], fast_config())
        assert_that(
            articles | "Labels" >> beam.Map(lambda a: (a.title, a.outlet, a.content_source, a.published_at == FIXED_PUBLISHED)),
            equal_to([("Linked story", "JSON Desk", "page", False), ("Story in the feed", "JSON Desk", "feed_summary", True)]),
        )
        assert_that(dead_letters, equal_to([]), label="NoDeadLetters")


def test_one_bad_feed_never_stops_the_others(server):
    feeds = [
        FeedSpec(url=server.url("/fault/gzip-bomb"), outlet="bomb"),
        FeedSpec(url=server.url("/fault/good.xml?one-bad"), outlet="good"),
        FeedSpec(url=server.url("/fault/garbage.xml"), outlet="garbage"),
    ]
    with TestPipeline(runner=BATCH_RUNNER) as pipeline:
        articles, dead_letters = pipeline | ReadFeeds(feeds, fast_config())
        assert_that(articles | "Outlets" >> beam.Map(lambda a: a.outlet), equal_to(["good", "good"]))
        assert_that(dead_letters | "Reasons" >> beam.Map(lambda d: d.reason), equal_to(["decompressed_too_large", "malformed_feed"]), label="Dead")


# ---------------------------------------------------------------- polling state


def test_304_costs_no_parse_and_emits_nothing(server):
    client = make_http_client(fast_config())
    feed = resolve_feeds([server.url("/fault/etag-good.xml")], fast_config())[0]
    first = poll_feed(client, feed, FeedState(), fast_config(), tick_s=0)
    second = poll_feed(client, feed, first.state, fast_config(), tick_s=300)
    assert (first.status, len(first.items)) == ("fetched", 2)
    assert (second.status, second.items, second.refusals) == ("not_modified", [], [])
    assert server.requests_to("/fault/etag-good.xml")[-1].headers["if-none-match"] == first.state.etag


def test_a_server_ignoring_validators_costs_no_parse_either(server):
    client = make_http_client(fast_config())
    feed = resolve_feeds([server.url("/fault/etag-random.xml?key=state")], fast_config())[0]
    first = poll_feed(client, feed, FeedState(), fast_config(), tick_s=0)
    second = poll_feed(client, feed, first.state, fast_config(), tick_s=300)
    assert len(first.items) == 2
    assert (second.status, second.items) == ("unchanged", [])
    assert second.state.etag != first.state.etag  # it sent a new ETag for the same bytes


def test_a_wrong_304_delays_new_items_by_at_most_revalidate_after(server):
    """The server keeps one ETag for every version and answers 304 to it."""
    config = fast_config(revalidate_after_s=600)
    client = make_http_client(config)
    feed = resolve_feeds([server.url("/fault/etag-constant.xml?key=revalidate")], config)[0]
    start = dt.datetime(2025, 11, 1, tzinfo=UTC)
    first = poll_feed(client, feed, FeedState(), config, tick_s=0, now=start)
    stale = poll_feed(client, feed, first.state, config, tick_s=300, now=start + dt.timedelta(seconds=300))
    fresh = poll_feed(client, feed, stale.state, config, tick_s=900, now=start + dt.timedelta(seconds=900))
    assert len(first.items) == 1
    assert stale.status == "not_modified"  # the server's wrong answer
    assert fresh.status == "fetched" and len(fresh.items) == 1  # validators dropped: version 2's new item
    assert "if-none-match" not in server.requests_to("/fault/etag-constant.xml")[-1].headers


def test_failing_feeds_back_off_and_honour_retry_after(server):
    config = fast_config(poll_interval_s=60)
    client = make_http_client(config)
    failing = resolve_feeds([server.url("/fault/status/404?backoff")], config)[0]
    state = FeedState()
    for tick, expected_wait in ((0, 60), (60, 120), (180, 240)):
        assert state.is_due(tick, 60)
        outcome = poll_feed(client, failing, state, config, tick_s=tick)
        state = outcome.state
        assert state.not_before_s == tick + expected_wait
        assert not state.is_due(tick + expected_wait - 1, 60)
    limited = resolve_feeds([server.url("/fault/retry-after?key=feed-level&after=3600&fails=9")], config)[0]
    outcome = poll_feed(client, limited, FeedState(), config, tick_s=0)
    assert outcome.refusals[0].reason == "http_429" and outcome.state.not_before_s == 3600


def test_a_feed_on_a_refused_port_is_a_connection_failed_dead_letter():
    """It was `connect_timeout`, "no connection ... within 5.0 s", for a refusal that came at once."""
    config = fast_config()
    feed = resolve_feeds([f"http://127.0.0.1:{closed_port()}/feed.xml"], config)[0]
    outcome = poll_feed(make_http_client(config), feed, FeedState(), config, tick_s=0)
    assert outcome.status == "failed" and outcome.state.failures == 1
    assert [(r.step, r.reason, r.detail) for r in outcome.refusals] == [
        ("feeds.fetch", "connection_failed", f"cannot reach {feed.url}: connection refused")
    ]


def test_seen_items_are_bounded_and_updates_are_new_versions(server):
    polls = {"count": 0}

    def updating(request):
        polls["count"] += 1
        poll = polls["count"]
        items = [
            {"guid": f"u{i}", "link": f"http://127.0.0.1/u{i}", "title": f"U{i}", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE}
            for i in range(5)
        ]
        if poll > 1:
            items[0].update(summary=LONG_SUMMARY + " Corrected.", updated="2025-10-31T12:00:00Z")  # a real update
            items[1]["updated"] = f"2025-11-0{poll}T00:00:00Z"  # restamped on every fetch, same content
            items[2]["summary"] = LONG_SUMMARY + " Tweaked."  # edited without a new date
        items.append(dict(items[3]))  # listed twice in one document
        return Response(200, {"Content-Type": "application/rss+xml"}, rss(f"Updating {poll}", items))

    server.route("/test/updating.xml", updating)
    config = fast_config(seen_items_per_feed=5)
    client = make_http_client(config)
    feed = resolve_feeds([server.url("/test/updating.xml")], config)[0]
    first = poll_feed(client, feed, FeedState(), config, tick_s=0)
    assert [i.guid for i in first.items] == ["u0", "u1", "u2", "u3", "u4"]  # u3's second listing is not a new item
    second = poll_feed(client, feed, first.state, config, tick_s=300)
    assert [i.guid for i in second.items] == ["u0"]
    third = poll_feed(client, feed, second.state, config, tick_s=600)
    assert third.items == [] and third.already_seen == 6
    small = fast_config(seen_items_per_feed=3)
    bounded = poll_feed(client, feed, FeedState(), small, tick_s=0)
    # u3 was sighted last (listed twice): the least recently sighted, u0 and u1, are evicted.
    assert list(bounded.state.seen) == ["u2", "u4", "u3"]


# ---------------------------------------------------------------- pages


def test_extraction_past_the_time_limit_is_stopped_and_the_helper_restarts(server):
    extractor = TimeLimitedExtractor(timeout_s=0.001)
    html = server.page_bytes("ae", sorted(server.ae_pages)[0])
    try:
        with pytest.raises(ExtractionTimeout):
            extractor.extract(html, None)
        extractor.timeout_s = 30
        assert extractor.extract(html, None).text
    finally:
        extractor.close()


def test_a_page_over_the_time_limit_falls_back_or_dead_letters(server):
    config = fast_config(extraction_timeout_s=0.001)
    client = make_http_client(config)
    page = server.page_url("ae", sorted(server.ae_pages)[2])
    now = dt.datetime.now(UTC)
    item = FeedItem(
        feed_url=server.url("/x"), outlet="x", guid="t", link=page, title="T", text="two words", published_at=None,
        language=None, entry_identity="t", polled_at=now, fetch_page=True, respect_robots_txt=True,
    )
    with EXTRACTORS.borrow(config.extraction_timeout_s) as extractor:
        article, refusal, how = article_for_item(client, extractor, item, config)
        assert article is None and refusal.reason == "extraction_timeout" and how == "dead_letter"
        article, refusal, how = article_for_item(client, extractor, item.__class__(**{**_fields(item), "text": LONG_SUMMARY}), config)
        assert article.content_source == "feed_summary" and how == "fallback.extraction_timeout"
        assert article.date_source == "fetch_time"


def test_an_item_text_longer_than_its_page_wins(server):
    config = fast_config()
    client = make_http_client(config)
    long_text = " ".join([LONG_SUMMARY] * 200)
    item = FeedItem(
        feed_url=server.url("/x"), outlet="x", guid="p", link=server.url("/fault/status/200"), title="T", text=long_text,
        published_at=FIXED_PUBLISHED, language="en", entry_identity="p", polled_at=dt.datetime.now(UTC), fetch_page=True, respect_robots_txt=False,
    )
    server.route("/test/short-article", lambda r: Response(200, {"Content-Type": "text/html"}, server.page_bytes("ae", sorted(server.ae_pages)[0])))
    item = item.__class__(**{**_fields(item), "link": server.url("/test/short-article")})
    with EXTRACTORS.borrow(config.extraction_timeout_s) as extractor:
        article, _, how = article_for_item(client, extractor, item, config)
    assert how == "item_text_longer_than_page" and article.text == long_text and article.content_source == "feed_summary"


def _fields(item: FeedItem) -> dict:
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


# ---------------------------------------------------------------- stopping: Ctrl-C and the extraction helper


def _reply(helper: subprocess.Popen, timeout_s: float = 120):
    ready, _, _ = select.select([helper.stdout], [], [], timeout_s)
    assert ready, "the extraction helper did not answer"
    return read_message(helper.stdout)


def _running(pid: int) -> bool:
    """Whether the process runs (a zombie left for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _group(pgid: int) -> dict[int, str]:
    """The running processes of a process group: pid -> command line."""
    members = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                state, _, group = stat.read().rsplit(")", 1)[1].split()[:3]
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(group) == pgid and state != "Z":
            members[int(entry)] = command
    return members


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_ctrl_c_leaves_the_extraction_helper_quiet_and_it_ends_when_its_stdin_closes(server):
    """A terminal's Ctrl-C reaches the helper too (it is in the run's process group): it
    died of its own KeyboardInterrupt and printed a 13-line traceback above the run's
    one-line message. It now ignores SIGINT, from its start-up on, and ends when the run
    closes it. Sent here to the helper alone, as the group's signal reaches it."""
    page = server.page_bytes("ae", sorted(server.ae_pages)[0])
    helper = start_extraction_helper(stderr=subprocess.PIPE)
    try:
        helper.send_signal(signal.SIGINT)  # while it starts: imports, before "ready"
        assert _reply(helper) == "ready"
        write_message(helper.stdin, (page, None))
        helper.send_signal(signal.SIGINT)  # with a page to extract
        status, extract = _reply(helper)
        assert status == "ok" and extract.text
        helper.send_signal(signal.SIGINT)  # idle, reading its stdin: where the traceback came from
        time.sleep(0.5)
        assert helper.poll() is None
        helper.stdin.close()  # what the run's exit does
        assert helper.wait(timeout=30) == 0
        stderr = helper.stderr.read().decode()
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    finally:
        _end(helper)
        helper.stdout.close()
        helper.stderr.close()


def test_the_extraction_helper_ends_when_the_run_dies_even_with_its_stdin_held_open():
    """A run killed outright (SIGKILL, the out-of-memory killer) closes nothing. The
    helper's stdin ends then, unless another process inherited the pipe's write end (here a
    sleeping process, as a fork of the run would): the helper would wait for ever."""
    script = """
import subprocess, sys, time
from transforms.feed_items import read_message
from transforms.read_feeds import start_extraction_helper
helper = start_extraction_helper()
assert read_message(helper.stdout) == "ready"
holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], pass_fds=[helper.stdin.fileno()])
print(helper.pid, holder.pid, flush=True)
time.sleep(120)
"""
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    pids: list[int] = []
    try:
        ready, _, _ = select.select([run.stdout], [], [], 120)
        assert ready, "the stand-in run did not start its helper"
        pids = [int(pid) for pid in run.stdout.readline().split()]
        helper_pid, holder_pid = pids
        run.kill()
        run.wait()
        deadline = time.monotonic() + 15
        while _running(helper_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(helper_pid), "the helper outlived its run"
        assert _running(holder_pid)  # its stdin never ended: it saw the run was gone
    finally:
        _end(run)
        run.stdout.close()
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_page_interrupted_by_ctrl_c_stops_its_helper_and_the_next_page_gets_its_own_answer(server):
    """The helper carries on past a Ctrl-C; the run must not wait for its reply (nor read it
    as the answer for the next page)."""
    big = (
        "<html><body><article>"
        + "".join(f"<div><p>Paragraph {i}: the minister spoke at length about the budget.</p></div>" for i in range(10_000))
        + "</article></body></html>"
    ).encode()  # about a second of extraction
    small = server.page_bytes("ae", sorted(server.ae_pages)[0])
    extractor = TimeLimitedExtractor(timeout_s=60)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        expected = extractor.extract(small, None).text
        helper = extractor._process
        ctrl_c = threading.Timer(0.2, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
        ctrl_c.start()
        with pytest.raises(KeyboardInterrupt):
            extractor.extract(big, None)
        ctrl_c.join()
        assert helper.poll() is not None  # stopped, not left to finish the page
        assert extractor.extract(small, None).text == expected  # a new helper, not the big page's reply
    finally:
        signal.signal(signal.SIGINT, previous)
        extractor.close()


def test_ctrl_c_on_a_feed_run_prints_only_newsbeams_line_and_leaves_no_process(server, tmp_path):
    """The audit's case: `newsbeam run --feed ...` and a terminal's Ctrl-C (SIGINT to the
    whole process group) once its extraction helper is up and pages are being fetched."""
    output = tmp_path / "out"
    run = subprocess.Popen(
        [NEWSBEAM, "run", "--feed", server.url("/synthetic/90.xml?items=30"), "--output", str(output), "--allow-private-network"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (
            any(r.route.startswith("/pages/") and r.query.get("feed") == "90" for r in server.requests)
            and any("--serve-extractions" in command for command in _group(run.pid).values())
        ):
            assert run.poll() is None and time.monotonic() < deadline, "the run never fetched a page"
            time.sleep(0.1)
        os.killpg(run.pid, signal.SIGINT)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        _end(run)
    assert run.returncode == 130, stderr[-4000:]
    assert stderr.splitlines()[-1] == "newsbeam: interrupted; nothing of this run was published", stderr[-4000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-4000:]
    deadline = time.monotonic() + 30
    while _group(run.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _group(run.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the run: {left}"


# ---------------------------------------------------------------- streaming


def test_streaming_polls_emit_each_item_exactly_once(server):
    """TestStream ticks on the streaming runner; the feed gains items between polls
    and drops its oldest, a second feed never changes, a third polls half as often."""
    config = fast_config(poll_interval_s=10)
    feeds = resolve_feeds(
        [
            FeedSpec(url=server.url("/fault/growing.xml?key=exactly-once&start=3&step=2&window=4"), outlet="growing"),
            FeedSpec(url=server.url("/fault/etag-random.xml?key=exactly-once"), outlet="unchanged"),
            FeedSpec(url=server.url("/fault/etag-good.xml?exactly-once"), outlet="slow-poll", poll_interval_s=20),
        ],
        config,
    )
    ticks = TestStream(coder=beam.coders.FloatCoder())
    for tick in (0.0, 10.0, 20.0, 30.0):
        ticks = ticks.add_elements([beam.window.TimestampedValue(tick, tick)]).advance_processing_time(10).advance_watermark_to(tick + 1)
    ticks = ticks.advance_watermark_to_infinity()
    options = PipelineOptions(streaming=True)
    with TestPipeline(runner=STREAMING_RUNNER, options=options) as pipeline:
        articles, dead_letters = pipeline | ticks | "Poll" >> ReadFeedsAtTicks(feeds, config)
        expected = [("growing", f"Story {i}") for i in range(9)] + [("unchanged", "Story 0"), ("unchanged", "Story 1"), ("slow-poll", "Story 0"), ("slow-poll", "Story 1")]
        assert_that(articles | "Keys" >> beam.Map(lambda a: (a.outlet, a.title)), equal_to(expected))
        assert_that(dead_letters, equal_to([]), label="NoDeadLetters")
    growing_polls = [r for r in server.requests_to("/fault/growing.xml") if r.query.get("key") == "exactly-once"]
    slow_polls = [r for r in server.requests_to("/fault/etag-good.xml") if "exactly-once" in r.path]
    assert (len(growing_polls), len(slow_polls)) == (4, 2)


def test_streaming_read_feeds_with_periodic_impulse(server):
    """The real tick source. Beam 2.77's legacy streaming runner cannot run a
    splittable DoFn such as PeriodicImpulse, so this runs on the in-process
    portable runner with --streaming, bounded by run_for_s."""
    config = fast_config(poll_interval_s=1, run_for_s=2.5, fetch_pages=False)
    feeds = [FeedSpec(url=server.url("/fault/growing.xml?key=impulse&start=3&step=2&window=10"), outlet="growing")]
    started = time.time()
    with TestPipeline(runner=BATCH_RUNNER, options=PipelineOptions(streaming=True)) as pipeline:
        articles, dead_letters = pipeline | ReadFeeds(feeds, config, streaming=True)
        assert_that(articles | "Titles" >> beam.Map(lambda a: a.title), equal_to([f"Story {i}" for i in range(7)]))
        assert_that(
            articles | "Ingested" >> beam.Map(lambda a: a.ingested_at.timestamp() >= started),
            lambda flags: None if all(flags) else pytest.fail("streaming articles carry a stale ingested_at"),
            label="IngestedAtFetch",
        )
    polls = [r for r in server.requests_to("/fault/growing.xml") if r.query.get("key") == "impulse"]
    assert len(polls) == 3
    assert polls[0].at >= started  # rebased: the first tick is when the run starts, not at import


# ---------------------------------------------------------------- config


def test_feed_specs_accept_only_http_urls_and_plain_strings():
    config = FeedsConfig(sources=["https://example.com/rss", {"url": "http://example.com/atom", "outlet": "E", "poll_interval_s": 60}])
    assert [s.url for s in config.sources] == ["https://example.com/rss", "http://example.com/atom"]
    with pytest.raises(ValidationError, match="only http and https"):
        FeedsConfig(sources=["file:///etc/passwd"])
    with pytest.raises(ValidationError):
        FeedsConfig(sources=[{"url": "https://e.com/rss", "unknown_key": 1}])


def test_bad_feed_urls_and_networks_are_refused_with_their_reason():
    with pytest.raises(ValueError, match="only http and https"):
        resolve_feeds(["ftp://example.com/feed.xml"], FeedsConfig())
    with pytest.raises(ValueError) as refused:
        resolve_feeds(["not-a-url"], FeedsConfig())
    # Said plainly: it was "refused: Value error, only http and https URLs are fetched, not no scheme".
    assert str(refused.value) == "feed 'not-a-url' refused: not a URL (no http:// or https:// in front): not-a-url"
    with pytest.raises(ValidationError, match="does not appear to be an IPv4 or IPv6 network"):
        FeedsConfig(allowed_networks=["127.0.0.0/99"])


def test_cli_feeds_join_config_sources_without_duplicates():
    config = FeedsConfig(sources=[{"url": "https://example.com/rss", "outlet": "Configured"}], poll_interval_s=120)
    feeds = resolve_feeds(["https://example.com/rss", "https://example.com/other"], config)
    assert [(f.url, f.outlet, f.poll_interval_s) for f in feeds] == [
        ("https://example.com/rss", "Configured", 120),
        ("https://example.com/other", None, 120),
    ]


def test_the_example_config_is_valid():
    data = yaml.safe_load((REPO / "configs" / "feeds.example.yaml").read_text(encoding="utf-8"))
    config = FeedsConfig.model_validate(data["feeds"])
    assert len(config.sources) == 4 and config.sources[1].outlet == "The Guardian"
    assert set(data) == {"feeds"}
