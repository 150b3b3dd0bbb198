"""Web archives: WARC files written with warcio around real article pages, read by the pure
capture reader and by ReadFileDumps (trafilatura on each captured page)."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import lzma
import os
import pathlib
import time

import apache_beam as beam
import pytest
import zstandard
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import BATCH_RUNNER, SHARED, require_shared
from tests.test_read_files import keyed, letter_key, ref_name, run_read
from transforms.decoding import decompressing_reader
from transforms.dump_parsing import format_from_extension
from transforms.read_files import ParseDumpFileFn, ReadConfig, ReadFileDumps
from transforms.watch_folders import WatchConfig
from transforms.warc_records import WarcBroken, WarcCapture, WarcTally, warc_captures

UTC = dt.timezone.utc
PAGES = SHARED / "data" / "article_extraction" / "html"
WSJ, VENTUREBEAT = "042bb7b5fe", "06e5123e4e"  # two real pages with their own dates
UNDATED_PAGE = (
    "<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
    + "".join(f"<p>Paragraph {n}: the harbour reopened to ships after the storm, officials said today.</p>" for n in range(6))
    + "</article></body></html>"
).encode()


def real_page(prefix: str) -> bytes:
    (path,) = require_shared(PAGES).glob(f"{prefix}*.html.gz")
    return gzip.decompress(path.read_bytes())


def response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK", headers=(("Content-Type", "text/html; charset=utf-8"),), date: str = "2024-05-01T10:00:00Z"):
    http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date})


def request(writer: WARCWriter, url: str):
    http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "news.example")], is_http_request=True)
    return writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=http)


def write_warc(path: pathlib.Path, records, gzip_records: bool = True) -> pathlib.Path:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip_records)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsbeam tests"}))
        for make in records:
            writer.write_record(make(writer))
    return path


def crawl(path: pathlib.Path, gzip_records: bool = True) -> pathlib.Path:
    """A crawl as a crawler writes it: each page's request beside its response, an image, a redirect, an error page."""
    return write_warc(
        path,
        [
            lambda w: request(w, "https://news.example/wsj"),
            lambda w: response(w, "https://news.example/wsj", real_page(WSJ)),
            lambda w: request(w, "https://news.example/vb"),
            lambda w: response(w, "https://news.example/vb", real_page(VENTUREBEAT), date="2024-05-02T10:00:00Z"),
            lambda w: response(w, "https://news.example/2024/harbour", UNDATED_PAGE, date="2024-05-03T08:30:00Z"),
            lambda w: response(w, "https://news.example/logo.png", b"\x89PNG\r\n\x1a\n....", headers=(("Content-Type", "image/png"),)),
            lambda w: response(w, "https://news.example/old", b"<html>moved</html>", status="301 Moved Permanently",
                               headers=(("Content-Type", "text/html"), ("Location", "https://news.example/new"))),
            lambda w: response(w, "https://news.example/gone", b"<html>not found</html>", status="404 Not Found"),
        ],
        gzip_records,
    )


def captures_of(path: pathlib.Path, max_bytes: int = 10 * 2**20):
    tally = WarcTally()
    with path.open("rb") as stream:
        return list(warc_captures(stream, max_bytes, tally)), tally


@pytest.mark.parametrize("gzip_records", [True, False])
def test_every_response_is_a_capture_and_protocol_records_are_only_counted(tmp_path, gzip_records):
    path = crawl(tmp_path / ("crawl.warc.gz" if gzip_records else "crawl.warc"), gzip_records)
    captures, tally = captures_of(path)
    assert tally.protocol_records == 3  # warcinfo and two requests
    assert [(c.url, c.refused.reason if c.refused else None) for c in captures] == [
        ("https://news.example/wsj", None),
        ("https://news.example/vb", None),
        ("https://news.example/2024/harbour", None),
        ("https://news.example/logo.png", "not_html"),
        ("https://news.example/old", "http_status"),
        ("https://news.example/gone", "http_status"),
    ]
    assert captures[0].body == real_page(WSJ)
    assert captures[2].captured_at == dt.datetime(2024, 5, 3, 8, 30, tzinfo=UTC)
    offsets = [c.offset for c in captures]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    # The offset addresses the record: reading from it gives that capture first.
    with path.open("rb") as stream:
        stream.seek(captures[3].offset)
        first = next(warc_captures(stream, 2**20))
    assert first.url == "https://news.example/logo.png"
    assert "HTTP 301 to https://news.example/new" in captures[4].refused.detail
    assert "offset" in captures[5].refused.detail and "HTTP 404" in captures[5].refused.detail


def test_a_page_over_the_size_cap_and_a_body_that_is_no_html_are_refused(tmp_path):
    path = write_warc(
        tmp_path / "odd.warc.gz",
        [
            lambda w: response(w, "https://news.example/big", UNDATED_PAGE),
            lambda w: response(w, "https://news.example/bare", b"just bytes, no markup", headers=()),
            lambda w: response(w, "https://news.example/bare-html", UNDATED_PAGE, headers=()),
        ],
    )
    captures, _ = captures_of(path, max_bytes=200)
    assert [c.refused.reason if c.refused else None for c in captures] == ["record_too_large", "not_html", "record_too_large"]
    captures, _ = captures_of(path)
    assert [c.refused.reason if c.refused else None for c in captures] == [None, "not_html", None]


def test_an_uncompressed_archive_cut_inside_a_page_gives_the_pages_before_and_one_malformed_warc(tmp_path):
    whole = crawl(tmp_path / "whole.warc", gzip_records=False).read_bytes()
    cut = tmp_path / "cut.warc"
    cut.write_bytes(whole[: whole.index(b"Paragraph 3")])  # inside the third page's body
    captures, _ = captures_of(cut)
    assert [c.url for c in captures if isinstance(c, WarcCapture)] == ["https://news.example/wsj", "https://news.example/vb"]
    assert isinstance(captures[-1], WarcBroken) and "bytes short of its Content-Length" in captures[-1].refused.detail


def test_a_truncated_archive_keeps_the_captures_before_the_break(tmp_path):
    whole = crawl(tmp_path / "whole.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[: len(whole) - 200])
    captures, _ = captures_of(cut)
    assert isinstance(captures[-1], WarcBroken) and captures[-1].refused.reason == "malformed_warc"
    assert [c.url for c in captures[:-1] if isinstance(c, WarcCapture)][:3] == [
        "https://news.example/wsj", "https://news.example/vb", "https://news.example/2024/harbour"
    ]
    not_warc = tmp_path / "notes.warc"
    not_warc.write_bytes(b"These are my notes, not an archive.\n" * 20)
    (broken,) = captures_of(not_warc)[0]
    assert isinstance(broken, WarcBroken) and broken.refused.detail.startswith("not a WARC or ARC archive")


def test_an_arc_file_of_the_older_format_gives_its_captures():
    page = b"<html><body><p>" + b"word " * 40 + b"</p></body></html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
    description = b"1 0 newsbeam\nURL IP-address Archive-date Content-type Archive-length\n"
    arc = b"filedesc://old.arc 0.0.0.0 20240101000000 text/plain %d\n" % len(description) + description + b"\n"
    arc += b"http://news.example/a 1.2.3.4 20240501100000 text/html %d\n" % len(http) + http + b"\n"
    (capture,) = warc_captures(io.BytesIO(arc), 2**20)
    assert (capture.url, capture.captured_at, capture.body, capture.refused) == (
        "http://news.example/a", dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC), page, None
    )


def test_a_warc_gzipped_as_a_whole_is_read_as_well(tmp_path):
    plain = crawl(tmp_path / "crawl.warc", gzip_records=False)
    whole = tmp_path / "crawl.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    per_record, _ = captures_of(plain)
    as_whole, tally = captures_of(whole)
    assert tally.protocol_records == 3
    # One gzip stream: the offsets are those of the uncompressed archive.
    assert [(c.offset, c.url, c.body) for c in as_whole] == [(c.offset, c.url, c.body) for c in per_record]


def test_warc_and_arc_names_are_read_as_archives():
    assert [format_from_extension(name) for name in ("a.warc", "a.warc.gz", "CC-NEWS-20240101-00000.warc.gz", "old.arc.gz")] == [
        "warc", "warc", "warc", "warc"
    ]


def test_a_crawl_is_read_into_articles_and_dead_letters_with_every_capture_counted(tmp_path):
    crawl(tmp_path / "crawl.warc.gz")
    (tmp_path / "empty.warc").write_bytes(b"")
    write_warc(tmp_path / "info-only.warc.gz", [])

    def row(article):
        return (
            ref_name(article.source_ref).split("@")[0],
            article.source_kind,
            article.content_source,
            article.outlet,
            article.date_source,
            article.published_at.date().isoformat() if article.published_at else None,
        )

    records = run_read(
        [tmp_path / "*"],
        keyed(
            row,
            [
                ("crawl.warc.gz", "warc", "page", "Wall Street Journal", "page_metadata", "2019-11-19"),
                ("crawl.warc.gz", "warc", "page", "VentureBeat", "page_metadata", "2019-11-19"),
                # No date in the page or its text: the capture time, as a feed item's fetch time.
                ("crawl.warc.gz", "warc", "page", "news.example", "fetch_time", "2024-05-03"),
            ],
        ),
        keyed(
            lambda letter: (letter_key(letter)[0].split("@")[0], letter.step, letter.reason),
            [
                ("crawl.warc.gz", "read.warc", "not_html"),
                ("crawl.warc.gz", "read.warc", "http_status"),
                ("crawl.warc.gz", "read.warc", "http_status"),
                ("empty.warc", "read.warc", "empty_file"),
                ("info-only.warc.gz", "read.warc", "empty_file"),
            ],
        ),
    )
    assert records == 8


def test_a_web_archive_under_a_name_that_does_not_say_so_is_read_as_one(tmp_path):
    """A crawler's file still being written (`.warc.gz.open`), Common Crawl's CC-NEWS naming
    kept after a rename to `.gz`, a zstd archive named only `.zst`: each is sniffed from its
    first bytes and read capture by capture, not as one text of headers and markup."""
    crawl(tmp_path / "crawl.warc.gz").rename(tmp_path / "crawl.warc.gz.open")
    crawl(tmp_path / "CC-NEWS-20240501.gz")
    plain = crawl(tmp_path / "plain.warc", gzip_records=False)
    (tmp_path / "crawl-z.zst").write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    plain.unlink()
    names = ["crawl.warc.gz.open", "CC-NEWS-20240501.gz", "crawl-z.zst"]
    records = run_read(
        [tmp_path / "*"],
        keyed(lambda article: (ref_name(article.source_ref.split("@")[0]), article.source_kind), [(name, "warc") for name in names for _ in range(3)]),
        keyed(
            lambda letter: (ref_name(letter.source_ref.split("@")[0]), letter.step, letter.reason),
            [(name, "read.warc", reason) for name in names for reason in ("not_html", "http_status", "http_status")],
        ),
    )
    assert records == 18


def test_an_archive_dropped_in_a_watched_folder_is_read_in_streaming(tmp_path):
    """The captured pages cross a Reshuffle to their extraction, also in an unbounded run."""
    archive = write_warc(tmp_path / "inbox.warc.gz", [lambda w: response(w, "https://news.example/vb", real_page(VENTUREBEAT))])
    os.utime(archive, (time.time() - 60, time.time() - 60))
    started = time.time()
    config = WatchConfig(poll_interval_s=1, settle_s=0.5, run_for_s=2.5)
    with TestPipeline(runner=BATCH_RUNNER, options=PipelineOptions(streaming=True)) as pipeline:
        articles, dead_letters = pipeline | ReadFileDumps([str(tmp_path / "*.warc.gz")], watch=config)
        assert_that(
            articles | "Read" >> beam.Map(lambda a: (a.outlet, a.source_kind, a.ingested_at.timestamp() >= int(started))),
            equal_to([("VentureBeat", "warc", True)]),
        )
        assert_that(dead_letters, equal_to([]), label="NoDeadLetters")


def test_a_wet_file_of_conversion_records_is_refused_pointing_at_its_warc(tmp_path):
    wet = write_warc(
        tmp_path / "CC-MAIN-x.warc.wet.gz",
        [
            lambda w: w.create_warc_record(
                "https://news.example/a", "conversion", payload=io.BytesIO(b"Home News Sport\nThe page text."),
                warc_headers_dict={"Content-Type": "text/plain"},
            )
        ],
    )
    captures, tally = captures_of(wet)
    assert captures == [] and (tally.protocol_records, tally.conversions) == (2, 1)

    def says_what_to_read(letters):
        assert [(letter.reason, "read the WARC" in letter.detail) for letter in letters] == [("empty_file", True)]

    assert run_read([tmp_path / "*.warc.wet.gz"], equal_to([]), says_what_to_read) == 1


def decompressible_prefix(data: bytes, codec: str) -> bytes:
    """All that a cut compressed file gives before its decompressor raises."""
    prefix = bytearray()
    with decompressing_reader(io.BytesIO(data), codec) as stream:
        try:
            while piece := stream.read1(4096):
                prefix += piece
        except (EOFError, zstandard.ZstdError):
            pass
    return bytes(prefix)


@pytest.mark.parametrize("codec", ["bzip2", "xz", "zstd"])
def test_a_cut_archive_under_another_compression_keeps_what_decompressed_then_one_malformed_warc(tmp_path, codec):
    """bz2, xz and zstd raise when their data stops mid-stream (an EOFError, which warcio would
    take for the archive's end), also on the very first read: the captures are those of the part
    that decompressed, read as a plain archive, and then one malformed_warc."""
    whole = crawl(tmp_path / "whole.warc", gzip_records=False).read_bytes()
    compress = {"bzip2": lambda data: bz2.compress(data, 1), "xz": lzma.compress, "zstd": zstandard.ZstdCompressor().compress}[codec]
    compressed = compress(whole)
    for kept in (0.02, 0.95, 0.999):
        cut = compressed[: int(len(compressed) * kept)]
        with decompressing_reader(io.BytesIO(cut), codec) as stream:
            results = list(warc_captures(stream, 2**20))
        as_plain = list(warc_captures(io.BytesIO(decompressible_prefix(cut, codec)), 2**20))
        expected = [c.url for c in as_plain if isinstance(c, WarcCapture)]
        assert [r.url for r in results[:-1]] == expected
        assert isinstance(results[-1], WarcBroken) and results[-1].refused.reason == "malformed_warc"
    assert codec != "xz" or len(expected) == 5  # xz decompresses record by record: all but the last


@pytest.mark.parametrize("gzip_records", [True, False])
def test_damaged_archives_give_captures_and_malformed_warcs_never_an_error(tmp_path, gzip_records):
    """Seeded damage to a real crawl (bytes overwritten, cut short): reading never raises, and every
    result lies further into the file than the one before. In a WARC gzipped record by record,
    damage anywhere is found by gzip's check and read past (more than one malformed_warc); an
    uncompressed WARC checks nothing in a body (its headers' damage is the next test's)."""
    import random

    whole = crawl(tmp_path / "crawl.warc", gzip_records).read_bytes()
    rng = random.Random(7)
    broken_seen = read_on_seen = 0
    for _ in range(60):
        damaged = bytearray(whole[: rng.randrange(len(whole))] if rng.random() < 0.3 else whole)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(damaged))
            damaged[at : at + 8] = bytes(rng.randrange(256) for _ in range(8))
        results = list(warc_captures(io.BytesIO(bytes(damaged)), 2**20))
        assert all(isinstance(result, (WarcCapture, WarcBroken)) for result in results)
        offsets = [result.offset for result in results]
        assert offsets == sorted(set(offsets))
        broken = sum(isinstance(result, WarcBroken) for result in results)
        broken_seen += broken > 0
        first_broken = next((at for at, result in enumerate(results) if isinstance(result, WarcBroken)), len(results))
        read_on_seen += any(isinstance(result, WarcCapture) for result in results[first_broken + 1 :])
    assert broken_seen > 0
    assert read_on_seen > 0 or not gzip_records


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._data.readinto(buffer)


def unseekable(data: bytes) -> io.BufferedReader:
    """`data` as a pipe or a socket gives it: nothing to seek in, so nothing to step over with."""
    return io.BufferedReader(_Unseekable(data))


def _damaged_in_the_middle(path: pathlib.Path) -> tuple[bytes, int]:
    """The crawl at `path` with one byte flipped inside the first page's gzip member, and that page's offset."""
    data = bytearray(path.read_bytes())
    first, second = [capture.offset for capture in captures_of(path)[0][:2]]
    data[(first + second) // 2] ^= 0x55
    return bytes(data), first


def test_a_damaged_record_of_a_gzipped_warc_is_one_malformed_warc_and_the_records_after_it_are_read(tmp_path):
    damaged, first_page = _damaged_in_the_middle(crawl(tmp_path / "crawl.warc.gz"))
    results = list(warc_captures(io.BytesIO(damaged), 2**20))
    broken = results[0]
    assert isinstance(broken, WarcBroken) and broken.offset == first_page and broken.refused.reason == "malformed_warc"
    assert "skipped, read on from the next record" in broken.refused.detail
    assert [c.url for c in results[1:]] == [
        "https://news.example/vb", "https://news.example/2024/harbour", "https://news.example/logo.png",
        "https://news.example/old", "https://news.example/gone",
    ]
    assert results[1].body == real_page(VENTUREBEAT)

    (only,) = warc_captures(unseekable(damaged), 2**20)
    assert isinstance(only, WarcBroken) and "read on" not in only.refused.detail


def _record_spans(data: bytes) -> list[tuple[int, int, str]]:
    """(offset, end, WARC-Type) of each record of an intact uncompressed WARC, read with warcio itself."""
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(io.BytesIO(data))
    spans = []
    for record in records:
        record.content_stream().read()
        offset = records.get_record_offset()
        spans.append((offset, offset + records.get_record_length(), record.rec_type))
    return spans


def _response_header(data: bytes, url: str) -> tuple[int, int]:
    """Where the WARC header block of the response record of `url` starts and ends."""
    start = 0
    while True:
        start = data.index(b"WARC/1.0\r\n", start + 1)
        end = data.index(b"\r\n\r\n", start)
        if b"WARC-Type: response" in data[start:end] and b"WARC-Target-URI: " + url.encode() in data[start:end]:
            return start, end


def _header_damaged(data: bytes, url: str, old: bytes, new: bytes) -> bytes:
    """`data` with `old` replaced by `new` in the header block of the response record of `url`."""
    start, end = _response_header(data, url)
    at = data.index(old, start, end)
    return data[:at] + new + data[at + len(old) :]


def _length_of(data: bytes, url: str) -> bytes:
    start, end = _response_header(data, url)
    return data[start:end].split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0]


VB, HARBOUR = "https://news.example/vb", "https://news.example/2024/harbour"
ALL_URLS = ["https://news.example/wsj", VB, HARBOUR, "https://news.example/logo.png", "https://news.example/old", "https://news.example/gone"]


@pytest.mark.parametrize(
    "damage, lost, says",
    [
        # (what is done to the vb page's WARC header, the pages that become dead letters, the detail)
        ("length short by 5000", [], "is followed by bytes that are no record"),
        ("length long by 800", [VB], "(its Content-Length is too long)"),
        ("length not a number", [VB], "no valid Content-Length ('5x9')"),
        ("length header's name damaged", [VB], "no valid Content-Length (none)"),
        ("type damaged", [VB], "unknown WARC-Type 'respzzse'"),
        ("garbage before the record", [], "Invalid WARC record, first line: garbage line"),
    ],
)
def test_an_uncompressed_warc_steps_over_a_damaged_record_header_and_reads_every_other_record(tmp_path, damage, lost, says):
    """warcio reads a record by its Content-Length and says nothing (or only on stderr) when the
    length is wrong: too long, the records it runs into were lost without a dead letter; missing,
    the rest of the file was read as one body. Each damage is one or two malformed_warc dead
    letters, and every other record is read."""
    data = crawl(tmp_path / "crawl.warc", gzip_records=False).read_bytes()
    length = _length_of(data, VB)
    damaged = {
        "length short by 5000": lambda: _header_damaged(data, VB, b"Content-Length: " + length, b"Content-Length: %d" % (int(length) - 5000)),
        "length long by 800": lambda: _header_damaged(data, VB, b"Content-Length: " + length, b"Content-Length: %d" % (int(length) + 800)),
        "length not a number": lambda: _header_damaged(data, VB, b"Content-Length: " + length, b"Content-Length: 5x9"),
        "length header's name damaged": lambda: _header_damaged(data, VB, b"Content-Length", b"Cozztent-Length"),
        "type damaged": lambda: _header_damaged(data, VB, b"WARC-Type: response", b"WARC-Type: respzzse"),
        "garbage before the record": lambda: data.replace(b"WARC/1.0\r\nWARC-Type: request", b"garbage line\r\n" * 3 + b"WARC/1.0\r\nWARC-Type: request", 2),
    }[damage]()
    results = list(warc_captures(io.BytesIO(damaged), 2**20))
    read = [result.url for result in results if isinstance(result, WarcCapture) and result.refused is None or (
        isinstance(result, WarcCapture) and result.refused.reason != "malformed_warc")]
    assert read == [url for url in ALL_URLS if url not in lost]
    malformed = [result.refused for result in results if result.refused is not None and result.refused.reason == "malformed_warc"]
    assert 1 <= len(malformed) <= 2 and any(says in refused.detail for refused in malformed)
    offsets = [result.offset for result in results]
    assert offsets == sorted(set(offsets))
    if damage == "length short by 5000":  # the page is read as long as its header says
        (vb,) = [result for result in results if getattr(result, "url", None) == VB]
        assert len(vb.body) < len(real_page(VENTUREBEAT))
    if damage == "length not a number":  # as a pipe gives it: one dead letter, the rest unread
        (*_, last) = warc_captures(unseekable(damaged), 2**20)
        assert isinstance(last, WarcBroken) and "no valid Content-Length" in last.refused.detail
    # as a pipe gives it, nothing to step over with: still each result further in than the one before
    offsets = [result.offset for result in warc_captures(unseekable(damaged), 2**20)]
    assert offsets == sorted(set(offsets))


@pytest.mark.parametrize("gzip_records", [True, False])
def test_an_archive_whose_first_record_is_damaged_is_read_from_the_next_record(tmp_path, gzip_records):
    """The first bytes identify an archive; damaged, they made the whole file `not a WARC`."""
    data = bytearray(crawl(tmp_path / "crawl.warc", gzip_records).read_bytes())
    data[1] ^= 0x55  # the gzip magic, or the W of WARC/1.0
    results = list(warc_captures(io.BytesIO(bytes(data)), 2**20))
    assert isinstance(results[0], WarcBroken) and results[0].offset == 0
    assert "does not open with a WARC record" in results[0].refused.detail
    assert [result.url for result in results[1:]] == ALL_URLS
    assert [result.offset for result in results[1:]] == [capture.offset for capture in captures_of(tmp_path / "crawl.warc")[0]]


def test_seeded_damage_to_the_headers_of_an_uncompressed_warc_costs_only_the_damaged_records(tmp_path):
    """Bytes overwritten in the first 400 bytes of random records (their header blocks, and the
    start of the HTTP headers): every response record not touched is read, whatever the damage."""
    import random

    data = crawl(tmp_path / "crawl.warc", gzip_records=False).read_bytes()
    spans = _record_spans(data)
    rng = random.Random(11)
    stepped_over = 0
    for _ in range(150):
        damaged = bytearray(data)
        touched = []
        for _ in range(rng.randrange(1, 3)):
            start, _, _ = rng.choice(spans)
            at = start + rng.randrange(400)
            size = rng.randrange(1, 6)
            damaged[at : at + size] = bytes(rng.randrange(256) for _ in range(size))
            touched.append(at)
        results = list(warc_captures(io.BytesIO(bytes(damaged)), 2**20))
        offsets = [result.offset for result in results]
        assert offsets == sorted(set(offsets))
        read = {result.offset for result in results if isinstance(result, WarcCapture)}
        untouched = [start for start, end, kind in spans if kind == "response" and not any(start <= at < end + 4 for at in touched)]
        assert [start for start in untouched if start not in read] == []
        stepped_over += any(isinstance(result, WarcBroken) for result in results)
    assert stepped_over > 0


def test_a_damaged_record_in_a_pipeline_is_one_dead_letter_and_every_other_capture_is_counted(tmp_path):
    damaged, first_page = _damaged_in_the_middle(crawl(tmp_path / "source.warc.gz"))
    (tmp_path / "source.warc.gz").unlink()
    (tmp_path / "crawl.warc.gz").write_bytes(damaged)
    records = run_read(
        [tmp_path / "*"],
        keyed(
            lambda article: (ref_name(article.source_ref).split("@")[0], article.outlet),
            [("crawl.warc.gz", "VentureBeat"), ("crawl.warc.gz", "news.example")],
        ),
        keyed(
            # the damaged record at its own offset; the others by name
            lambda letter: (ref_name(letter.source_ref) if letter.reason == "malformed_warc" else "crawl.warc.gz", letter.reason),
            [
                (f"crawl.warc.gz@{first_page}", "malformed_warc"),
                ("crawl.warc.gz", "not_html"),
                ("crawl.warc.gz", "http_status"),
                ("crawl.warc.gz", "http_status"),
            ],
        ),
    )
    assert records == 6


@pytest.mark.parametrize("name", ["gone.warc.gz", "gone.warc.zst", "gone.jsonl.bz2"])
def test_a_dump_that_vanished_after_matching_is_one_unreadable_file_dead_letter(tmp_path, name):
    """Opening happens inside the reader's guard, for a decompressing stream too, and the
    system's error is not taken for bad compressed data."""
    missing = tmp_path / name  # matched once, deleted before it was read
    reader = ParseDumpFileFn(ReadConfig(), dt.datetime(2025, 11, 1, tzinfo=UTC))
    (output,) = list(reader.process(fileio.ReadableFile(FileMetadata(str(missing), 100))))
    assert (output.value.reason, output.value.step) == ("unreadable_file", "read.file")
