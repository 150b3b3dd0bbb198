"""Pure tests of transforms.dump_parsing: records -> article fields and date evidence."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import warnings

import pytest
import trafilatura

from tests.conftest import FIXTURES, SHARED, require_shared
from transforms.decoding import RefusedInput, decode_bytes
from transforms.dump_parsing import (
    ExtractionTimeout,
    count_words,
    date_from_text,
    dump_name,
    extract_html_article,
    folder_name,
    format_from_extension,
    looks_like_csv_table,
    normalise_language,
    page_outlet,
    parse_json_line,
    parse_json_record,
    parse_plain_text,
    parse_record_date,
    parse_with_zone_abbreviations,
    record_identity,
    run_with_time_limit,
    sniff_format,
    split_date_marker,
)

UTC = dt.timezone.utc
OCT_31 = dt.datetime(2025, 10, 31, tzinfo=UTC)
WINDOW = 1500
EXTRACTION = SHARED / "data" / "article_extraction"


def day(year: int, month: int, d: int) -> dt.datetime:
    return dt.datetime(year, month, d, tzinfo=UTC)


# --- the date marker --------------------------------------------------------------


def test_marker_is_stripped_and_dates_the_article():
    text, evidence = split_date_marker(" date 2025-10-31 He added, “We're enhancing our coordination.”")
    assert text == "He added, “We're enhancing our coordination.”"
    assert (evidence.published_at, evidence.date_source) == (OCT_31, "marker")


def test_marker_alone_on_the_first_line_takes_the_line_with_it():
    text, evidence = split_date_marker("date 2025-1-5\r\nBody starts here.")
    assert text == "Body starts here."
    assert evidence.published_at == day(2025, 1, 5)


def test_impossible_marker_is_stripped_and_flagged():
    text, evidence = split_date_marker(" date 2025-13-45 Officials said on October 30, 2025 that")
    assert text == "Officials said on October 30, 2025 that"
    assert (evidence.published_at, evidence.date_source) == (None, "invalid_marker")
    record = parse_plain_text(" date 2025-13-45 Officials said on October 30, 2025 that", WINDOW)
    assert (record.published_at, record.date_source) == (None, "invalid_marker")  # no guessing past it


def test_a_marker_with_no_article_after_it_is_missing_text():
    with pytest.raises(RefusedInput) as refused:
        parse_plain_text(" date 2025-10-31 \n\n", WINDOW)
    assert refused.value.reason == "missing_text"


@pytest.mark.parametrize(
    "text",
    ["dates 2025-10-31 are listed", "The date 2025-10-31 was set", "date 2025/10/31 x", "update 2025-10-31 x"],
)
def test_text_without_a_marker_is_untouched(text):
    assert split_date_marker(text) == (text, None)


def test_seed_marker_articles(seed_texts):
    dated = {name for name, text in seed_texts.items() if split_date_marker(text)[1]}
    assert dated == {"000_ebedc5cfecfe2817", "001_71d3c31b3f2b2afb"}
    for name in dated:
        record = parse_plain_text(seed_texts[name], WINDOW)
        assert (record.published_at, record.date_source) == (OCT_31, "marker")
        assert not record.text.startswith((" ", "date"))
        assert record.title is None


def test_seeds_without_marker_have_no_dated_evidence(seed_texts):
    """002 opens "Kuala Lumpur, Oct 31" but names no year anywhere; 003 and 004 name no date."""
    for name in ("002_374ddc193f5dd199", "003_e793a1b96374a468", "004_0a08bd7476022494"):
        record = parse_plain_text(seed_texts[name], WINDOW)
        assert (record.published_at, record.date_source) == (None, "unknown"), name
        assert record.text == seed_texts[name]


def test_seed_001_without_its_marker_is_dated_by_its_text(seed_texts):
    body, _ = split_date_marker(seed_texts["001_71d3c31b3f2b2afb"])
    assert date_from_text(body, WINDOW) == date_from_text(body, len(body))
    evidence = date_from_text(body, WINDOW)
    assert (evidence.published_at, evidence.date_source) == (OCT_31, "text_date")


def test_seed_002_dateline_takes_a_year_stated_elsewhere(seed_texts):
    text = seed_texts["002_374ddc193f5dd199"] + "\nThe ADMM-Plus was founded in 2010 and meets every year since 2017."
    assert date_from_text(text, WINDOW).published_at is None  # two years: ambiguous
    text = seed_texts["002_374ddc193f5dd199"] + "\nThe ministers last met in 2025."
    evidence = date_from_text(text, WINDOW)
    assert (evidence.published_at, evidence.date_source) == (OCT_31, "dateline")


# --- datelines and text dates ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("WASHINGTON, Oct. 31, 2025 (Reuters) - The Pentagon said", OCT_31),
        ("New Delhi, 31 October 2025: The defence ministry said", OCT_31),
        ("New Delhi, 31st October, 2025 | The ministry", OCT_31),
        ("October 31, 2025 — The two ministers met", OCT_31),
        ("LONDON (AP) — Friday, October 31, 2025, the talks", OCT_31),
        ("KUALA LUMPUR, 2025-10-31: Officials", OCT_31),
        ("Rio de Janeiro, Nov 3 2024 - Police said", day(2024, 11, 3)),
        ("By Jane Doe\n\nPARIS, SEPT. 9, 2024 - Text", day(2024, 9, 9)),
        ("NEW YORK, Oct 31 (AP) - Stocks rose on October 30, 2025 and in 2024", OCT_31),
        ("Kuala Lumpur, Oct 31 Defence Minister Rajnath Singh, in Malaysia for the 2025 meeting", OCT_31),
    ],
)
def test_dateline(text, expected):
    evidence = date_from_text(text, WINDOW)
    assert (evidence.published_at, evidence.date_source) == (expected, "dateline")


@pytest.mark.parametrize(
    "text",
    [
        "Kuala Lumpur, Oct 31 Defence Minister Rajnath Singh met Pete Hegseth.",  # no year anywhere
        "Kuala Lumpur, Feb 30 something happened in 2025.",  # no such day
        "Kuala Lumpur | In a major boost to strategic cooperation",
        "In a landmark move, the United States and India signed",
        "Troops may 5 times march 3 miles, officials said.",  # lower-case month words are prose
    ],
)
def test_no_date_evidence(text):
    evidence = date_from_text(text, WINDOW)
    assert (evidence.published_at, evidence.date_source) == (None, "unknown")


def test_text_date_is_the_first_full_date_inside_the_window():
    text = "The two ministers met on Friday. " * 10 + "The framework, signed on 31 October 2025, runs to 2035."
    evidence = date_from_text(text, WINDOW)
    assert (evidence.published_at, evidence.date_source) == (OCT_31, "text_date")
    assert date_from_text(text, 100).date_source == "unknown"


# --- JSON records ------------------------------------------------------------------------


def test_json_record_with_canonical_field_names():
    record = parse_json_record(
        {
            "text": "Body of the article.",
            "title": "Headline",
            "url": "https://example.org/a",
            "outlet": "Example Times",
            "published": "2025-10-31T14:30:00+05:30",
            "language": "en-IN",
            "article_id": "ex-1",
        },
        WINDOW,
    )
    assert record.text == "Body of the article."
    assert (record.title, record.url, record.outlet, record.language, record.record_id) == (
        "Headline",
        "https://example.org/a",
        "Example Times",
        "en",
        "ex-1",
    )
    assert (record.published_at, record.date_source) == (dt.datetime(2025, 10, 31, 9, 0, tzinfo=UTC), "record")


def test_json_record_aliases():
    record = parse_json_record(
        {
            "articleBody": "Body.",
            "headline": "A headline",
            "link": "https://example.org/b",
            "publisher": {"@type": "Organization", "name": "The Example"},
            "pubDate": "Fri, 31 Oct 2025 09:15:00 -0400",
            "lang": "EN",
            "doc_id": 42,
        },
        WINDOW,
    )
    assert (record.text, record.title, record.url, record.outlet) == (
        "Body.",
        "A headline",
        "https://example.org/b",
        "The Example",
    )
    assert record.published_at == dt.datetime(2025, 10, 31, 13, 15, tzinfo=UTC)
    assert (record.language, record.record_id) == ("en", "42")


def test_a_news_please_record_of_cc_news_is_read_as_it_is():
    """news-please's article fields (its NewsArticle class), as its Common Crawl dumps write them."""
    record = {
        "authors": ["Jane Doe"],
        "date_download": "2017-03-01 08:00:00",
        "date_modify": None,
        "date_publish": "2017-02-27 13:30:00",
        "description": "Lead.",
        "filename": "https%3A%2F%2Fwww.nytimes.com%2F2017%2F02%2F27%2Fworld%2Fstory.html.json",
        "image_url": "https://static01.nyt.com/images/story.jpg",
        "language": "en",
        "localpath": None,
        "maintext": "The main text of the story.",
        "source_domain": "www.nytimes.com",
        "title": "A story",
        "title_page": None,
        "title_rss": None,
        "url": "https://www.nytimes.com/2017/02/27/world/story.html",
    }
    parsed = parse_json_record(record, WINDOW)
    assert (parsed.text, parsed.title, parsed.outlet, parsed.language) == ("The main text of the story.", "A story", "nytimes.com", "en")
    assert (parsed.published_at, parsed.date_source) == (dt.datetime(2017, 2, 27, 13, 30, tzinfo=UTC), "record")
    # Without its URL the outlet is still the host its source_domain names.
    assert parse_json_record({**record, "url": None}, WINDOW).outlet == "nytimes.com"


def test_trafilaturas_own_json_output_is_read_with_its_url_and_site_name():
    page = (
        "<html><head><title>Storm hits coast</title><meta property='og:site_name' content='Coast Courier'></head>"
        "<body><article><h1>Storm hits coast</h1>"
        + "".join(f"<p>Paragraph {n} of the storm report, long enough to be kept as text.</p>" for n in range(6))
        + "</article></body></html>"
    )
    exported = json.loads(
        trafilatura.extract(page, output_format="json", with_metadata=True, url="https://www.courier.example/2025/10/31/storm")
    )
    parsed = parse_json_record(exported, WINDOW)
    assert parsed.url == "https://www.courier.example/2025/10/31/storm"  # its `source`
    assert parsed.outlet == "Coast Courier"  # its `source-hostname`, not the URL in `source`
    assert parsed.title == "Storm hits coast" and "Paragraph 5 of the storm report" in parsed.text
    assert parsed.published_at == dt.datetime(2025, 10, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # IPTC ninjs 1.x
        (
            {"uri": "urn:newsml:example.org:20251031:story-1", "headline": "Ports close", "body_text": "Ports closed.",
             "versioncreated": "2025-10-31T10:00:00Z", "firstcreated": "2025-10-31T09:00:00Z", "language": "en"},
            ("Ports closed.", "Ports close", None, None, dt.datetime(2025, 10, 31, 10, tzinfo=UTC), "urn:newsml:example.org:20251031:story-1"),
        ),
        # Hugging Face cc_news
        (
            {"title": "Markets rise", "text": "Markets rose.", "domain": "www.reuters.com", "date": "2017-12-01 19:39:07",
             "description": "Markets rose.", "url": "https://www.reuters.com/article/markets", "image_url": None},
            ("Markets rose.", "Markets rise", "https://www.reuters.com/article/markets", "reuters.com", dt.datetime(2017, 12, 1, 19, 39, 7, tzinfo=UTC), None),
        ),
        # An outlet field holding a URL names no outlet: the URL's host does.
        (
            {"text": "Body.", "source": "https://www.bbc.co.uk/news/world-1"},
            ("Body.", None, "https://www.bbc.co.uk/news/world-1", "bbc.co.uk", None, None),
        ),
        # ... but `source` as a name is the outlet, and no URL.
        ({"text": "Body.", "source": "Reuters"}, ("Body.", None, None, "Reuters", None, None)),
    ],
)
def test_json_records_of_other_news_dumps(fields, expected):
    parsed = parse_json_record(fields, WINDOW)
    assert (parsed.text, parsed.title, parsed.url, parsed.outlet, parsed.published_at, parsed.record_id) == expected


def test_json_record_without_a_date_field_uses_text_evidence():
    record = parse_json_record({"body": "WASHINGTON, Oct. 31, 2025 (Reuters) - Text."}, WINDOW)
    assert (record.published_at, record.date_source) == (OCT_31, "dateline")


@pytest.mark.parametrize(
    "fields, expected",
    [
        # No date field, no dateline: the URL's full date.
        ({"text": "Ram raiders hit a jewellery store.", "url": "https://x.fr/news/2025/10/31/raid/"}, (OCT_31, "url")),
        ({"text": "A hearing.", "url": "http://articles.x.com/2025-10-31/news/25293566_1"}, (OCT_31, "url")),
        # The article's own dateline first; the record's date field above all.
        (
            {"text": "PARIS, Nov. 2, 2025 - Ram raiders hit a store.", "url": "https://x.fr/2025/10/31/raid/"},
            (OCT_31 + dt.timedelta(days=2), "dateline"),
        ),
        (
            {"text": "Raid.", "url": "https://x.fr/2025/10/31/raid/", "date": "2025-11-02"},
            (OCT_31 + dt.timedelta(days=2), "record"),
        ),
        # Year and month are not a day; no real day is no date; a text date is the last resort.
        ({"text": "Raid.", "url": "https://x.fr/2025/10/raid.html"}, (None, "unknown")),
        ({"text": "Raid.", "url": "https://x.fr/2025/02/31/raid/"}, (None, "unknown")),
        ({"text": "Raid on October 31, 2025.", "url": "https://x.fr/2025/10/raid.html"}, (OCT_31, "text_date")),
    ],
)
def test_json_record_without_a_date_field_is_dated_by_its_url(fields, expected):
    record = parse_json_record(fields, WINDOW)
    assert (record.published_at, record.date_source) == expected


def test_json_record_with_an_unparseable_date_is_kept_and_flagged():
    record = parse_json_record({"text": "Published October 31, 2025.", "date": "last Tuesday"}, WINDOW)
    assert record.text == "Published October 31, 2025."
    assert (record.published_at, record.date_source) == (None, "invalid_record_date")


@pytest.mark.parametrize(
    "record, named",
    [
        ({"title": "No body"}, "no text field"),
        ({"text": "   "}, "text (string)"),
        ({"body": ["a", "b"]}, "body (array)"),
        ({"text": None, "content": 12}, "content (number)"),
    ],
)
def test_missing_text(record, named):
    with pytest.raises(RefusedInput) as refused:
        parse_json_record(record, WINDOW)
    assert refused.value.reason == "missing_text"
    assert named in refused.value.detail


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"text": "cut short', "invalid_json"),
        ("not json at all", "invalid_json"),
        ("[1, 2, 3]", "not_an_object"),
        ('"a string"', "not_an_object"),
        ("null", "not_an_object"),
    ],
)
def test_json_line_refusals(line, reason):
    with pytest.raises(RefusedInput) as refused:
        parse_json_line(line)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-10-31T10:00:00Z", dt.datetime(2025, 10, 31, 10, tzinfo=UTC)),
        ("2025-10-31T10:00:00+0200", dt.datetime(2025, 10, 31, 8, tzinfo=UTC)),
        ("2025-10-31 10:00", dt.datetime(2025, 10, 31, 10, tzinfo=UTC)),  # naive: taken as UTC
        ("2025-10-31", OCT_31),
        ("Fri, 31 Oct 2025 10:00:00 GMT", dt.datetime(2025, 10, 31, 10, tzinfo=UTC)),
        (1761904800, dt.datetime(2025, 10, 31, 10, tzinfo=UTC)),
        (1761904800000, dt.datetime(2025, 10, 31, 10, tzinfo=UTC)),  # milliseconds
    ],
)
def test_record_dates(value, expected):
    assert parse_record_date(value) == expected


@pytest.mark.parametrize("value", ["last Tuesday", "2025-13-45", "", True, None, [2025, 10, 31], 10**20])
def test_unparseable_record_dates(value):
    with pytest.raises(ValueError):
        parse_record_date(value)


@pytest.mark.parametrize("value, expected", [("en", "en"), ("EN-us", "en"), ("pt_BR", "pt"), ("english", None), ("", None)])
def test_normalise_language(value, expected):
    assert normalise_language(value) == expected


# --- names, formats, identity -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("dumps/a.txt", "text"),
        ("dumps/a.TEXT", "text"),
        ("dumps/page.htm", "html"),
        ("gs://bucket/pages/p.html.gz", "html"),
        ("a.jsonl.gz", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "json"),
        ("saved/feed.rss", "feed"),
        ("saved/feed.atom.gz", "feed"),
        ("saved/feed.rdf", "feed"),
        ("saved/feed.xml", None),  # sniffed: an .xml file may hold anything
        ("a.md", None),
        ("README", None),
    ],
)
def test_format_from_extension(path, expected):
    assert format_from_extension(path) == expected


@pytest.mark.parametrize(
    "head, expected",
    [
        ("<!DOCTYPE html><html><body><p>x</p>", "html"),
        ("\ufeff  <div class='story'><p>x</p></div>", "html"),
        ("<not a tag we know", "text"),
        ('{"text": "a"}\n{"text": "b"}\n', "jsonl"),
        ('[{"text": "a"}]', "json"),
        # a JSON Feed is one object over many lines, not JSONL
        ('{\n  "version": "https://jsonfeed.org/version/1.1",\n  "title": "T",\n  "items": [\n', "json"),
        # so is any object pretty-printed (an API answer saved with jq), even as values one after another
        ('{\n "status": "ok",\n "articles": [\n  {\n', "json"),
        ('\ufeff{\r\n  "title": "a"\r\n}\n{\r\n  "title": "b"\r\n}\n', "json"),
        ("Kuala Lumpur, Oct 31 Defence Minister", "text"),
        ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>T</title>', "feed"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>', "feed"),
        ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">', "feed"),
        # what may come before the root: a stylesheet instruction with a "?" inside, comments, a DOCTYPE with entities
        ('<?xml-stylesheet href="s.xsl?v=2"?><!-- saved 2025-10-31 -- by a crawler -->\n<rss>', "feed"),
        ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>\n<rss version="0.91">', "feed"),
        # a title element makes an HTML guess, but the root decides
        ('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title>', "html"),
        ("<feedback><title>T</title></feedback>", "html"),
        ("<!-- a comment that never ends " + "?> <? " * 2000, "text"),
        ("<?xml ?>" * 3000, "xml"),  # prolog items the feed-root pattern must not re-split (it once backtracked for good)
        # other declared XML is no article and no text
        ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "xml"),
        ('<?xml version="1.0"?>\n<opml version="1.0"><head><title>Subscriptions</title></head>', "xml"),
    ],
)
def test_sniff_format(head, expected):
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    "head, name, expected",
    [
        ("<!-- a feed test with no document -->\n", "saved/empty.xml", "xml"),
        ("<!-- a feed test with no document -->\n", "saved/empty.xml.gz", "xml"),
        ("<p>An entry's HTML, saved alone</p>", "saved/entry.xml", "html"),
        ("Plain words", "notes.dat", "text"),
    ],
)
def test_an_xml_name_that_is_no_feed_and_no_page_is_xml(head, name, expected):
    assert sniff_format(head, name) == expected


def test_every_feed_of_the_feeds_corpus_is_sniffed_as_a_feed():
    """The 1,625 files of ../shared/data/feeds, saved as they were served: each RSS/Atom/RDF one reads as a feed."""
    feeds_dir = SHARED / "data" / "feeds"
    sniffed = {}
    with gzip.open(require_shared(feeds_dir / "index.dev.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            text = decode_bytes((feeds_dir / row["path"]).read_bytes(), honour_declaration=True).text
            sniffed[row["path"]] = (row["format"], sniff_format(text[:65536]))
    feeds = {path: found for path, (labelled, found) in sniffed.items() if labelled in ("rss", "atom", "rdf", "rss-like")}
    assert len(feeds) > 1500
    assert {path: found for path, found in feeds.items() if found != "feed"} == {}
    # what the corpus calls other (OPML, bare entry HTML, an empty document) is not taken for one
    others = {path: found for path, (labelled, found) in sniffed.items() if labelled == "other"}
    assert others["files/feedjira/google-reader-subscriptions.xml"] != "feed"
    assert others["files/feedparser/illformed/rss_empty_document.xml"] != "feed"


def test_names_from_paths():
    assert dump_name("/data/dumps/reuters/2025-10-31.jsonl.gz") == "2025-10-31.jsonl"
    assert dump_name("gs://bucket/dumps/a.txt") == "a.txt"
    assert folder_name("/data/dumps/reuters/2025-10-31.jsonl") == "reuters"
    assert folder_name("gs://bucket/a.txt") == "bucket"
    assert folder_name("relative/a.txt") == "relative"
    assert folder_name("a.txt") is None


def test_identity_prefers_url_then_record_id_then_name_and_position():
    assert record_identity("https://example.org/a", "id-1", "d.jsonl", "#3") == "https://example.org/a"
    assert record_identity(None, "id-1", "d.jsonl", "#3") == "id:id-1"
    assert record_identity(None, None, "d.jsonl", "#3") == "d.jsonl#3"
    assert record_identity(None, None, "seed.txt") == "seed.txt"


# --- HTML ---------------------------------------------------------------------------------


def load_page(page_id_prefix: str) -> tuple[str, dict]:
    folder = require_shared(EXTRACTION)
    with gzip.open(folder / "ground_truth.dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        (gold,) = [r for r in map(json.loads, lines) if r["id"].startswith(page_id_prefix)]
    html = decode_bytes(gzip.decompress((folder / gold["html_file"]).read_bytes()), honour_declaration=True)
    return html.text, gold


def test_extract_html_article_from_a_real_page():
    html, gold = load_page("156770d676")  # The Hill
    record = extract_html_article(html, min_words=25, text_date_window=WINDOW)
    assert record.url == gold["url"]
    assert record.outlet == "The Hill"
    assert record.title.startswith("South Dakota governor doubles down on")
    # <meta property="article:published_time" content="2019-11-19T06:56:43-05:00">
    assert (record.published_at, record.date_source) == (dt.datetime(2019, 11, 19, 11, 56, 43, tzinfo=UTC), "page_metadata")
    gold_paragraphs = [p for p in gold["article_body"].split("\n") if len(p) > 80]
    assert all(p in record.text for p in gold_paragraphs[1:])


def test_page_without_article_is_refused():
    html = (FIXTURES / "bad_input" / "no_article.html").read_text(encoding="utf-8")
    with pytest.raises(RefusedInput) as refused:
        extract_html_article(html, min_words=25, text_date_window=WINDOW)
    assert refused.value.reason == "no_article_text"
    assert "5 words" in refused.value.detail


def test_word_count_counts_characters_of_unspaced_scripts():
    assert count_words("Home\nWorld\nBusiness  Sport — 24/7") == 5
    assert count_words("先日、不正に改造したiPhone") == 10
    assert count_words("ประเทศไทย") == 9


def test_a_short_japanese_article_is_an_article():
    html, gold = load_page("85439e26c4")  # 865 characters of Japanese, 18 white-space words
    record = extract_html_article(html, min_words=25, text_date_window=WINDOW)
    assert record.text.startswith(gold["article_body"][:40])


def test_page_without_date_metadata_falls_back_to_its_dateline():
    paragraph = "<p>" + "The ministers agreed a ten-year framework for defence cooperation. " * 4 + "</p>"
    html = (
        "<html><head><title>Framework signed</title></head><body><article>"
        "<p>KUALA LUMPUR, Oct. 31, 2025 (Reuters) - India and the United States signed a framework.</p>"
        f"{paragraph}{paragraph}</article></body></html>"
    )
    record = extract_html_article(html, min_words=25, text_date_window=WINDOW)
    assert (record.published_at, record.date_source) == (OCT_31, "dateline")


# --- time-zone abbreviations in page dates ----------------------------------------------------


def test_zone_abbreviation_gives_its_offset_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_with_zone_abbreviations("Mon, 03 Mar 2014 10:00:00 EST")
    assert parsed.astimezone(UTC) == dt.datetime(2014, 3, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, in_utc",
    [
        ("2017-03-21 11:35:57 EDT", dt.datetime(2017, 3, 21, 15, 35, 57, tzinfo=UTC)),
        ("2014-03-03 10:00 PST", dt.datetime(2014, 3, 3, 18, tzinfo=UTC)),
        ("2014-03-03 10:00 CDT", dt.datetime(2014, 3, 3, 15, tzinfo=UTC)),
        ("2014-07-03 10:00 CEST", dt.datetime(2014, 7, 3, 8, tzinfo=UTC)),
        ("2014-07-03 10:00 BST", dt.datetime(2014, 7, 3, 9, tzinfo=UTC)),
        ("2014-03-03 10:00 GMT", dt.datetime(2014, 3, 3, 10, tzinfo=UTC)),
        ("2014-03-03 10:00 AEDT", dt.datetime(2014, 3, 2, 23, tzinfo=UTC)),
        ("2014-03-03T10:00:00+05:30", dt.datetime(2014, 3, 3, 4, 30, tzinfo=UTC)),  # a written offset as before
    ],
)
def test_zone_abbreviations(text, in_utc):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_with_zone_abbreviations(text)
    assert parsed.astimezone(UTC) == in_utc


@pytest.mark.parametrize("zone", ["IST", "AST", "XYZ"])
def test_ambiguous_or_unknown_zone_keeps_the_time_as_written_without_a_warning(zone):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_with_zone_abbreviations(f"2014-03-03 10:00 {zone}")
    assert parsed == dt.datetime(2014, 3, 3, 10, 0) and parsed.tzinfo is None


def test_page_date_with_a_zone_abbreviation_is_read_with_its_offset():
    paragraph = "<p>" + "The ministers agreed a ten-year framework for defence cooperation. " * 4 + "</p>"
    html = (
        '<html><head><title>Framework signed</title>'
        '<meta property="article:published_time" content="2017-03-21 11:35:57 EDT"></head>'
        f"<body><article>{paragraph}{paragraph}</article></body></html>"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = extract_html_article(html, min_words=25, text_date_window=WINDOW)
    assert [str(w.message) for w in caught if "tzname" in str(w.message)] == []
    assert (record.published_at, record.date_source) == (
        dt.datetime(2017, 3, 21, 15, 35, 57, tzinfo=UTC), "page_metadata"
    )


def test_a_real_page_dated_in_edt():
    folder = require_shared(SHARED / "data" / "web_extraction_utomo")
    html = decode_bytes(gzip.decompress((folder / "html" / "d315371c326d060d.html.gz").read_bytes()), honour_declaration=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = extract_html_article(html.text, min_words=25, text_date_window=WINDOW)
    assert [str(w.message) for w in caught if "tzname" in str(w.message)] == []
    # The page says "2017-03-21 11:35:57 EDT"; read as UTC before, four hours early.
    assert record.published_at == dt.datetime(2017, 3, 21, 15, 35, 57, tzinfo=UTC)


# --- time limit -------------------------------------------------------------------------------


def test_time_limit_returns_the_value_or_the_error():
    assert run_with_time_limit(lambda a, b=0: a + b, 5.0, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        run_with_time_limit(lambda: 1 / 0, 5.0)


def test_time_limit_abandons_a_slow_call():
    release = threading.Event()
    with pytest.raises(ExtractionTimeout) as timed_out:
        run_with_time_limit(release.wait, 0.05, 30)
    assert timed_out.value.reason == "extraction_timeout"
    abandoned = [t for t in threading.enumerate() if t.name == "newsbeam-extract"]
    assert abandoned and all(t.daemon for t in abandoned)
    release.set()


def test_json_record_without_outlet_is_known_by_its_url_host():
    record = parse_json_record({"text": "Body.", "url": "https://www.reuters.com/world/story-1"}, 1500)
    assert record.outlet == "reuters.com"
    named = parse_json_record({"text": "Body.", "url": "https://www.reuters.com/x", "source": "Reuters"}, 1500)
    assert named.outlet == "Reuters"
    assert parse_json_record({"text": "Body.", "url": "not a url"}, 1500).outlet is None
    assert parse_json_record({"text": "Body."}, 1500).outlet is None
    assert parse_json_record({"text": "Body.", "url": "http://127.0.0.1:8000/a"}, 1500).outlet == "127.0.0.1"


# --- paragraphs and outlet of an HTML page ------------------------------------------------------

UTOMO = SHARED / "data" / "web_extraction_utomo"


def load_utomo_page(page_id: str) -> str:
    folder = require_shared(UTOMO)
    raw = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
    return decode_bytes(raw, honour_declaration=True).text


@pytest.mark.parametrize(
    "page_id, outlet",
    [
        # <meta name="copyright" content="© 2006 New York Magazine Holdings LLC. All Rights Reserved.">
        ("843d861feac1e7b0", "New York Magazine Holdings LLC"),
        # site name = the headline; <title>CNN.com - Lessons learned from Katrina - Sep 22, 2005
        ("b7c2b274d6e7196b", "CNN.com"),
        # site name = the headline; <title>Harsh Afghan outposts raise serious challenges for U.S. - CNN.com
        ("e2ab652df07008f9", "CNN.com"),
        # site name = the headline; <title>…: CIA - National | Globalnews.ca
        ("c74e0993e87345aa", "Globalnews.ca"),
        # site name = the title, and nothing else names the site: no outlet (not the headline)
        ("f0aa7a87b63188c5", None),
    ],
)
def test_a_page_outlet_is_never_a_headline_or_a_copyright_notice(page_id, outlet):
    record = extract_html_article(load_utomo_page(page_id), min_words=25, text_date_window=WINDOW)
    assert record.outlet == outlet


@pytest.mark.parametrize(
    "sitename, title, url, outlet",
    [
        ("The Hill", "South Dakota governor doubles down", "https://thehill.com/a", "The Hill"),
        ("© 2008 New York Magazine Holdings LLC. All Rights Reserved.", "John Paulson Wins Again", None,
         "New York Magazine Holdings LLC"),
        ("? 2006 New York Magazine Holdings LLC. All Rights Reserved.", "Spanish Lessons", None,  # © lost to "?"
         "New York Magazine Holdings LLC"),
        ("Copyright © 1998-2005 Ars Technica, LLC", "A headline", None, "Ars Technica, LLC"),
        ("Foxconn to expand production for Xiaomi in India | Taiwan News",
         "Foxconn to expand production for Xiaomi in India | Taiwan News", "http://www.taiwannews.com.tw/x",
         "Taiwan News"),
        ("LinkNaija | Nigeria's popular news platform",
         "LinkNaija | Nigeria's popular news platform: Kate Henshaw Is Looking Stunning In New Photos",
         "http://www.linknaija.com/x", "LinkNaija"),
        ("Mars rover finds water", "Mars rover finds water", "https://www.space.com/123-mars.html", "space.com"),
        ("Seeker - Science. World. Exploration. Seek for yourself.", "Stephen Hawking to Visit Space",
         None, "Seeker - Science. World. Exploration. Seek for yourself."),  # a site's tagline, not a headline
        (None, "A headline", "https://www.reuters.com/x", "reuters.com"),
        (None, "A headline", None, None),
    ],
)
def test_page_outlet(sitename, title, url, outlet):
    assert page_outlet(sitename, title, url) == outlet


def test_a_page_date_read_day_first_is_settled_by_the_url():
    # NY Mag prints "04/08/2017" beside <time itemprop="datePublished" datetime="2017-04-08T09:32:44-04:00">;
    # htmldate read it day first (4 August). The URL says .../2017/04/...
    record = extract_html_article(load_utomo_page("4ea6cb08cdebf6dc"), min_words=25, text_date_window=WINDOW)
    assert record.url.startswith("http://nymag.com/daily/intelligencer/2017/04/")
    assert (record.published_at.date(), record.date_source) == (dt.date(2017, 4, 8), "page_metadata")


@pytest.mark.parametrize(
    "page_id, url_start, published_at",
    [
        # The markup's time, not the URL's bare date at midnight.
        ("76b0fae2631e16ec", "http://money.cnn.com/2017/03/28/", dt.datetime(2017, 3, 28, 5, 5, 45, tzinfo=UTC)),
        # An evening in the US is the next day in UTC; the URL keeps the local day.
        ("61f59e10e251de55", "http://www.montgomeryadvertiser.com/", dt.datetime(2017, 4, 8, 0, 36, 8, tzinfo=UTC)),
    ],
)
def test_a_page_date_in_the_markup_comes_before_the_date_in_its_url(page_id, url_start, published_at):
    record = extract_html_article(load_utomo_page(page_id), min_words=25, text_date_window=WINDOW)
    assert record.url.startswith(url_start)
    assert (record.published_at, record.date_source) == (published_at, "page_metadata")



@pytest.mark.parametrize(
    "head, is_table",
    [
        ("title,text,url\nA,b,c\n", True),
        ("\ufeff\n\nHeadline;Article Body\nA;b\n", True),
        ("id\tpublished at\tcontent\n1\t2020\tx\n", True),
        ("url,date\nhttps://a.example,2020-01-01\n", False),  # no field with an article's words
        ("Title, text and more: a headline\n\nThe story.\n", False),  # the article's first line
        ("title\nA title alone\n", False),  # one column: nothing tells a table from a text
        ("title,an explanation of what this column holds in words,text\n", False),  # a cell too long to be a name
    ],
)
def test_a_table_is_told_from_a_text_by_a_header_of_known_field_names(head, is_table):
    assert looks_like_csv_table(head) is is_table
