"""Zip and tar archives of dump files (as corpora and exports are handed out), read member by
member by ReadFileDumps in real pipelines, every member counted."""

from __future__ import annotations

import gzip
import io
import json
import random
import tarfile
import zipfile

import zstandard

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
    # a tar under a name that gives no format is known by its header ("ustar")
    tar_of(tmp_path / "export.tar", {"d.txt": SEED_LIKE}, mode="w:gz").rename(tmp_path / "export-2024.dat")
    records = run_read(
        [tmp_path / "*.t*", tmp_path / "*.dat"],
        keyed(
            member_row,
            [
                ("desk.tar.gz", "a.txt", "text", "desk"),
                ("desk.tar.gz", "b/lines.jsonl:1", "jsonl", "Wire"),
                ("desk.tar.gz", "b/lines.jsonl:2", "jsonl", "Wire"),
                ("desk2.tgz", "c.txt", "text", "desk2"),
                ("big.tar", "small.txt", "text", "big"),
                ("export-2024.dat", "d.txt", "text", "export-2024.dat"),
            ],
        ),
        keyed(member_letter, [("big.tar", "huge.txt", "read.file", "file_too_large")]),
        config=ReadConfig(max_file_bytes=1000),
    )
    assert records == 7


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


def patched_zip_member(data: bytes, name: bytes, *, flags: int = 0, method: int | None = None, flip_byte: bool = False) -> bytes:
    """`data` (a zip) with member `name`'s headers given extra flag bits or another method, or one
    byte of its stored content changed: what an encrypted, deflate64 or damaged member looks like
    to zipfile, built without tools that encrypt or write deflate64."""
    patched = bytearray(data)
    # (signature, offsets of the flags, the method, the name's length and the name) in a local
    # file header and in a central directory entry
    for signature, flags_at, method_at, length_at, name_at in ((b"PK\x03\x04", 6, 8, 26, 30), (b"PK\x01\x02", 8, 10, 28, 46)):
        start = 0
        while (start := patched.find(signature, start)) >= 0:
            name_length = int.from_bytes(patched[start + length_at : start + length_at + 2], "little")
            if bytes(patched[start + name_at : start + name_at + name_length]) == name:
                old_flags = int.from_bytes(patched[start + flags_at : start + flags_at + 2], "little")
                patched[start + flags_at : start + flags_at + 2] = (old_flags | flags).to_bytes(2, "little")
                if method is not None:
                    patched[start + method_at : start + method_at + 2] = method.to_bytes(2, "little")
                if flip_byte and signature == b"PK\x03\x04":
                    extra_length = int.from_bytes(patched[start + 28 : start + 30], "little")
                    patched[start + name_at + name_length + extra_length] ^= 0xFF
            start += 4
    return bytes(patched)


def test_a_zip_member_that_cannot_be_read_is_refused_alone_and_a_broken_tar_stream_ends_its_archive(tmp_path):
    members = {"locked.txt": SEED_LIKE, "old.txt": SEED_LIKE, "damaged.txt": SEED_LIKE, "fine.txt": SEED_LIKE}
    with zipfile.ZipFile(tmp_path / "desk.zip", "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = (tmp_path / "desk.zip").read_bytes()
    data = patched_zip_member(data, b"locked.txt", flags=0x1)
    data = patched_zip_member(data, b"old.txt", method=9)  # deflate64, which zipfile does not read
    data = patched_zip_member(data, b"damaged.txt", flip_byte=True)  # its CRC no longer matches
    (tmp_path / "desk.zip").write_bytes(data)
    # b.txt does not compress, so the cut lands in it, well after a.txt has been read
    noise = random.Random(7).randbytes(200_000)
    whole = tar_of(tmp_path / "whole.tar", {"a.txt": SEED_LIKE, "b.txt": noise}, mode="w").read_bytes()
    compressed = zstandard.ZstdCompressor().compress(whole)
    (tmp_path / "cut.tar.zst").write_bytes(compressed[: len(compressed) - 20])
    records = run_read(
        [tmp_path / "desk.zip", tmp_path / "cut.tar.zst"],
        keyed(member_row, [("desk.zip", "fine.txt", "text", "desk"), ("cut.tar.zst", "a.txt", "text", "cut")]),
        keyed(
            member_letter,
            [
                ("desk.zip", "locked.txt", "read.file", "unsupported_format"),
                ("desk.zip", "old.txt", "read.file", "unsupported_format"),
                ("desk.zip", "damaged.txt", "read.file", "corrupt_archive"),
                ("cut.tar.zst", "", "read.file", "corrupt_archive"),
            ],
        ),
    )
    assert records == 6
