"""JSON as APIs and search engines hand it out: NewsAPI answers, Elasticsearch/OpenSearch search
responses and elasticdump lines, AP-style envelopes; pure and through ReadFileDumps."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.test_read_files import keyed, letter_key, ref_name, run_read
from transforms.decoding import RefusedInput
from transforms.dump_parsing import document_records, parse_json_record, search_hit_source
from transforms.ninjs import parse_news_json

UTC = dt.timezone.utc
WINDOW = 1500
STORY = "The harbour reopened on Friday after the storm, officials said, and the first ships came in at dawn."

# The shape of NewsAPI's /v2/everything answer: content cut at about 200 characters with a marker.
NEWSAPI = {
    "status": "ok",
    "totalResults": 2,
    "articles": [
        {
            "source": {"id": "bbc-news", "name": "BBC News"},
            "author": "A Reporter",
            "title": "Harbour reopens after storm",
            "description": "Ships return to the harbour.",
            "url": "https://www.bbc.co.uk/news/harbour-1",
            "urlToImage": "https://ichef.bbci.co.uk/x.jpg",
            "publishedAt": "2024-05-01T10:15:00Z",
            "content": STORY[:80] + "\u2026 [+2345 chars]",
        },
        {
            "source": {"id": None, "name": "Example Times"},
            "title": "Storm closes the coast road",
            "description": "The coast road was closed overnight as the storm hit the harbour town.",
            "url": "https://times.example/coast-road",
            "publishedAt": "2024-05-01T06:00:00+02:00",
            "content": None,
        },
    ],
}

SEARCH_RESPONSE = {
    "took": 3,
    "timed_out": False,
    "hits": {
        "total": {"value": 2, "relation": "eq"},
        "hits": [
            {"_index": "news", "_id": "doc-1", "_score": 1.0, "_source": {"title": "One", "body": STORY, "date": "2024-05-02"}},
            {"_index": "news", "_id": "doc-2", "_score": 0.9, "_source": {"title": "Two", "article_id": "own-id"}},
        ],
    },
}


def test_a_newsapi_article_reads_its_source_name_time_and_text_without_the_cut_marker():
    prefix, articles = document_records(NEWSAPI)
    assert prefix == "[articles]" and len(articles) == 2
    first = parse_news_json(articles[0], WINDOW)
    assert first.text == STORY[:80]
    assert (first.outlet, first.title, first.url) == ("BBC News", "Harbour reopens after storm", "https://www.bbc.co.uk/news/harbour-1")
    assert first.published_at == dt.datetime(2024, 5, 1, 10, 15, tzinfo=UTC)
    # No content at all: the description stands in, as a feed item's summary does.
    second = parse_news_json(articles[1], WINDOW)
    assert second.text == "The coast road was closed overnight as the storm hit the harbour town."
    assert second.published_at == dt.datetime(2024, 5, 1, 4, 0, tzinfo=UTC)


def test_search_hits_and_elasticdump_lines_are_read_as_their_source_documents():
    prefix, hits = document_records(SEARCH_RESPONSE)
    assert prefix == "[hits][hits]"
    assert search_hit_source(hits[0]) == {"title": "One", "body": STORY, "date": "2024-05-02", "id": "doc-1"}
    assert search_hit_source(hits[1]) == {"title": "Two", "article_id": "own-id"}  # its own id kept
    record = parse_news_json(hits[0], WINDOW)
    assert (record.title, record.record_id, record.text) == ("One", "doc-1", STORY)
    with pytest.raises(RefusedInput) as refused:
        parse_news_json(hits[1], WINDOW)
    assert refused.value.reason == "missing_text"


def test_an_ap_style_envelope_gives_its_ninjs_items():
    answer = {"api_version": "2", "data": {"items": [{"meta": {"score": 1}, "item": {"uri": "urn:ap:1", "type": "text", "headline": "Head", "body_text": STORY}}]}}
    prefix, items = document_records(answer)
    assert prefix == "[data][items]"
    record = parse_news_json(items[0], WINDOW)
    assert (record.title, record.record_id, record.text) == ("Head", "urn:ap:1", STORY)


def test_records_with_text_of_their_own_are_never_unwrapped():
    record = {"text": STORY, "items": [{"text": "other"}], "_source": {"text": "other"}, "item": {"text": "other"}}
    assert document_records(record) is None
    assert search_hit_source(record) is record
    assert parse_json_record(record, WINDOW).text == STORY


def test_api_answers_and_search_exports_are_read_with_every_record_counted(tmp_path):
    (tmp_path / "newsapi.json").write_text(json.dumps(NEWSAPI), encoding="utf-8")
    (tmp_path / "search.json").write_text(json.dumps(SEARCH_RESPONSE), encoding="utf-8")
    (tmp_path / "none.json").write_text(json.dumps({"status": "ok", "totalResults": 0, "articles": []}), encoding="utf-8")
    dump = [SEARCH_RESPONSE["hits"]["hits"][0], {"_index": "news", "_id": "doc-3", "_source": {"content": STORY, "source": "Wire"}}]
    (tmp_path / "elasticdump.jsonl").write_text("".join(json.dumps(line) + "\n" for line in dump), encoding="utf-8")
    # A poller's log: one API answer per line.
    answers = [NEWSAPI, {"status": "ok", "totalResults": 0, "articles": []}]
    (tmp_path / "polls.jsonl").write_text("".join(json.dumps(answer) + "\n" for answer in answers), encoding="utf-8")

    def row(article):
        return (ref_name(article.source_ref), article.outlet)

    records = run_read(
        [tmp_path / "*"],
        keyed(
            row,
            [
                ("newsapi.json[articles][0]", "BBC News"),
                ("newsapi.json[articles][1]", "Example Times"),
                ("search.json[hits][hits][0]", tmp_path.name),
                ("elasticdump.jsonl:1", tmp_path.name),
                ("elasticdump.jsonl:2", "Wire"),
                ("polls.jsonl:1[articles][0]", "BBC News"),
                ("polls.jsonl:1[articles][1]", "Example Times"),
            ],
        ),
        keyed(
            letter_key,
            [
                ("search.json[hits][hits][1]", "read.jsonl", "missing_text"),
                ("none.json", "read.jsonl", "empty_file"),
                ("polls.jsonl:2", "read.jsonl", "empty_file"),
            ],
        ),
    )
    assert records == 10


def _random_value(rng, depth: int = 0):
    keys = ["text", "body", "content", "title", "headline", "headlines", "bodies", "uri", "type", "date", "published",
            "publishedAt", "firstcreated", "versionCreated", "source", "outlet", "_source", "_id", "item", "meta",
            "articles", "items", "data", "hits", "description", "summary", "language", "infosources", "value", "role",
            "contenttype", "copyrightholder", "id", "url"]
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 1e308, 10**20, 1.5])
    if kind in (2, 3, 4):
        return rng.choice(["", " ", "2024-05-01T10:00:00Z", "not a date", "<p>Markup</p>", STORY, "picture", "main",
                           "text/html", "https://x.example/a", "[+12 chars]", "\u2026 [+3 chars]", "urn:x"])
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(6))}


def test_any_json_object_gives_a_record_or_a_refusal_never_another_error():
    """Seeded random objects built from the fields the readers look at (ninjs, envelopes,
    search hits, NewsAPI): whatever their shape, a record or a RefusedInput."""
    import random

    rng = random.Random(20261125)
    outcomes = {"record": 0, "refused": 0}
    for _ in range(5000):
        value = _random_value(rng)
        document = value if isinstance(value, dict) else {"uri": "urn:x", "bodies": value}
        wrapped = document_records(document)
        for element in wrapped[1] if wrapped else [document]:
            try:
                parse_news_json(element, WINDOW)
                outcomes["record"] += 1
            except RefusedInput:
                outcomes["refused"] += 1
    assert outcomes["record"] > 100 and outcomes["refused"] > 100
