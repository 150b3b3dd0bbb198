"""Zip and tar archives of dump files (as corpora and exports are handed out), read member by
member by ReadFileDumps in real pipelines, every member counted."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile

from tests.test_news_xml import RCV1_ITEM
from tests.test_read_files import keyed, letter_key, ref_name, run_read
from tests.test_warc import UNDATED_PAGE
from transforms.read_files import ReadConfig

SEED_LIKE = b"The harbour reopened on Friday after the storm, officials said, and ships came in."
LINES = b"".join(json.dumps({"text": f"Story {n}: the harbour reopened after the storm.", "outlet": "Wire"}).encode() + b"\n" for n in range(2))


def zip_of(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def tar_of(path, members: dict[str, bytes], mode: str = "w:gz"):
    with tarfile.open(path, mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("empty-folder")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
    return path


def member_row(article):
    archive, member = article.source_ref.split("!/")
    return (ref_name(archive), member, article.source_kind, article.outlet)


def member_letter(letter):
    archive, _, member = letter.source_ref.partition("!/")
    return (ref_name(archive), member, letter.step, letter.reason)


def test_a_zip_of_mixed_dumps_is_read_member_by_member(tmp_path):
    zip_of(
        tmp_path / "reuters.zip",
        {
            "notes/first.txt": SEED_LIKE,
            "second.txt": SEED_LIKE.replace(b"Friday", b"Saturday"),
            "wire/lines.jsonl": LINES,
            "page.html": UNDATED_PAGE,
            "2286newsML.xml": RCV1_ITEM,
            "old/lines.jsonl.gz": gzip.compress(LINES),
            "inner.zip": b"PK\x05\x06" + b"\x00" * 18,
            "photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        },
    )
    records = run_read(
        [tmp_path / "*.zip"],
        keyed(
            member_row,
            [
                ("reuters.zip", "notes/first.txt", "text", "notes"),
                ("reuters.zip", "second.txt", "text", "reuters"),  # the archive's name, as a folder's
                ("reuters.zip", "wire/lines.jsonl:1", "jsonl", "Wire"),
                ("reuters.zip", "wire/lines.jsonl:2", "jsonl", "Wire"),
                ("reuters.zip", "page.html", "html", "reuters"),
                ("reuters.zip", "2286newsML.xml", "rcv1", "Reuters"),
                ("reuters.zip", "old/lines.jsonl.gz:1", "jsonl", "Wire"),
                ("reuters.zip", "old/lines.jsonl.gz:2", "jsonl", "Wire"),
            ],
        ),
        keyed(
            member_letter,
            [
                ("reuters.zip", "inner.zip", "read.file", "unsupported_format"),
                ("reuters.zip", "photo.png", "read.file", "binary_file"),
            ],
        ),
    )
    assert records == 10


def test_tar_archives_gzipped_or_not_are_streamed_and_members_over_the_cap_refused(tmp_path):
    tar_of(tmp_path / "desk.tar.gz", {"a.txt": SEED_LIKE, "b/lines.jsonl": LINES})
    tar_of(tmp_path / "desk2.tgz", {"c.txt": SEED_LIKE}, mode="w:gz")
    tar_of(tmp_path / "big.tar", {"huge.txt": SEED_LIKE * 50, "small.txt": SEED_LIKE}, mode="w")
    records = run_read(
        [tmp_path / "*.t*"],
        keyed(
            member_row,
            [
                ("desk.tar.gz", "a.txt", "text", "desk"),
                ("desk.tar.gz", "b/lines.jsonl:1", "jsonl", "Wire"),
                ("desk.tar.gz", "b/lines.jsonl:2", "jsonl", "Wire"),
                ("desk2.tgz", "c.txt", "text", "desk2"),
                ("big.tar", "small.txt", "text", "big"),
            ],
        ),
        keyed(member_letter, [("big.tar", "huge.txt", "read.file", "file_too_large")]),
        config=ReadConfig(max_file_bytes=1000),
    )
    assert records == 6


def test_archives_that_cannot_be_read_or_hold_nothing_are_one_dead_letter_each(tmp_path):
    whole = zip_of(tmp_path / "whole.zip", {"a.txt": SEED_LIKE}).read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    zip_of(tmp_path / "nothing.zip", {})
    (tmp_path / "not-a.tar").write_bytes(b"plain text that is no tar archive at all " * 20)
    records = run_read(
        [tmp_path / "cut.zip", tmp_path / "nothing.zip", tmp_path / "not-a.tar"],
        keyed(member_row, []),
        keyed(
            letter_key,
            [
                ("cut.zip", "read.file", "corrupt_archive"),
                ("nothing.zip", "read.file", "empty_file"),
                ("not-a.tar", "read.file", "corrupt_archive"),
            ],
        ),
    )
    assert records == 3
