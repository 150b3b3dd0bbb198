"""JSON files over max_file_bytes (exports, API dumps): streamed record by record with ijson into
the same records a whole read gives, in real pipelines and through the reading DoFn itself."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import json

import apache_beam as beam
import pytest
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata

from tests.test_read_files import keyed, letter_key, ref_name, run_read
from transforms.dead_letters import DEAD_LETTER_TAG
from transforms.read_files import ParseDumpFileFn, ReadConfig

UTC = dt.timezone.utc
WHOLE = ReadConfig()
SMALL = ReadConfig(max_file_bytes=600, max_record_bytes=2000)  # every file below is over 600 bytes
STORY = "The harbour reopened on Friday after the storm, officials said, and the first ships came in at dawn."


def story(n: int) -> dict:
    return {"title": f"Story {n}", "text": f"{STORY} Report {n}.", "url": f"https://desk.example/{n}", "published": f"2024-05-0{1 + n % 9}"}


def read(path, config: ReadConfig) -> tuple[list, list]:
    """(articles, dead letters) of one file, through ReadFileDumps' own DoFn."""
    fn = ParseDumpFileFn(config, dt.datetime(2025, 1, 1, tzinfo=UTC))
    fn.setup()
    articles, letters = [], []
    for out in fn.process(fileio.ReadableFile(FileMetadata(str(path), path.stat().st_size))):
        if isinstance(out, beam.pvalue.TaggedOutput):
            assert out.tag == DEAD_LETTER_TAG
            letters.append(out.value)
        else:
            articles.append(out)
    return articles, letters


@pytest.mark.parametrize(
    "name, document",
    [
        ("array.json", [story(n) for n in range(8)]),
        ("newsapi.json", {"status": "ok", "totalResults": 8, "articles": [story(n) for n in range(8)]}),
        ("search.json", {"took": 3, "hits": {"total": {"value": 8}, "hits": [{"_id": str(n), "_source": story(n)} for n in range(8)]}}),
        ("nested.json", {"data": {"items": [story(n) for n in range(8)]}, "meta": {"page": 1}}),
        ("mixed.json", [story(0), "not an object", {"title": "no text"}, story(3), story(4), story(5)]),
    ],
)
def test_a_json_file_over_the_limit_gives_the_records_a_whole_read_gives(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    assert path.stat().st_size > SMALL.max_file_bytes
    whole, streamed = read(path, WHOLE), read(path, SMALL)
    assert streamed[0] == whole[0] and len(whole[0]) >= 2
    assert [(l.source_ref, l.reason) for l in streamed[1]] == [(l.source_ref, l.reason) for l in whole[1]]


def test_values_one_after_another_compressed_or_in_utf16_stream_too(tmp_path):
    values = "\n".join(json.dumps(story(n), indent=2) for n in range(6))  # jq . output
    (tmp_path / "jq.json.gz").write_bytes(gzip.compress(values.encode()))
    (tmp_path / "wide.json").write_bytes(codecs.BOM_UTF16_LE + json.dumps([story(n) for n in range(6)]).encode("utf-16-le"))
    (tmp_path / "pretty.jsonl").write_text(json.dumps([story(n) for n in range(6)], indent=2), encoding="utf-8")
    # one stray Latin-1 byte in UTF-8: replaced, as a whole read replaces it, not the end of the file
    (tmp_path / "stray.json").write_bytes(json.dumps([story(n) for n in range(6)]).replace("Report 2", "Caf\xe9 2").encode("latin-1"))
    for name in ("jq.json.gz", "wide.json", "pretty.jsonl", "stray.json"):
        articles, letters = read(tmp_path / name, SMALL)
        assert [ref_name(a.source_ref) for a in articles] == [f"{name}[{n}]" for n in range(6)] and not letters
        assert articles == read(tmp_path / name, WHOLE)[0]


def test_a_broken_stream_keeps_the_records_before_and_says_where_it_broke(tmp_path):
    text = json.dumps([story(n) for n in range(6)], indent=2)
    (tmp_path / "cut.json").write_text(text[: text.index('"Story 4"')], encoding="utf-8")
    (tmp_path / "one-big-record.json").write_text(json.dumps({"title": "Long", "text": STORY * 20}), encoding="utf-8")
    (tmp_path / "over-record-limit.json").write_text(json.dumps([story(0), {"title": "Huge", "text": STORY * 30}, story(2)]), encoding="utf-8")
    (tmp_path / "feed.json").write_text(
        json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": [{"id": str(n), "content_text": STORY} for n in range(8)]}),
        encoding="utf-8",
    )
    records = run_read(
        [tmp_path / "*.json"],
        keyed(
            lambda article: ref_name(article.source_ref),
            ["cut.json[0]", "cut.json[1]", "cut.json[2]", "cut.json[3]", "over-record-limit.json[0]", "over-record-limit.json[2]"],
        ),
        keyed(
            letter_key,
            [
                ("cut.json[4]", "read.jsonl", "invalid_json"),
                ("over-record-limit.json[1]", "read.jsonl", "record_too_large"),
                # one record, or a JSON Feed, this big: refused whole, as before
                ("one-big-record.json", "read.file", "file_too_large"),
                ("feed.json", "read.file", "file_too_large"),
            ],
        ),
        config=SMALL,
    )
    assert records == 10


def test_json_over_the_limit_under_a_name_that_gives_no_format_is_streamed_too(tmp_path):
    """An export named `.dat`, or with no extension at all, is told JSON by its opening: before,
    over the limit it was one file_too_large, because a file of unknown format was sniffed only
    after a whole read. A big text that is not JSON stays file_too_large, as it was."""
    document = json.dumps([story(n) for n in range(6)], indent=2)
    (tmp_path / "export.dat").write_text(document, encoding="utf-8")
    (tmp_path / "API_DUMP").write_text(json.dumps({"status": "ok", "articles": [story(n) for n in range(6)]}, indent=1), encoding="utf-8")
    (tmp_path / "dump.gz").write_bytes(gzip.compress(document.encode()))
    for name in ("export.dat", "API_DUMP", "dump.gz"):
        articles, letters = read(tmp_path / name, SMALL)
        assert len(articles) == 6 and not letters
        assert articles == read(tmp_path / name, WHOLE)[0]
    (tmp_path / "wire.dat").write_text("[Reuters] " + STORY * 10, encoding="utf-8")
    articles, (letter,) = read(tmp_path / "wire.dat", SMALL)
    assert not articles and letter.reason == "file_too_large" and "list of records" not in letter.detail
