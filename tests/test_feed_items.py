"""Pure feed logic: parsing real feed files, XML safety, identities, dates, text."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import time

import feedparser
import pytest

from tests.conftest import SHARED, require_shared
from tests.feed_server import LONG_SUMMARY, rss
from transforms.dump_parsing import page_date, parse_json_record
from transforms.feed_items import (
    FeedEntry,
    FeedItem,
    FeedRejected,
    PageExtract,
    article_from_item,
    check_entity_expansion,
    choose_published_at,
    decode_page,
    extract_page,
    feed_item,
    html_to_text,
    is_new_version,
    is_real_text,
    parse_feed,
    struct_time_to_utc,
)

UTC = dt.timezone.utc
FEEDS = SHARED / "data" / "feeds"
URL = "http://127.0.0.1:8097/feed.xml"


def feed_index() -> list[dict]:
    with gzip.open(require_shared(FEEDS / "index.dev.jsonl.gz"), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def rejection(call) -> FeedRejected:
    with pytest.raises(FeedRejected) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------- text


def test_html_to_text_keeps_paragraphs_and_drops_markup():
    markup = "<p>First <b>bold</b> para.</p><p>Second&nbsp;one<br>next line</p><script>alert(1)</script>"
    assert html_to_text(markup) == "First bold para.\n\nSecond one\nnext line"


def test_html_to_text_reads_a_line_break_in_the_source_as_a_space_except_in_pre():
    markup = "<p>A paragraph that\n    pretty-printed markup wraps.</p>\n<p>Line<br/>\nbreak</p><pre>kept\nas is</pre>"
    assert html_to_text(markup) == "A paragraph that pretty-printed markup wraps.\n\nLine\nbreak\n\nkept\nas is"
    assert html_to_text("plain text\nwith &amp; an entity") == "plain text\nwith & an entity"


def test_html_to_text_survives_control_characters_and_broken_markup():
    assert html_to_text("<p>bell\x07 and\x00 null</p>") == "bell and null"
    assert html_to_text("plain &amp; simple") == "plain & simple"
    assert html_to_text("<") == "<"
    # control characters written as references arrive only after parsing, in texts and tails
    assert html_to_text("<p>one &#3;two</p><a href='x'>link</a>&#x1b;tail<pre>a&#1;b</pre>") == "one two\n\nlinktail\n\nab"


def test_real_text_needs_enough_words():
    assert is_real_text(LONG_SUMMARY, 25)
    assert not is_real_text("Read more.", 25)


# ---------------------------------------------------------------- XML safety


def billion_laughs(levels: int = 9) -> bytes:
    declarations = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, levels + 1))
    return (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{declarations}]><rss><channel><title>&l{levels};</title></channel></rss>').encode()


def test_billion_laughs_and_quadratic_blowup_are_refused_before_parsing():
    assert rejection(lambda: check_entity_expansion(billion_laughs(), 10 * 2**20)).reason == "xml_entity_expansion"
    quadratic = b'<!DOCTYPE r [\n<!ENTITY a "' + b"x" * 50_000 + b'">\n]><rss><channel><title>' + b"&a;" * 50_000 + b"</title></channel></rss>"
    started = time.monotonic()
    assert rejection(lambda: parse_feed(quadratic, url=URL, max_expansion_bytes=10 * 2**20)).reason == "xml_entity_expansion"
    assert time.monotonic() - started < 1


def test_entity_cycles_count_as_unbounded():
    cyclic = b'<!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&a;">]><rss><channel><title>&a;</title></channel></rss>'
    assert rejection(lambda: check_entity_expansion(cyclic, 1000)).reason == "xml_entity_expansion"


def test_small_entities_are_allowed():
    check_entity_expansion(billion_laughs(levels=2), 10_000)  # 300 bytes of expansion
    check_entity_expansion(b"<rss><channel><title>&amp; no declarations</title></channel></rss>", 10)


def test_a_body_that_names_a_local_file_is_not_read_from_disk(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss("Secret feed", [{"guid": "s", "link": "http://127.0.0.1/s", "title": "secret"}]))
    # feedparser.parse(bytes) would open this path; newsbeam hands it a stream.
    assert rejection(lambda: parse_feed(str(secret).encode(), url=URL)).reason == "malformed_feed"


# ---------------------------------------------------------------- parsing


def test_parse_rss_items_with_links_text_and_dates():
    body = rss(
        "Example",
        [
            {"guid": "a", "link": "/stories/a", "title": "A &amp; B", "summary": "<p>Hello <b>there</b></p>", "pubDate": "Fri, 31 Oct 2025 10:00:00 +0530"},
            {"link": "http://example.com/b", "title": "B", "content": "<p>Full</p><p>text</p>", "summary": "Short"},
        ],
        language="en-GB",
    )
    feed = parse_feed(body, url="http://example.com/feed.xml", content_type="application/rss+xml")
    first, second = feed.entries
    assert (feed.title, feed.language, feed.format, feed.problem) == ("Example", "en", "rss20", None)
    assert first.link == "http://example.com/stories/a"  # relative link resolved against the feed URL
    assert first.guid == "a" and first.text == "Hello there" and first.title == "A & B"
    assert first.published_at == dt.datetime(2025, 10, 31, 4, 30, tzinfo=UTC)
    assert second.identity == "http://example.com/b" and second.text == "Full\n\nText".replace("T", "t")


def test_an_aggregators_items_name_their_publisher_and_lose_it_from_the_title():
    """Google News style: each item's <source> is its outlet, and its title ends in " - <source>"."""
    body = rss(
        "Google News",
        [
            {"guid": "1", "link": "http://127.0.0.1/a", "title": "Rubio meets Jaishankar - Reuters", "source": ("Reuters", "https://www.reuters.com")},
            {"guid": "2", "link": "http://127.0.0.1/b", "title": "Hegseth in Delhi – The Hindu", "source": ("The Hindu", "https://www.thehindu.com")},
            {"guid": "3", "link": "http://127.0.0.1/c", "title": "Reuters - a profile", "source": ("Reuters", "https://www.reuters.com")},
            {"guid": "4", "link": "http://127.0.0.1/d", "title": "Markets close higher - Reuters"},
        ],
    )
    feed = parse_feed(body, url=URL, content_type="application/rss+xml")
    assert [(entry.title, entry.source) for entry in feed.entries] == [
        ("Rubio meets Jaishankar", "Reuters"),
        ("Hegseth in Delhi", "The Hindu"),
        ("Reuters - a profile", "Reuters"),  # the name elsewhere in the title stays
        ("Markets close higher - Reuters", None),  # no <source>: nothing to strip
    ]
    # Google News's summary: the headline linked, then the publisher in a <font>.
    summaries = [
        '<a href="http://127.0.0.1/a">Rubio meets Jaishankar</a>&nbsp;&nbsp;<font color="#6f6f6f">Reuters</font>',
        "Rubio met Jaishankar on trade, a spokesman told Reuters",
        '<a href="http://127.0.0.1/a">Rubio meets Jaishankar - Reuters</a>&nbsp;&nbsp;<font color="#6f6f6f">Reuters</font>',
    ]
    body = rss(
        "Google News",
        [
            {"guid": str(i), "link": "http://127.0.0.1/a", "title": "Rubio meets Jaishankar - Reuters", "summary": summary,
             "source": ("Reuters", "https://www.reuters.com")}
            for i, summary in enumerate(summaries)
        ],
    )
    headline_only, real_summary, suffixed = parse_feed(body, url=URL, content_type="application/rss+xml").entries
    assert headline_only.text == "Rubio meets Jaishankar"  # adds nothing to the title: a headline
    assert real_summary.text == summaries[1]  # a sentence that ends with the name keeps it
    assert suffixed.text == "Rubio meets Jaishankar"  # the linked headline kept its " - Reuters"
    polled = dt.datetime(2026, 11, 23, tzinfo=UTC)

    def outlet(entry, configured):
        return feed_item(
            entry, feed, feed_url=URL, outlet=configured, polled_at=polled, fetch_page=False, respect_robots_txt=True
        ).outlet

    assert [outlet(entry, None) for entry in feed.entries] == ["Reuters", "The Hindu", "Reuters", "Google News"]
    assert outlet(feed.entries[0], "My aggregator") == "My aggregator"  # a configured outlet still wins


def test_a_feed_without_a_title_is_known_by_its_host_as_a_record_of_that_site_is():
    body = rss("", [{"guid": "1", "link": "http://127.0.0.1/a", "title": "Markets close higher"}])
    polled = dt.datetime(2026, 11, 23, tzinfo=UTC)

    def outlet(feed_url):
        feed = parse_feed(body, url=feed_url, content_type="application/rss+xml")
        assert not feed.title
        return feed_item(
            feed.entries[0], feed, feed_url=feed_url, outlet=None, polled_at=polled, fetch_page=False,
            respect_robots_txt=True,
        ).outlet

    assert outlet("https://feeds.reuters.com/reuters/topNews") == "reuters.com"
    assert outlet("https://feeds.reuters.com/reuters/topNews") == parse_json_record(
        {"text": "Body.", "url": "https://www.reuters.com/markets/story-1"}, 1500
    ).outlet
    assert outlet(URL) == "127.0.0.1"  # no registered domain: the host as written


def test_item_sources_of_the_feedparser_suite_read_as_plain_text():
    expected = {
        "rss/item_source.xml": "Example source",
        "atom10/entry_source_title.xml": "Example Atom",
        "atom10/entry_source_title_base64.xml": "Example Atom",
        "atom10/entry_source_title_escaped_markup.xml": "Example Atom",
        "atom10/entry_source_title_inline_markup.xml": "Example Atom",
        "atom10/entry_source_title_text_plain.xml": "Example Atom",
        "atom10/entry_source_title_inline_markup_2.xml": "History of the <blink> tag",
    }
    for path, source in expected.items():
        body = (FEEDS / "files" / "feedparser" / "wellformed" / path).read_bytes()
        assert parse_feed(body, url=URL).entries[0].source == source, path


def test_a_flawed_feed_keeps_its_items_and_names_the_flaw():
    body = rss("Flawed", [{"guid": "1", "link": "http://e.com/1", "title": "One"}]).replace(b"</channel>", b"<item><title>a & b</title></item></channel>")
    feed = parse_feed(body, url=URL, content_type="application/rss+xml")
    assert feed.problem is not None and feed.problem.reason == "malformed_xml_items_kept"
    assert [e.guid for e in feed.entries][:1] == ["1"]


def test_html_json_garbage_and_empty_bodies_are_rejected_with_reasons():
    html = b'<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head><body>Hi</body></html>'
    not_feed = rejection(lambda: parse_feed(html, url="http://e.com/page", content_type="text/html"))
    assert not_feed.reason == "not_a_feed" and "http://e.com/rss" in not_feed.detail
    assert rejection(lambda: parse_feed(b'{"articles": []}', url=URL)).reason == "unsupported_format"
    assert rejection(lambda: parse_feed(b'{"version": "https://jsonfeed.org/version/1"}', url=URL)).reason == "malformed_feed"
    assert rejection(lambda: parse_feed(b'{"version": "https://jsonfeed.org/version/1", "items": [', url=URL)).reason == "malformed_feed"
    assert rejection(lambda: parse_feed(b"\x00\xff<<<garbage", url=URL)).reason == "malformed_feed"
    assert rejection(lambda: parse_feed(b"  \n", url=URL)).reason == "empty_feed"
    damaged = rejection(lambda: parse_feed(b'<?xml version="1.0" encoding="UT\xd08"?><rss version="2.0"/>', url=URL))
    assert damaged.reason == "malformed_feed" and "XML declaration" in damaged.detail


# The example of the JSON Feed 1.1 spec (https://jsonfeed.org/version/1.1), items extended
# with the fields newsbeam reads.
JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "My Example Feed",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "language": "en-GB",
    "items": [
        {"id": "2", "content_text": "This is a second item.", "url": "https://example.org/second-item"},
        {
            "id": "1",
            "content_html": "<p>Hello, world!</p><p>A second paragraph.</p>",
            "summary": "Hello.",
            "title": "First &amp; foremost",
            "url": "/initial-post",
            "date_published": "2025-10-31T10:00:00+05:30",
            "date_modified": "2025-10-31T12:00:00+05:30",
        },
        {"id": 3, "external_url": "https://elsewhere.example/story", "summary": "Only a summary here."},
    ],
}


def test_a_json_feed_gives_its_items_as_entries():
    feed = parse_feed(json.dumps(JSON_FEED).encode("utf-8"), url="https://example.org/feed.json", content_type="application/feed+json")
    assert (feed.title, feed.language, feed.format, feed.problem) == ("My Example Feed", "en", "json11", None)
    second, first, third = feed.entries
    assert (second.guid, second.link, second.title, second.text) == ("2", "https://example.org/second-item", None, "This is a second item.")
    # HTML content as paragraphs, the longest text wins, a relative URL resolved against the feed's.
    assert (first.guid, first.link, first.title) == ("1", "https://example.org/initial-post", "First & foremost")
    assert first.text == "Hello, world!\n\nA second paragraph."
    assert first.published_at == dt.datetime(2025, 10, 31, 4, 30, tzinfo=dt.timezone.utc)
    assert first.declared_change == "2025-10-31T12:00:00+05:30"
    assert (third.guid, third.link, third.text, third.published_at) == ("3", "https://elsewhere.example/story", "Only a summary here.", None)


def test_the_body_not_the_content_type_says_json():
    # An RSS feed a server labels application/json is still read as RSS.
    feed = parse_feed(rss("Mislabelled", [{"guid": "1", "link": "http://e.com/1", "title": "One"}]), url=URL, content_type="application/json")
    assert [e.guid for e in feed.entries] == ["1"]


def test_the_real_json_feed_of_the_feeds_corpus_gives_every_item():
    """feedjira's sample JSON Feed (inessential.com, JSON Feed 1.0), served as JSON."""
    body = require_shared(FEEDS / "files" / "feedjira" / "json_feed.json").read_bytes()
    items = json.loads(body)["items"]
    feed = parse_feed(body, url="https://inessential.com/feed.json", content_type="application/json")
    assert (feed.title, feed.language, feed.format, feed.problem) == ("inessential.com", "en", "json1", None)
    assert [(e.guid, e.link) for e in feed.entries] == [(item["id"], item["url"]) for item in items]
    assert all(e.title and e.published_at and len(e.text) > 100 and "<p>" not in e.text for e in feed.entries)


def test_a_json_feed_with_items_that_are_no_objects_keeps_the_others_and_names_the_flaw():
    body = json.dumps({**JSON_FEED, "items": [JSON_FEED["items"][0], "not an item", 7]}).encode("utf-8")
    feed = parse_feed(body, url=URL)  # no Content-Type: the body speaks for itself
    assert [entry.guid for entry in feed.entries] == ["2"]
    assert feed.problem.reason == "malformed_json_feed_items_kept" and "2 of 3 items" in feed.problem.detail


def test_a_valid_feed_without_items_is_empty_not_rejected():
    feed = parse_feed(rss("Quiet", []), url=URL, content_type="application/rss+xml")
    assert feed.entries == () and feed.problem is None


def test_identity_and_new_versions():
    base = dict(guid=None, link=None, title="T", text="body", published_at=None, declared_change="2025-10-31T10:00:00Z")
    by_link = FeedEntry(**{**base, "link": "http://e.com/a"})
    assert by_link.identity == "http://e.com/a"
    assert FeedEntry(**{**base, "guid": "g", "link": "http://e.com/a"}).identity == "g"
    assert FeedEntry(**base).identity.startswith("sha256:")
    seen = by_link.sighting
    assert is_new_version(by_link, None)
    assert not is_new_version(by_link, seen)  # listed again
    corrected = FeedEntry(**{**base, "link": "http://e.com/a", "text": "corrected body", "declared_change": "2025-10-31T12:00:00Z"})
    assert is_new_version(corrected, seen)  # a declared update with new content
    restamped = FeedEntry(**{**base, "link": "http://e.com/a", "declared_change": "2025-11-01T00:00:00Z"})
    assert not is_new_version(restamped, seen)  # a feed stamping "now" on every fetch
    reworded = FeedEntry(**{**base, "link": "http://e.com/a", "text": "other body"})
    assert not is_new_version(reworded, seen)  # an edit without a new date


# ---------------------------------------------------------------- real feed files


def _expectation_holds(expect: str, result) -> bool:
    try:
        return bool(eval(expect, {"feedparser": feedparser, "datetime": dt, "time": time}, result))
    except Exception:
        return False


def test_every_real_feed_file_parses_or_is_rejected_with_a_reason():
    """All 1,625 files of ../shared/data/feeds: no crash, no hang, bozo files flagged."""
    outcomes = {"parsed": 0, "rejected": 0}
    for row in feed_index():
        body = (FEEDS / row["path"]).read_bytes()
        headers = {k.lower(): v for k, v in (row["http_headers"] or {}).items()}
        try:
            feed = parse_feed(body, url=URL, content_type=headers.get("content-type", ""), content_location=headers.get("content-location"))
            outcomes["parsed"] += 1
            if row["expect_bozo"]:
                assert feed.problem is not None, row["path"]
        except FeedRejected as rejected:
            outcomes["rejected"] += 1
            assert rejected.reason in {"malformed_feed", "not_a_feed", "unsupported_format", "empty_feed"}, row["path"]
            assert row["expect_bozo"] is not False or row["category"] == "wellformed", row["path"]
    assert outcomes["parsed"] > 1300


def test_feedparser_expectations_hold_through_newsbeam_parsing():
    """The suite's own Expect: expressions, evaluated on the parse newsbeam makes.

    Wherever feedparser reading the same bytes with the same headers meets an
    expectation, newsbeam's parse must too; the few expectations feedparser 6.0
    itself misses (or that test feedparser's own HTTP fetching, which newsbeam
    replaces) are the only misses allowed.
    """
    checked, misses = 0, []
    for row in feed_index():
        if not row["expect"]:
            continue
        if row["skip_unless"]:
            try:
                eval(row["skip_unless"])
            except Exception:
                continue
        body = (FEEDS / row["path"]).read_bytes()
        headers = {k.lower(): v for k, v in (row["http_headers"] or {}).items()}
        raw: dict = {}
        try:
            parse_feed(
                body,
                url=URL,
                content_type=headers.get("content-type", ""),
                content_location=headers.get("content-location"),
                content_language=headers.get("content-language"),
                raw=raw,
            )
        except FeedRejected:
            pass
        ours = _expectation_holds(row["expect"], raw["result"])
        direct_headers = {"content-type": headers.get("content-type") or "application/xml", "content-location": headers.get("content-location", URL)}
        if "content-language" in headers:
            direct_headers["content-language"] = headers["content-language"]
        direct = feedparser.parse(io.BytesIO(body), response_headers=direct_headers)
        if _expectation_holds(row["expect"], direct):
            assert ours, row["path"]
        checked += 1
        if not ours:
            misses.append(row["path"])
    assert checked > 1400
    assert len(misses) <= 12, misses


# ---------------------------------------------------------------- dates


def test_dates_keep_offsets_and_become_utc():
    assert struct_time_to_utc(time.strptime("2025-10-31 10:00", "%Y-%m-%d %H:%M")) == dt.datetime(2025, 10, 31, 10, tzinfo=UTC)
    assert struct_time_to_utc(None) is None
    assert page_date("2019-11-19T06:56:43-0500", None) == dt.datetime(2019, 11, 19, 11, 56, 43, tzinfo=UTC)
    assert page_date("2019-11-18T00:00:00", None) == dt.datetime(2019, 11, 18, tzinfo=UTC)
    assert page_date("not a date", None) is None


def test_publication_date_precedence():
    fetched = dt.datetime(2025, 11, 1, 12, tzinfo=UTC)
    item = dt.datetime(2025, 10, 31, 10, tzinfo=UTC)
    page = dt.datetime(2025, 10, 30, tzinfo=UTC)
    assert choose_published_at(item, page, fetched) == (item, "feed_item")
    assert choose_published_at(None, page, fetched) == (page, "page_metadata")
    assert choose_published_at(None, None, fetched) == (fetched, "fetch_time")
    far_future = fetched + dt.timedelta(days=30)
    assert choose_published_at(far_future, page, fetched) == (page, "page_metadata")
    in_url = dt.datetime(2025, 10, 29, tzinfo=UTC)
    assert choose_published_at(None, page, fetched, in_url) == (page, "page_metadata")
    assert choose_published_at(None, None, fetched, in_url) == (in_url, "url")
    assert choose_published_at(None, None, fetched, far_future) == (fetched, "fetch_time")


# ---------------------------------------------------------------- pages


def test_decode_page_trusts_only_certain_encodings():
    assert decode_page("café".encode("utf-8")) == "café"
    assert decode_page("\u201cquoted\u201d".encode("cp1252"), "text/html; charset=ISO-8859-1") == "\u201cquoted\u201d"
    assert decode_page("hé".encode("utf-16")) == "hé"
    unknown = "café".encode("cp1252")
    assert decode_page(unknown) == unknown  # left to trafilatura's sniffing


def test_extract_page_and_article_fields_on_a_real_page():
    rows = [json.loads(line) for line in gzip.open(require_shared(SHARED / "data" / "article_extraction" / "ground_truth.dev.jsonl.gz"), "rt")]
    row = rows[0]
    html = gzip.open(SHARED / "data" / "article_extraction" / row["html_file"], "rb").read()
    page = extract_page(decode_page(html), row["url"])
    assert isinstance(page, PageExtract) and page.title
    gold_words = set(row["article_body"].split())
    assert len(gold_words & set(page.text.split())) > 0.8 * len(gold_words)
    fetched = dt.datetime(2025, 11, 1, tzinfo=UTC)
    item = FeedItem(
        feed_url="http://127.0.0.1/feed.xml", outlet="WSJ", guid="g1", link=row["url"], title=None, text="",
        published_at=None, language="en", entry_identity="g1", polled_at=fetched, fetch_page=True, respect_robots_txt=True,
    )
    article = article_from_item(item, text=page.text, content_source="page", ingested_at=fetched, page=page, page_url=row["url"])
    again = article_from_item(item, text=page.text, content_source="page", ingested_at=fetched, page=page, page_url=row["url"])
    assert article.article_id == again.article_id
    assert (article.source_kind, article.source_ref, article.title, article.date_source) == ("feed", row["url"], page.title, "page_metadata")
    assert article.published_at == page_date(page.date, None)


def test_a_feed_pages_date_read_day_first_is_settled_by_its_url():
    # The same NY Mag page as the file reader's test: "04/08/2017" is April 8 (URL .../2017/04/...).
    raw = gzip.decompress((require_shared(SHARED / "data" / "web_extraction_utomo") / "html" / "4ea6cb08cdebf6dc.html.gz").read_bytes())
    url = "http://nymag.com/daily/intelligencer/2017/04/kushner-is-more-of-an-economic-populist-than-steve-bannon.html"
    page = extract_page(decode_page(raw), url)
    assert page_date(page.date, None).date() == dt.date(2017, 8, 4)  # htmldate's reading, without the URL
    fetched = dt.datetime(2017, 4, 9, tzinfo=UTC)
    item = FeedItem(
        feed_url="http://127.0.0.1/feed.xml", outlet="NY Mag", guid="g1", link=url, title=None, text="",
        published_at=None, language="en", entry_identity="g1", polled_at=fetched, fetch_page=True, respect_robots_txt=True,
    )
    article = article_from_item(item, text=page.text, content_source="page", ingested_at=fetched, page=page, page_url=url)
    assert (article.published_at.date(), article.date_source) == (dt.date(2017, 4, 8), "page_metadata")


def test_an_item_without_a_date_is_dated_by_its_links_url_before_the_poll_time():
    """A feed that still lists old stories: the link's /YYYY/MM/DD/ says when, the poll does not."""
    fetched = dt.datetime(2025, 11, 1, 12, tzinfo=UTC)
    link = "https://detroit.cbslocal.com/2019/11/19/michigan-officials-6th-fatality/"
    text = "Michigan health authorities are reporting a 6th fatality linked to Eastern Equine Encephalitis."
    dated, undated = (
        FeedItem(
            feed_url="http://127.0.0.1/feed.xml", outlet="CBS Detroit", guid=link, link=url, title="6th fatality",
            text=text, published_at=None, language="en", entry_identity=url, polled_at=fetched, fetch_page=False,
            respect_robots_txt=True,
        )
        for url in (link, "https://detroit.cbslocal.com/news/michigan-officials-6th-fatality/")
    )
    article = article_from_item(dated, text=text, content_source="summary", ingested_at=fetched)
    assert (article.published_at, article.date_source) == (dt.datetime(2019, 11, 19, tzinfo=UTC), "url")
    article = article_from_item(undated, text=text, content_source="summary", ingested_at=fetched)
    assert (article.published_at, article.date_source) == (fetched, "fetch_time")


def test_extract_page_returns_none_for_a_page_without_text():
    assert extract_page("<html><body></body></html>", None) is None
