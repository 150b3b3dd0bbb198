"""Dumps compressed with zstd, bzip2 or xz (besides gzip), read by ReadFileDumps in real pipelines:
streamed JSONL, whole files, a web archive, and data that does not decompress."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma

import pytest
import zstandard

from tests.test_read_files import keyed, letter_key, ref_name, run_read
from tests.test_warc import UNDATED_PAGE, response, write_warc
from transforms.decoding import RefusedInput, decompress
from transforms.dump_parsing import split_compression

COMPRESSORS = {
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "gz": gzip.compress,
}
LINES = [{"text": f"Story {n}: the harbour reopened after the storm, officials said.", "id": f"s{n}"} for n in range(3)]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()


@pytest.mark.parametrize("suffix", ["zst", "bz2", "xz", "gz"])
def test_each_compression_is_undone_whole_and_refused_when_it_does_not_decompress(suffix):
    codec = split_compression(f"dump.jsonl.{suffix}")[1]
    assert decompress(COMPRESSORS[suffix](JSONL), codec, 2**20) == JSONL
    with pytest.raises(RefusedInput) as oversized:
        decompress(COMPRESSORS[suffix](JSONL), codec, 100)
    assert oversized.value.reason == "file_too_large"
    with pytest.raises(RefusedInput) as corrupt:
        decompress(COMPRESSORS[suffix](JSONL)[:20], codec, 2**20)
    assert corrupt.value.reason == ("corrupt_gzip" if suffix == "gz" else "corrupt_compression")


def test_compressed_dumps_of_every_kind_are_read_with_every_record_counted(tmp_path):
    for suffix in ("zst", "bz2", "xz"):
        (tmp_path / f"lines.jsonl.{suffix}").write_bytes(COMPRESSORS[suffix](JSONL))
    (tmp_path / "one.json.xz").write_bytes(lzma.compress(json.dumps(LINES[0]).encode()))
    (tmp_path / "note.txt.bz2").write_bytes(bz2.compress(b"The harbour reopened after the storm on Friday, officials said."))
    archive = write_warc(tmp_path / "crawl.warc", [lambda w: response(w, "https://news.example/harbour", UNDATED_PAGE)], gzip_records=False)
    (tmp_path / "crawl.warc.zst").write_bytes(COMPRESSORS["zst"](archive.read_bytes()))
    archive.unlink()
    # Named for a compression the bytes are not in, and cut off in the middle of the stream.
    (tmp_path / "fake.jsonl.zst").write_bytes(JSONL)
    # Two bzip2 streams (as pbzip2 writes them), the second cut off: the first one's lines stand.
    (tmp_path / "cut.jsonl.bz2").write_bytes(bz2.compress(JSONL * 100) + bz2.compress(JSONL * 100)[:-40])

    # The first stream's 300 lines are read; the break is met reading line 301.
    letters_check = keyed(
        letter_key,
        [("fake.jsonl.zst", "read.file", "corrupt_compression"), ("cut.jsonl.bz2:301", "read.jsonl", "corrupt_compression")],
    )

    expected_rows = [(f"lines.jsonl.{suffix}:{n + 1}", "jsonl") for suffix in ("zst", "bz2", "xz") for n in range(3)]
    expected_rows += [("one.json.xz", "jsonl"), ("note.txt.bz2", "text"), ("crawl.warc.zst", "warc")]

    def rows_check(articles):
        rows = sorted((ref_name(a.source_ref).split("@")[0], a.source_kind) for a in articles if "cut" not in a.source_ref)
        assert rows == sorted(expected_rows)
        cut = [a for a in articles if "cut" in a.source_ref]
        assert len(cut) == 300 and all(a.source_kind == "jsonl" for a in cut)

    records = run_read([tmp_path / "*"], rows_check, letters_check)
    assert records == len(expected_rows) + 300 + 2


@pytest.mark.parametrize("suffix, codec", [("xz", "xz"), ("zst", "zstd")])
def test_a_truncated_stream_is_never_read_as_a_shorter_whole_file(tmp_path, suffix, codec):
    """zstandard's own reader stops quietly at a cut; the dead letter must say the rest was lost."""
    many = b"".join(json.dumps({"text": f"Story {n}: " + "words " * 40}).encode() + b"\n" for n in range(5000))
    compressed = COMPRESSORS[suffix](many)
    (tmp_path / f"cut.jsonl.{suffix}").write_bytes(compressed[: len(compressed) // 2])

    def says_where(letters):
        (letter,) = letters
        assert letter.reason == "corrupt_compression" and "and after not read" in letter.detail
        assert letter.detail.startswith(f"{codec} data does not decompress")

    def some_lines_came_first(articles):
        assert 0 < len(articles) < 5000

    run_read([tmp_path / "*"], some_lines_came_first, says_where)
