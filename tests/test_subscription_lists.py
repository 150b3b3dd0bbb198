"""Subscription lists (OPML): a reader's real export, the config key and --opml, and a run
that reads every listed feed from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ElementTree

import duckdb
import pytest
import yaml

from pipeline.config import ConfigError, load_config
from tests.conftest import SHARED, require_shared, run_newsbeam
from tests.feed_server import FeedServer, Response
from transforms.read_feeds import FeedsConfig, resolve_feeds
from transforms.subscription_lists import SubscriptionListError, subscribed_feed_urls

GOOGLE_READER_EXPORT = SHARED / "data" / "feeds" / "files" / "feedjira" / "google-reader-subscriptions.xml"
AN_RSS_FEED = SHARED / "data" / "feeds" / "files" / "feedjira" / "PaulGraham.xml"

NESTED_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Desk subscriptions</title></head>
  <body>
    <outline text="Wires">
      <outline text="Wire A" type="rss" xmlUrl="https://wire-a.example/rss"/>
      <outline text="Regional">
        <outline text="Wire B" type="rss" xmlUrl="https://wire-b.example/atom.xml"/>
      </outline>
    </outline>
    <outline text="Wire A again" type="rss" xmlUrl="https://wire-a.example/rss"/>
    <outline text="A web page, no feed" htmlUrl="https://site.example/"/>
    <outline text="Papers" type="rss" xmlUrl="http://paper.example/feed"/>
  </body>
</opml>
"""


def _opml(entries: list[tuple[str, str]]) -> str:
    outlines = "".join(f'<outline text="{text}" type="rss" xmlUrl="{url}"/>' for text, url in entries)
    return f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'


# ---------------------------------------------------------------- the list itself


def test_a_readers_real_export_gives_every_listed_feed_once_in_its_order():
    path = require_shared(GOOGLE_READER_EXPORT)
    listed = [outline.get("xmlUrl") for outline in ElementTree.parse(path).iter("outline") if outline.get("xmlUrl")]
    urls = subscribed_feed_urls(path)
    assert list(urls) == list(dict.fromkeys(listed))
    assert len(urls) > 250 and all(url.startswith(("http://", "https://")) for url in urls)


def test_folders_are_followed_repeats_read_once_and_outlines_without_a_feed_skipped(tmp_path):
    path = tmp_path / "desk.opml"
    path.write_text(NESTED_OPML, encoding="utf-8")
    assert subscribed_feed_urls(path) == (
        "https://wire-a.example/rss",
        "https://wire-b.example/atom.xml",
        "http://paper.example/feed",
    )


def test_an_edited_list_is_read_again(tmp_path):
    path = tmp_path / "list.opml"
    path.write_text(_opml([("A", "https://a.example/rss")]), encoding="utf-8")
    assert subscribed_feed_urls(path) == ("https://a.example/rss",)
    path.write_text(_opml([("A", "https://a.example/rss"), ("B", "https://b.example/rss")]), encoding="utf-8")
    later = time.time() + 5  # a second write within the clock's resolution would keep the mtime
    os.utime(path, (later, later))
    assert subscribed_feed_urls(path) == ("https://a.example/rss", "https://b.example/rss")


def test_lists_that_cannot_be_used_are_refused_naming_the_file_and_the_entries(tmp_path):
    with pytest.raises(SubscriptionListError, match=r"cannot read subscription list .*missing\.opml: No such file"):
        subscribed_feed_urls(tmp_path / "missing.opml")
    with pytest.raises(SubscriptionListError, match=r"PaulGraham\.xml is not an OPML subscription list"):
        subscribed_feed_urls(require_shared(AN_RSS_FEED))
    empty = tmp_path / "empty.opml"
    empty.write_text('<opml version="2.0"><body><outline text="folder"/></body></opml>', encoding="utf-8")
    with pytest.raises(SubscriptionListError, match=r"empty\.opml lists no feed"):
        subscribed_feed_urls(empty)
    broken = tmp_path / "broken.opml"
    broken.write_text(
        _opml([("Good", "https://ok.example/rss")] + [(f"Bad {n}", f"feed://bad{n}.example/rss") for n in range(5)]),
        encoding="utf-8",
    )
    with pytest.raises(SubscriptionListError) as refused:
        subscribed_feed_urls(broken)
    message = str(refused.value)
    assert "5 feed(s) refused" in message and "'Bad 0': only http and https URLs are fetched, not feed" in message
    assert "'Bad 2'" in message and "'Bad 3'" not in message and message.endswith("and 2 more")


# ---------------------------------------------------------------- the config key


def test_config_lists_are_found_beside_the_config_and_join_its_sources(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "desk.opml").write_text(NESTED_OPML, encoding="utf-8")
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "feeds": {
                    "sources": [{"url": "https://wire-b.example/atom.xml", "outlet": "Wire B", "poll_interval_s": 60}],
                    "opml": "lists/desk.opml",  # one list alone needs no brackets
                    "poll_interval_s": 600,
                }
            }
        ),
        encoding="utf-8",
    )
    feeds = load_config(config_file).feeds
    assert feeds.opml == (str(tmp_path / "lists" / "desk.opml"),)
    resolved = resolve_feeds(["http://paper.example/feed", "https://cli.example/rss"], feeds)
    # The configured source keeps its overrides; a listed feed takes the section's settings.
    assert [(f.url, f.outlet, f.poll_interval_s) for f in resolved] == [
        ("https://wire-b.example/atom.xml", "Wire B", 60),
        ("https://wire-a.example/rss", None, 600),
        ("http://paper.example/feed", None, 600),
        ("https://cli.example/rss", None, 600),
    ]


def test_a_bad_list_in_the_config_is_a_config_error_naming_its_key(tmp_path):
    (tmp_path / "good.opml").write_text(NESTED_OPML, encoding="utf-8")
    (tmp_path / "bad.opml").write_text(_opml([("Local", "file:///etc/passwd")]), encoding="utf-8")
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text("feeds:\n  opml: [good.opml, bad.opml, gone.opml]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config_file)
    assert {key for key, _ in refused.value.problems} == {"feeds.opml[1]", "feeds.opml[2]"}
    assert "'Local': only http and https URLs are fetched, not file" in str(refused.value)
    assert FeedsConfig().subscribed == ()


# ---------------------------------------------------------------- a run


@pytest.fixture(scope="module")
def server():
    feed_server = FeedServer().start()
    yield feed_server
    feed_server.stop()


def test_a_run_with_opml_reads_every_listed_feed_from_the_server(server, tmp_path):
    first, second = server.url("/synthetic/301.xml?items=2"), server.url("/synthetic/302.xml?items=2")
    (tmp_path / "desk.opml").write_text(_opml([("First", first), ("Second", second)]), encoding="utf-8")
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(yaml.safe_dump({"feeds": {"sources": [{"url": first, "outlet": "Configured"}]}}), encoding="utf-8")
    output = tmp_path / "out"
    requests_before = len(server.requests)
    run = run_newsbeam(
        "--config", str(config_file), "--opml", str(tmp_path / "desk.opml"),
        "--output", str(output), "--allow-private-network", cwd=tmp_path,
    )
    assert "2 feed(s)" in run.stderr
    manifest = json.loads((output / "_run.json").read_text())
    assert (manifest["records_read"], manifest["rows_written"], manifest["dead_letters"]) == (4, 4, 0)
    rows = duckdb.sql(
        f"select outlet, title from read_parquet('{output}/event_id=*/date=*/*.parquet') order by outlet, title"
    ).fetchall()
    assert rows == [
        ("Configured", "Item 0 of feed 301"),
        ("Configured", "Item 1 of feed 301"),
        ("Synthetic feed 302", "Item 0 of feed 302"),
        ("Synthetic feed 302", "Item 1 of feed 302"),
    ]
    polled = [r.route for r in server.requests[requests_before:] if r.route.startswith("/synthetic/")]
    assert sorted(polled) == ["/synthetic/301.xml", "/synthetic/302.xml"]


def test_a_streaming_run_polls_the_listed_feeds_as_read_when_it_started(server, tmp_path):
    listed = tmp_path / "desk.opml"
    listed.write_text(_opml([("Third", server.url("/synthetic/303.xml?items=2"))]), encoding="utf-8")
    output = tmp_path / "out"
    run = run_newsbeam(
        "--streaming", "--max-rounds", "1", "--opml", str(listed),
        "--output", str(output), "--allow-private-network", cwd=tmp_path,
    )
    assert "1 feed(s)" in run.stderr
    titles = duckdb.sql(f"select title from read_parquet('{output}/event_id=*/date=*/*.parquet') order by title").fetchall()
    assert titles == [("Item 0 of feed 303",), ("Item 1 of feed 303",)]


def test_a_bad_opml_flag_stops_the_run_before_it_starts(tmp_path):
    run = run_newsbeam("--opml", str(require_shared(AN_RSS_FEED)), "--output", str(tmp_path / "out"), check=False)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == f"newsbeam: --opml: {AN_RSS_FEED} is not an OPML subscription list"
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- a list at a URL


def _serve_list(server: FeedServer, route: str, body: bytes, status: int = 200) -> str:
    server.route(route, lambda request: Response(status, {"Content-Type": "text/x-opml"}, body))
    return server.url(route)


def test_a_config_naming_a_list_url_loads_without_fetching_and_the_run_start_fetches_it_once(server, tmp_path):
    feed = server.url("/synthetic/304.xml?items=1")
    listed = _serve_list(server, "/lists/config-desk.opml", _opml([("Fourth", feed)]).encode())
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        yaml.safe_dump({"feeds": {"opml": listed, "allowed_networks": ["127.0.0.0/8"]}}), encoding="utf-8"
    )
    feeds = load_config(config_file).feeds
    assert feeds.opml == (listed,) and server.hits("/lists/config-desk.opml") == 0
    assert [spec.url for spec in feeds.subscribed] == [feed]
    assert server.hits("/lists/config-desk.opml") == 1
    accept = server.requests_to("/lists/config-desk.opml")[0].headers.get("accept", "")
    assert accept.startswith("text/x-opml")


def test_a_run_with_an_opml_url_reads_the_feeds_it_lists(server, tmp_path):
    feed = server.url("/synthetic/305.xml?items=2")
    listed = _serve_list(server, "/lists/run-desk.opml", _opml([("Fifth", feed)]).encode())
    output = tmp_path / "out"
    run = run_newsbeam("--opml", listed, "--output", str(output), "--allow-private-network", cwd=tmp_path)
    assert "1 feed(s)" in run.stderr
    titles = duckdb.sql(f"select title from read_parquet('{output}/event_id=*/date=*/*.parquet') order by title").fetchall()
    assert titles == [("Item 0 of feed 305",), ("Item 1 of feed 305",)]


def test_a_list_url_that_fails_or_is_private_stops_the_run_naming_it(server, tmp_path):
    missing = _serve_list(server, "/lists/gone.opml", b"not here", status=404)
    run = run_newsbeam("--opml", missing, "--output", str(tmp_path / "out"), "--allow-private-network", check=False)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f"newsbeam: --opml: cannot fetch subscription list {missing}: http_404")
    not_a_list = _serve_list(server, "/lists/feed.opml", server.synthetic_feed(306, 1))
    run = run_newsbeam("--opml", not_a_list, "--output", str(tmp_path / "out"), "--allow-private-network", check=False)
    assert run.stderr.strip().splitlines()[-1] == f"newsbeam: --opml: {not_a_list} is not an OPML subscription list"
    # Without --allow-private-network a loopback list is refused before any request.
    hits = server.hits("/lists/run-private.opml")
    private = _serve_list(server, "/lists/run-private.opml", _opml([("X", "https://x.example/rss")]).encode())
    run = run_newsbeam("--opml", private, "--output", str(tmp_path / "out"), check=False)
    assert run.returncode == 2 and "private_address" in run.stderr
    assert server.hits("/lists/run-private.opml") == hits
    assert not (tmp_path / "out").exists()


def test_a_list_url_is_fetched_once_however_often_the_read_section_is_asked(server, tmp_path):
    feed = server.url("/synthetic/306.xml?items=1")
    listed = _serve_list(server, "/lists/asked-often.opml", _opml([("Sixth", feed)]).encode())
    feeds = FeedsConfig(opml=[listed], allowed_networks=["127.0.0.0/8"])
    assert feeds.has_feeds and server.hits("/lists/asked-often.opml") == 0
    read = feeds.with_lists_read()
    assert server.hits("/lists/asked-often.opml") == 1
    assert read.opml == () and read.has_feeds and read.with_lists_read() is read
    assert [spec.url for spec in read.subscribed] == [feed]
    assert [resolved.url for resolved in resolve_feeds([], read)] == [feed]
    assert server.hits("/lists/asked-often.opml") == 1


def test_streaming_rounds_called_directly_fetch_a_list_url_once_not_every_round(server, tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.config import NewsbeamConfig
    from pipeline.rounds import RoundsPlan, run_rounds
    from pipeline.runners import BATCH_LOCAL_RUNNER

    feed = server.url("/synthetic/307.xml?items=2")
    listed = _serve_list(server, "/lists/every-round.opml", _opml([("Seventh", feed)]).encode())
    config = NewsbeamConfig()
    config = config.model_copy(
        update={"feeds": config.feeds.model_copy(update={"opml": (listed,), "allow_private_network": True})}
    )
    output = tmp_path / "out"
    plan = RoundsPlan(interval_s=0.0, max_rounds=3)
    options = PipelineOptions([f"--runner={BATCH_LOCAL_RUNNER}"])
    assert run_rounds(str(output), options, config, [], [], plan, BATCH_LOCAL_RUNNER) == 0
    assert server.hits("/lists/every-round.opml") == 1
    titles = duckdb.sql(f"select title from read_parquet('{output}/event_id=*/date=*/*.parquet') order by title").fetchall()
    assert titles == [("Item 0 of feed 307",), ("Item 1 of feed 307",)]
