"""ReadFileDumps in real Beam pipelines (FnApiRunner): seeds, bad input, real HTML pages.

Every test checks the conservation rule: records_read == articles + dead letters.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import BATCH_RUNNER, FIXTURES, SEEDS_DIR, SHARED, require_shared, seed_paths
from transforms.dead_letters import METRICS_NAMESPACE
from transforms.dump_parsing import split_date_marker
from transforms.read_files import ReadConfig, ReadFileDumps, globstar_variants, match_pattern
from transforms.schema import Article, DeadLetter, make_article_id

UTC = dt.timezone.utc
INGESTED_AT = dt.datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
OCT_31 = dt.datetime(2025, 10, 31, tzinfo=UTC)
BAD_INPUT = FIXTURES / "bad_input"
EXTRACTION = SHARED / "data" / "article_extraction"
REAL_PAGES = ("042bb7b5fe", "156770d676", "14cc2a0ca5")  # WSJ, The Hill, ScienceAlert


def ref_name(source_ref: str) -> str:
    """The file name (plus :LINE or [INDEX]) of a source_ref."""
    return source_ref.replace("\\", "/").rsplit("/", 1)[-1]


def article_key(article) -> tuple:
    return (ref_name(article.source_ref), article.source_kind, article.date_source, article.published_at)


def kind_outlet_title(article) -> tuple:
    """What a folder-of-formats test checks of each row: where it came from, as what, whose, which story."""
    return (ref_name(article.source_ref), article.source_kind, article.outlet, article.title)


def letter_key(letter) -> tuple:
    return (ref_name(letter.source_ref), letter.step, letter.reason)


def run_read(patterns, articles_check, letters_check, config: ReadConfig | None = None) -> int:
    """Run ReadFileDumps with the two checks; return the records_read counter."""
    pipeline = TestPipeline(runner=BATCH_RUNNER)
    articles, dead_letters = pipeline | "ReadFileDumps" >> ReadFileDumps(
        [str(p) for p in patterns], config, ingested_at=INGESTED_AT
    )
    assert_that(articles, articles_check, label="CheckArticles")
    assert_that(dead_letters, letters_check, label="CheckDeadLetters")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(
        MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name("records_read")
    )["counters"]
    return sum(counter.committed for counter in counters)


def keyed(key, expected):
    """A matcher: the elements, mapped by `key`, equal `expected` (any order)."""
    match = equal_to(expected)

    def check(elements):
        match([key(element) for element in elements])

    return check


def all_of(*checks):
    def check(elements):
        for one in checks:
            one(elements)

    return check


# --- the seeds ---------------------------------------------------------------------


def seed_expectations() -> dict[str, str]:
    """Seed file name -> the article text (marker stripped)."""
    return {p.name: split_date_marker(p.read_text(encoding="utf-8"))[0] for p in seed_paths()}


def check_seed_articles(expected_texts: dict[str, str], outlet: str):
    def check(articles):
        assert len(articles) == 5
        for article in articles:
            name = ref_name(article.source_ref)
            assert article.text == expected_texts[name], name
            assert article.article_id == make_article_id(name, expected_texts[name]), name
            assert (article.url, article.title, article.language) == (None, None, None)
            assert article.outlet == outlet
            assert article.content_source == "file"
            assert article.ingested_at == INGESTED_AT
            assert not article.text.startswith(" date ")

    return check


SEED_DATES = [
    ("000_ebedc5cfecfe2817.txt", "text", "marker", OCT_31),
    ("001_71d3c31b3f2b2afb.txt", "text", "marker", OCT_31),
    # "Kuala Lumpur, Oct 31" dateline, but no year anywhere in the article.
    ("002_374ddc193f5dd199.txt", "text", "unknown", None),
    ("003_e793a1b96374a468.txt", "text", "unknown", None),
    ("004_0a08bd7476022494.txt", "text", "unknown", None),
]


def test_seeds_give_five_articles_two_dated_by_their_marker():
    texts = seed_expectations()
    records = run_read(
        [SEEDS_DIR / "*.txt"],
        all_of(keyed(article_key, SEED_DATES), check_seed_articles(texts, outlet="sample")),
        equal_to([]),
    )
    assert records == 5


def test_article_ids_do_not_depend_on_where_the_dump_lives(tmp_path, monkeypatch):
    elsewhere = tmp_path / "copies" / "desk"
    elsewhere.mkdir(parents=True)
    for path in seed_paths():
        shutil.copy(path, elsewhere / path.name)
    monkeypatch.chdir(tmp_path)
    records = run_read(
        ["copies/desk/*.txt"],  # relative to another working directory
        all_of(keyed(article_key, SEED_DATES), check_seed_articles(seed_expectations(), outlet="desk")),
        equal_to([]),
    )
    assert records == 5


def test_overlapping_patterns_read_each_file_once_and_empty_patterns_are_allowed(tmp_path):
    records = run_read(
        [SEEDS_DIR / "*.txt", SEEDS_DIR / "000_*.txt", SEEDS_DIR / "**.txt", tmp_path / "nothing" / "*.jsonl"],
        keyed(article_key, SEED_DATES),
        equal_to([]),
    )
    assert records == 5


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("dumps/*.jsonl", ["dumps/*.jsonl"]),
        ("dumps/**", ["dumps/**"]),
        ("dumps/**/*.jsonl", ["dumps/**/*.jsonl", "dumps/*.jsonl"]),
        ("**/*.txt", ["**/*.txt", "*.txt"]),
        ("a/**/b/**/c.txt", ["a/**/b/**/c.txt", "a/**/b/c.txt", "a/b/**/c.txt", "a/b/c.txt"]),
    ],
)
def test_each_globstar_slash_may_also_stand_for_no_folder(pattern, expected):
    assert globstar_variants(pattern) == expected


def test_a_globstar_pattern_reads_the_files_at_its_top_too(tmp_path):
    """`dumps/**/*.txt` means the files under dumps/ at any depth, dumps/ itself included, as in bash."""
    (tmp_path / "dumps" / "desk" / "day").mkdir(parents=True)
    seeds = seed_paths()
    for path, folder in zip(seeds, ["dumps", "dumps", "dumps/desk", "dumps/desk/day", "dumps/desk/day"]):
        shutil.copy(path, tmp_path / folder / path.name)
    pattern = str(tmp_path / "dumps" / "**" / "*.txt")
    assert [m.path for m in match_pattern(pattern)] == sorted(
        str(p) for p in (tmp_path / "dumps").rglob("*.txt")
    )
    assert run_read([pattern], keyed(article_key, SEED_DATES), equal_to([])) == 5


def test_nothing_matched_gives_nothing(tmp_path):
    assert run_read([tmp_path / "*.txt"], equal_to([]), equal_to([])) == 0


# --- the bad-input set ------------------------------------------------------------------

BAD_INPUT_ARTICLES = [
    ("invalid_utf8.txt", "text", "unknown", None),
    ("cp1252_smart_quotes.txt", "text", "unknown", None),
    ("utf16_bom.txt", "text", "unknown", None),
    ("impossible_date_marker.txt", "text", "invalid_marker", None),
    ("latin1_page.html", "html", "page_metadata", dt.datetime(2019, 11, 18, 9, 30, tzinfo=UTC)),
    ("broken_lines.jsonl:1", "jsonl", "record", dt.datetime(2019, 11, 19, 20, 5, tzinfo=UTC)),
    ("broken_lines.jsonl:4", "jsonl", "record", dt.datetime(2019, 11, 19, 8, 0, tzinfo=UTC)),
    ("broken_lines.jsonl:8", "jsonl", "unknown", None),
    ("missing_text.jsonl:4", "jsonl", "invalid_record_date", None),
    ("truncated.jsonl.gz:1", "jsonl", "url", dt.datetime(2019, 11, 19, tzinfo=UTC)),  # no date field: the URL's /2019/11/19/
    ("truncated.jsonl.gz:2", "jsonl", "url", dt.datetime(2019, 11, 18, tzinfo=UTC)),
]

BAD_INPUT_DEAD_LETTERS = [
    ("empty.txt", "read.file", "empty_file"),
    ("blank.txt", "read.file", "empty_file"),
    ("photo.png", "read.file", "binary_file"),
    ("scrambled.txt", "read.file", "binary_file"),
    ("no_article.html", "read.html", "no_article_text"),
    ("broken_lines.jsonl:3", "read.jsonl", "invalid_json"),
    ("broken_lines.jsonl:5", "read.jsonl", "not_an_object"),
    ("broken_lines.jsonl:7", "read.jsonl", "invalid_json"),
    ("missing_text.jsonl:1", "read.jsonl", "missing_text"),
    ("missing_text.jsonl:2", "read.jsonl", "missing_text"),
    ("missing_text.jsonl:3", "read.jsonl", "missing_text"),
    ("blank_lines.jsonl", "read.jsonl", "empty_file"),
    ("truncated.jsonl.gz:3", "read.jsonl", "corrupt_gzip"),
    ("not_gzip.txt.gz", "read.file", "corrupt_gzip"),
]


def check_bad_input_article_contents(articles):
    by_ref = {ref_name(a.source_ref): a for a in articles}
    assert by_ref["invalid_utf8.txt"].text.count("\ufffd") == 2
    assert by_ref["invalid_utf8.txt"].text.startswith("A case of the bubonic plague was reported in China")
    assert "state’s" in by_ref["cp1252_smart_quotes.txt"].text and "“" in by_ref["cp1252_smart_quotes.txt"].text
    assert by_ref["utf16_bom.txt"].text.startswith("Three people have died during protests in Bolivia")
    assert by_ref["impossible_date_marker.txt"].text.startswith("HAYWARD, Calif. (AP)")

    page = by_ref["latin1_page.html"]
    assert (page.title, page.outlet) == ("Bike Style Book soundtrack review", "More Bikes")
    assert page.url == "https://www.morebikes.co.uk/7908/bike-style-book-soundtrack-review/"
    assert "£" in page.text and "\ufffd" not in page.text and "Ã" not in page.text
    assert page.content_source == "page"

    first = by_ref["broken_lines.jsonl:1"]
    assert (first.outlet, first.title, first.language) == ("mySanAntonio", "Cat found in New Mexico", "en")
    telegraph = by_ref["broken_lines.jsonl:4"]
    assert (telegraph.outlet, telegraph.title, telegraph.url) == ("The Telegraph", "Tennis podcast: Davis Cup", None)
    assert telegraph.article_id == make_article_id("id:telegraph-88c328", telegraph.text)
    wsj = by_ref["broken_lines.jsonl:8"]
    assert (wsj.outlet, wsj.language) == ("bad_input", "en")  # no outlet in the record: the folder
    assert wsj.article_id == make_article_id("broken_lines.jsonl#8", wsj.text)
    assert by_ref["truncated.jsonl.gz:2"].url.startswith("https://nypost.com/")


def check_bad_input_dead_letters(letters):
    by_ref = {ref_name(d.source_ref): d for d in letters}
    assert by_ref["empty.txt"].raw_size == 0
    assert "PNG" in by_ref["photo.png"].detail
    # Binary input is kept backslash-escaped: no control character reaches a terminal or report.
    assert by_ref["photo.png"].raw.startswith("\\x89PNG\r\n\\x1a\n") and by_ref["photo.png"].raw_size > 0
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", by_ref["photo.png"].raw)
    assert by_ref["broken_lines.jsonl:3"].raw.startswith('{"title": "A line cut short"')
    assert "no text field" in by_ref["missing_text.jsonl:1"].detail
    assert "body (array)" in by_ref["missing_text.jsonl:3"].detail
    assert "line 3 and after" in by_ref["truncated.jsonl.gz:3"].detail
    assert all(d.detail and d.at.tzinfo is not None for d in letters)


def test_bad_input_gives_clean_rows_or_named_dead_letters_and_conserves_counts():
    records = run_read(
        [BAD_INPUT / "*"],
        all_of(keyed(article_key, BAD_INPUT_ARTICLES), check_bad_input_article_contents),
        all_of(keyed(letter_key, BAD_INPUT_DEAD_LETTERS), check_bad_input_dead_letters),
    )
    assert records == len(BAD_INPUT_ARTICLES) + len(BAD_INPUT_DEAD_LETTERS) == 25


# --- real HTML pages ------------------------------------------------------------------------


def real_pages() -> list[dict]:
    folder = require_shared(EXTRACTION)
    with gzip.open(folder / "ground_truth.dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        pages = [r for r in map(json.loads, lines) if r["id"].startswith(REAL_PAGES)]
    assert len(pages) == len(REAL_PAGES)
    return pages


def test_real_html_pages():
    pages = real_pages()
    gold = {page["html_file"].rsplit("/", 1)[-1]: page for page in pages}

    def check(articles):
        assert len(articles) == len(gold)
        for article in articles:
            page = gold[ref_name(article.source_ref)]
            assert article.url == page["url"]
            assert (article.source_kind, article.content_source, article.date_source) == ("html", "page", "page_metadata")
            assert article.title and article.outlet
            assert article.article_id == make_article_id(page["url"], article.text)
            gold_words = page["article_body"].split()
            found = set(article.text.split())
            assert sum(word in found for word in gold_words) >= 0.95 * len(gold_words)

    published = keyed(
        lambda a: (a.outlet, a.published_at),
        [
            ("Wall Street Journal", dt.datetime(2019, 11, 19, 13, 3, tzinfo=UTC)),
            ("The Hill", dt.datetime(2019, 11, 19, 11, 56, 43, tzinfo=UTC)),
            ("ScienceAlert", dt.datetime(2019, 11, 18, 23, 41, 18, tzinfo=UTC)),
        ],
    )
    records = run_read([EXTRACTION / page["html_file"] for page in pages], all_of(check, published), equal_to([]))
    assert records == 3


def test_html_extraction_over_its_time_limit_is_a_dead_letter(tmp_path):
    # About a second of trafilatura work on this machine, fifty times the limit,
    # so the outcome does not depend on scheduling.
    body = "".join(
        f"<div class='c{i}'><p>Paragraph {i}: the ministers agreed framework item {i * 7} "
        f"for defence cooperation, said official {i}.</p><a href='/x{i}'>link {i}</a></div>"
        for i in range(5000)
    )
    (tmp_path / "slow.html").write_text(
        f"<html><head><title>Slow</title></head><body><article>{body}</article></body></html>", encoding="utf-8"
    )
    records = run_read(
        [tmp_path / "slow.html"],
        equal_to([]),
        keyed(letter_key, [("slow.html", "read.html", "extraction_timeout")]),
        config=ReadConfig(extract_timeout_s=0.02),
    )
    assert records == 1


# --- limits ------------------------------------------------------------------------------------


def test_files_over_max_file_bytes_are_refused_unread_or_after_decompression(tmp_path):
    article = "WASHINGTON, Oct. 31, 2025 (Reuters) - " + "The framework was signed. " * 100
    (tmp_path / "small.txt").write_text(article[:500], encoding="utf-8")
    (tmp_path / "large.txt").write_text(article, encoding="utf-8")
    packed = gzip.compress(article.encode("utf-8"))
    (tmp_path / "large.txt.gz").write_bytes(packed)
    assert len(packed) < 1000 < len(article)
    records = run_read(
        [tmp_path / "*"],
        keyed(article_key, [("small.txt", "text", "dateline", OCT_31)]),
        all_of(
            keyed(
                lambda d: (ref_name(d.source_ref), d.step, d.reason, d.raw_size),
                [
                    ("large.txt", "read.file", "file_too_large", len(article)),
                    ("large.txt.gz", "read.file", "file_too_large", len(packed)),
                ],
            ),
            # Refused unread (by its listed size), it still keeps its first characters.
            keyed(
                lambda d: (ref_name(d.source_ref), d.raw[:16] if d.raw_size == len(packed) else d.raw[:19]),
                [("large.txt", "WASHINGTON, Oct. 31"), ("large.txt.gz", "\\x1f\\x8b\\x08\\x00")],
            ),
        ),
        config=ReadConfig(max_file_bytes=1000),
    )
    assert records == 3


def test_a_jsonl_gz_that_is_not_gzip_keeps_its_first_bytes_in_its_dead_letter(tmp_path):
    broken = b"\x1f\x8b\x08 not really gzip"
    (tmp_path / "broken.jsonl.gz").write_bytes(broken)
    records = run_read(
        [tmp_path / "*"],
        equal_to([]),
        keyed(
            lambda d: (ref_name(d.source_ref), d.reason, d.raw, d.raw_size),
            [("broken.jsonl.gz", "corrupt_gzip", "\\x1f\\x8b\\x08 not really gzip", len(broken))],
        ),
    )
    assert records == 1


def test_jsonl_lines_over_max_record_bytes_are_refused_one_by_one(tmp_path):
    lines = [
        json.dumps({"text": "A short article.", "id": "a"}),
        json.dumps({"text": "x" * 5000, "id": "b"}),
        json.dumps({"text": "Another short article.", "id": "c"}),
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = run_read(
        [tmp_path / "dump.jsonl"],
        keyed(lambda a: (ref_name(a.source_ref), a.text), [("dump.jsonl:1", "A short article."), ("dump.jsonl:3", "Another short article.")]),
        keyed(lambda d: (ref_name(d.source_ref), d.reason, d.raw_size), [("dump.jsonl:2", "record_too_large", len(lines[1]) + 1)]),
        config=ReadConfig(max_record_bytes=1000),
    )
    assert records == 3


# --- formats ------------------------------------------------------------------------------------


def test_json_documents_arrays_and_jsonl_under_a_json_name(tmp_path):
    (tmp_path / "single.json").write_text(json.dumps({"text": "One object.", "title": "T"}), encoding="utf-8")
    (tmp_path / "array.json").write_text(
        json.dumps([{"text": "First."}, {"body": "Second."}, 5], indent=2), encoding="utf-8"
    )
    (tmp_path / "lines.json").write_text('{"text": "Line one."}\n{"text": "Line two."\n', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{\n  "text": "Pretty but broken",\n', encoding="utf-8")
    (tmp_path / "empty_array.json").write_text("[]", encoding="utf-8")
    records = run_read(
        [tmp_path / "*.json"],
        keyed(
            lambda a: (ref_name(a.source_ref), a.text, a.source_kind),
            [
                ("single.json", "One object.", "jsonl"),
                ("array.json[0]", "First.", "jsonl"),
                ("array.json[1]", "Second.", "jsonl"),
                ("lines.json:1", "Line one.", "jsonl"),
            ],
        ),
        keyed(
            letter_key,
            [
                ("array.json[2]", "read.jsonl", "not_an_object"),
                ("lines.json:2", "read.jsonl", "invalid_json"),
                ("broken.json", "read.jsonl", "invalid_json"),
                ("empty_array.json", "read.jsonl", "empty_file"),
            ],
        ),
    )
    assert records == 8


def test_pretty_printed_json_under_a_jsonl_name_and_jq_style_value_sequences(tmp_path):
    """`jq .` writes one pretty-printed value after another, and exports are often one indented
    array named .jsonl: read line by line, every line would be a broken record."""
    story = {"title": "Harbour reopens", "text": "The harbour reopened on Friday after the storm."}
    answer = {"status": "ok", "articles": [{"title": "Bridge", "description": "The bridge reopened."}, {"title": "Port", "content": "Ships came in."}]}
    (tmp_path / "export.jsonl").write_text(json.dumps([story, story | {"title": "Again"}], indent=2), encoding="utf-8")
    (tmp_path / "jq.jsonl").write_text("\n".join(json.dumps(v, indent=2) for v in (story, answer)), encoding="utf-8")
    (tmp_path / "jq.json").write_text("\n".join(json.dumps(v, indent=4) for v in (story, story)), encoding="utf-8")
    (tmp_path / "cut.jsonl").write_text(json.dumps(story, indent=2) + '\n{\n  "title": "Cut', encoding="utf-8")
    (tmp_path / "lines.jsonl").write_text(json.dumps(story) + "\n" + "{\n", encoding="utf-8")  # JSONL, one line broken
    records = run_read(
        [tmp_path / "*.json*"],
        keyed(
            lambda a: (ref_name(a.source_ref), a.title),
            [
                ("export.jsonl[0]", "Harbour reopens"),
                ("export.jsonl[1]", "Again"),
                ("jq.jsonl[0]", "Harbour reopens"),
                ("jq.jsonl[1][articles][0]", "Bridge"),
                ("jq.jsonl[1][articles][1]", "Port"),
                ("jq.json[0]", "Harbour reopens"),
                ("jq.json[1]", "Harbour reopens"),
                ("cut.jsonl[0]", "Harbour reopens"),
                ("lines.jsonl:1", "Harbour reopens"),
            ],
        ),
        keyed(letter_key, [("cut.jsonl[1]", "read.jsonl", "invalid_json"), ("lines.jsonl:2", "read.jsonl", "invalid_json")]),
    )
    assert records == 11


def test_unknown_extensions_are_sniffed(tmp_path):
    shutil.copy(BAD_INPUT / "latin1_page.html", tmp_path / "page.dat")
    # U+2028 is legal inside a JSON string: it must not cut the line.
    (tmp_path / "records.data").write_text('{"text": "From a\u2028JSONL file."}\n\n{"text": "Again."}\n', encoding="utf-8")
    (tmp_path / "NOTES").write_text("New Delhi, 31 October 2025: A plain note.", encoding="utf-8")
    records = run_read(
        [tmp_path / "*"],
        keyed(
            lambda a: (ref_name(a.source_ref), a.source_kind, a.date_source),
            [
                ("page.dat", "html", "page_metadata"),
                ("records.data:1", "jsonl", "unknown"),
                ("records.data:3", "jsonl", "unknown"),
                ("NOTES", "text", "dateline"),
            ],
        ),
        equal_to([]),
    )
    assert records == 4


def test_a_whole_markup_document_saved_as_txt_is_read_as_what_it_is(tmp_path):
    """A scraper's `.txt` that holds a whole HTML page, a feed or a NITF story: its markup is not
    article text. A text that merely opens with a tag, or quotes one, stays text."""
    shutil.copy(BAD_INPUT / "latin1_page.html", tmp_path / "page.txt")
    (tmp_path / "commented.txt").write_bytes(b"<!-- saved 2025-10-31 -->\n<!DOCTYPE html>" + (BAD_INPUT / "latin1_page.html").read_bytes())
    (tmp_path / "feed.txt").write_text(SAVED_RSS, encoding="utf-8")
    (tmp_path / "story.txt").write_bytes((FIXTURES / "news_xml" / "iptc_listing22_sports_story.xml").read_bytes())
    (tmp_path / "note.txt").write_text("<b>Breaking:</b> the harbour reopened on Friday after the storm, officials said.", encoding="utf-8")
    (tmp_path / "quote.txt").write_text("<html> is how every page starts, the course notes say; today we look at the head.", encoding="utf-8")
    records = run_read(
        [tmp_path / "*.txt"],
        keyed(
            lambda a: (ref_name(a.source_ref), a.source_kind),
            [
                ("page.txt", "html"),
                ("commented.txt", "html"),
                ("feed.txt[0]", "feed"),
                ("feed.txt[1]", "feed"),
                ("feed.txt[3]", "feed"),
                ("story.txt[0]", "newsml"),
                ("note.txt", "text"),
                ("quote.txt", "text"),
            ],
        ),
        keyed(lambda letter: (ref_name(letter.source_ref), letter.reason), [("feed.txt[2]", "missing_text")]),
    )
    assert records == 9


def test_jsonl_in_utf16_and_windows_1252_and_gzip(tmp_path):
    wide = '{"text": "It’s “wide”."}\n\n{"text": "Second — line."}\n'
    (tmp_path / "wide.jsonl").write_bytes(wide.encode("utf-16"))
    (tmp_path / "legacy.ndjson").write_bytes('{"text": "Caf\u00e9 “legacy”."}\n'.encode("cp1252"))
    seed = seed_paths()[2]
    (tmp_path / seed.name).with_suffix(".txt.gz").write_bytes(gzip.compress(seed.read_bytes()))
    seed_text = seed.read_text(encoding="utf-8")
    records = run_read(
        [tmp_path / "*"],
        keyed(
            lambda a: (ref_name(a.source_ref), a.text, a.article_id),
            [
                ("wide.jsonl:1", "It’s “wide”.", make_article_id("wide.jsonl#1", "It’s “wide”.")),
                ("wide.jsonl:3", "Second — line.", make_article_id("wide.jsonl#3", "Second — line.")),
                ("legacy.ndjson:1", "Café “legacy”.", make_article_id("legacy.ndjson#1", "Café “legacy”.")),
                # a gzipped dump keeps the ids of the plain one
                (seed.name + ".gz", seed_text, make_article_id(seed.name, seed_text)),
            ],
        ),
        equal_to([]),
    )
    assert records == 4


@pytest.mark.parametrize("patterns", ["dumps/*.txt", []])
def test_patterns_must_be_a_non_empty_list(patterns):
    with pytest.raises(ValueError):
        ReadFileDumps(patterns)


def test_naive_ingested_at_is_refused():
    with pytest.raises(ValueError):
        ReadFileDumps(["dumps/*.txt"], ingested_at=dt.datetime(2025, 11, 1))


def test_output_element_types():
    pipeline = beam.Pipeline(runner=BATCH_RUNNER)
    articles, dead_letters = pipeline | ReadFileDumps([str(SEEDS_DIR / "*.txt")])
    assert articles.element_type == Article
    assert dead_letters.element_type == DeadLetter


SAVED_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Example Wire</title><link>https://wire.example.org/</link><language>en-us</language>
<item>
  <title>Ministers meet in Kuala Lumpur</title>
  <link>https://wire.example.org/2025/10/31/ministers-meet</link>
  <guid>wire-1</guid>
  <pubDate>Fri, 31 Oct 2025 09:30:00 +0530</pubDate>
  <description>&lt;p&gt;Defence ministers met in Kuala Lumpur on Friday and signed a framework
  for defence cooperation that runs for ten years.&lt;/p&gt;&lt;p&gt;Officials said the talks
  covered shared exercises.&lt;/p&gt;</description>
</item>
<item>
  <title>Markets close higher</title>
  <link>https://wire.example.org/2025/10/30/markets</link>
</item>
<item><guid isPermaLink="false">wire-3</guid></item>
<item>
  <title>Storm closes ports</title>
  <link>/local/storm</link>
  <guid isPermaLink="false">wire-4</guid>
  <source url="https://agency.example.com/rss">Agency Example</source>
  <description>Ports on the east coast closed on Thursday as the storm came ashore.</description>
</item>
</channel></rss>
"""

SAVED_ATOM_WITH_A_FLAW = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Atom Desk & Co</title>
<entry>
  <title>Bridge reopens</title>
  <link href="https://atom.example.net/bridge"/>
  <id>tag:atom.example.net,2025:bridge</id>
  <updated>2025-10-29T18:00:00Z</updated>
  <summary>The bridge reopened to traffic after repairs.</summary>
</entry>
</feed>
"""


def test_saved_feeds_give_one_record_per_item(tmp_path):
    (tmp_path / "wire.rss").write_text(SAVED_RSS, encoding="utf-8")
    # An .xml name is sniffed: this one holds a feed (gzip too).
    (tmp_path / "snapshot.xml.gz").write_bytes(gzip.compress(SAVED_RSS.encode("utf-8")))
    (tmp_path / "desk.atom").write_text(SAVED_ATOM_WITH_A_FLAW, encoding="utf-8")  # a bare "&": kept, and said
    (tmp_path / "empty.rss").write_text('<rss version="2.0"><channel><title>Quiet</title></channel></rss>', encoding="utf-8")
    (tmp_path / "page.rss").write_text("<!DOCTYPE html><html><body><p>Not a feed.</p></body></html>", encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://wire.example.org/2025/10/31/ministers-meet</loc></url></urlset>",
        encoding="utf-8",
    )
    wire_rows = [
        (
            "Ministers meet in Kuala Lumpur",
            "https://wire.example.org/2025/10/31/ministers-meet",
            "Example Wire",
            "feed_item",
            dt.datetime(2025, 10, 31, 4, 0, tzinfo=UTC),
        ),
        ("Markets close higher", "https://wire.example.org/2025/10/30/markets", "Example Wire", "url", dt.datetime(2025, 10, 30, tzinfo=UTC)),
        # a relative link with no xml:base to resolve it against is no URL; the outlet is the item's <source>
        ("Storm closes ports", None, "Agency Example", "unknown", None),
    ]
    expected_rows = [(name, index, *row) for name in ("wire.rss", "snapshot.xml.gz") for index, row in zip((0, 1, 3), wire_rows)]
    expected_rows.append(
        ("desk.atom", 0, "Bridge reopens", "https://atom.example.net/bridge", "Atom Desk & Co", "feed_item", dt.datetime(2025, 10, 29, 18, tzinfo=UTC))
    )

    def row_key(article):
        name, index = re.fullmatch(r"(.+)\[(\d+)\]", ref_name(article.source_ref)).groups()
        assert (article.source_kind, article.content_source, article.language) == ("feed", "feed_summary", "en" if name != "desk.atom" else None)
        return (name, int(index), article.title, article.url, article.outlet, article.date_source, article.published_at)

    def check_texts(articles):
        texts = {(ref_name(a.source_ref), a.title): a.text for a in articles}
        # HTML in a description becomes paragraphs; an item with a headline alone is that headline
        assert texts[("wire.rss[0]", "Ministers meet in Kuala Lumpur")].count("\n\n") == 1
        assert texts[("wire.rss[1]", "Markets close higher")] == "Markets close higher"
        # the same items in two files are the same articles (identity: link, else guid)
        ids = {}
        for article in articles:
            ids.setdefault((article.title, article.text), set()).add(article.article_id)
        assert all(len(found) == 1 for found in ids.values())

    records = run_read(
        [tmp_path / "*"],
        all_of(keyed(row_key, expected_rows), check_texts),
        keyed(
            letter_key,
            [
                ("wire.rss[2]", "read.feed", "missing_text"),
                ("snapshot.xml.gz[2]", "read.feed", "missing_text"),
                ("desk.atom", "read.feed", "malformed_xml_items_kept"),
                ("empty.rss", "read.feed", "empty_file"),
                ("page.rss", "read.feed", "not_a_feed"),
                ("sitemap.xml", "read.file", "unsupported_format"),
            ],
        ),
    )
    assert records == 4 + 4 + 2 + 1 + 1 + 1


def test_a_saved_json_feed_gives_one_record_per_item(tmp_path):
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "JSON Desk",
        "items": [
            {"id": "a", "url": "https://desk.example/a", "title": "Bridge reopens", "content_text": "The bridge reopened on Friday after repairs.",
             "date_published": "2025-10-30T08:00:00Z"},
            {"id": "b", "url": "https://desk.example/b"},  # no title, no text: nothing to keep
        ],
    }
    (tmp_path / "desk.json").write_text(json.dumps(feed), encoding="utf-8")

    def row(article):
        return (ref_name(article.source_ref), article.source_kind, article.title, article.outlet, article.url, article.published_at)

    records = run_read(
        [tmp_path / "*"],
        keyed(row, [("desk.json[0]", "feed", "Bridge reopens", "JSON Desk", "https://desk.example/a", dt.datetime(2025, 10, 30, 8, tzinfo=UTC))]),
        keyed(letter_key, [("desk.json[1]", "read.feed", "missing_text")]),
    )
    assert records == 2


def test_a_subscription_list_among_the_dumps_is_refused_pointing_at_opml(tmp_path):
    """A reader's real OPML export dropped in an input folder lists feeds, it holds no articles."""
    export = require_shared(SHARED / "data" / "feeds" / "files" / "feedjira" / "google-reader-subscriptions.xml")
    (tmp_path / "subscriptions.opml").write_bytes(export.read_bytes())

    def says_how_to_read_it(letters):
        assert [(letter.reason, "--opml or feeds.opml" in letter.detail, "<opml>" in letter.detail) for letter in letters] == [
            ("unsupported_format", True, True)
        ]

    records = run_read([tmp_path / "*"], equal_to([]), says_how_to_read_it)
    assert records == 1
