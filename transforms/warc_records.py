"""Web archives (WARC, and the older ARC) as the pages they captured.

News crawls are kept as WARC files: Common Crawl's CC-NEWS, the Internet
Archive's and national libraries' web archives, a newsroom's own crawler
(wget --warc-file, Heritrix, Browsertrix). warcio (Webrecorder's library)
reads them record by record, gzip member by member, so a file of gigabytes is
streamed, never held in memory; ARC records are read as WARC ones.

What is a record here. An archive holds protocol records beside the
captures: `warcinfo` (about the file), `request` (what the crawler sent),
`metadata`, `revisit` (the crawler's note that a page was unchanged, without
its content) and `conversion`/`continuation`. Those are not input records,
as blank lines are not in a JSONL file; they are counted in the metric
`read.warc.protocol_records`. (A Common Crawl WET file is all `conversion`
records: the text of whole pages, menus and footers included, which no
extractor can take apart any more; its `empty_file` dead letter says to read
the WARC it was made from.) Every `response` and `resource` record is an
input record and becomes one article or one dead letter:

- an HTML capture (`text/html` or `application/xhtml+xml` by its HTTP or WARC
  Content-Type, or a body that opens as HTML when none is given) with HTTP
  status 200 (a `resource` has none) is a page, extracted as an HTML file is
  (`dump_parsing.extract_html_article`), with the captured URL helping
  trafilatura (site name, date, canonical URL);
- any other capture is a dead letter: `not_html` (an image, a PDF, a script:
  its content type in the detail), `http_status` (an error page or a redirect:
  "HTTP 301 to https://..."), `record_too_large` (a body over
  `read.max_file_bytes`);
- an archive that cannot be read on from some point (a truncated download,
  gzipped or not: a record that ends before its Content-Length, which warcio
  would read as a shorter record, is caught here; bytes that are no WARC)
  keeps the records before it and gives one dead letter `malformed_warc` for
  the rest;
- except in a WARC read from a file that can seek (not a decompressor), gzipped
  record by record (the standard layout, CC-NEWS's) or uncompressed: there a
  damaged record is one `malformed_warc` dead letter at its offset, naming the
  bytes skipped, and reading goes on from the next record, so one bad record
  does not cost the records after it (before, they were all lost behind one
  dead letter). The next record is the next gzip member that opens a WARC
  record, or in an uncompressed file the next WARC/1.0 or WARC/1.1 header
  block that names a WARC-Type and a Content-Length. Damage is: a gzip member
  whose data does not check (bytes lost in a copy); in an uncompressed file,
  which checks nothing in a body, a damaged header. warcio reads a record by
  its Content-Length and, when no blank line follows where that ends, skips a
  line and says so only on stderr; so a length too long lost the records it
  ran into without a dead letter, a missing or unreadable one read the rest of
  the file as one body, and a damaged WARC-Type made a page a protocol record.
  Now a header without a valid Content-Length is damage; a record that runs
  into the next record's header is one dead letter and that record is read;
  bytes after a record that are no record (a length too short, junk between
  records) are one dead letter, the record read as its header says; a
  WARC-Type that WARC does not define is a dead letter with the header as its
  raw input. Where the stream cannot seek (a `.warc.zst`, a file gzipped
  whole), a missing length ends the file with a dead letter, and a skipped
  line is one dead letter and reading goes on as warcio does.

`source_ref` is `path@OFFSET`, the record's byte offset in the file as stored
(compressed), which web-archive tools address records by (`warcio extract
path OFFSET`). A page's date is its own (page metadata, else its text); when
the page gives none, the capture time (`WARC-Date`) with `date_source =
fetch_time`, as for a feed item, because a capture is no earlier than the
publication; for an archive crawled long after, page metadata usually dates
the page first.
"""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import gzip
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import IO, Iterator, Optional, Union

from warcio.archiveiterator import ArchiveIterator

from transforms.decoding import GZIP_MAGIC, RefusedInput, error_message, read_up_to
from transforms.dump_parsing import parse_record_date

CAPTURE_TYPES = frozenset({"response", "resource"})
HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_OPENINGS = (b"<!doctype html", b"<html")
_HEAD_BYTES = 4096


@dataclass(frozen=True)
class WarcCapture:
    """One `response` or `resource` record: a page, or a refusal saying why it is none."""

    offset: int
    url: Optional[str]
    captured_at: Optional[dt.datetime]
    content_type: str
    body: bytes = b""
    refused: Optional[RefusedInput] = None
    header_text: str = ""  # the record's WARC and HTTP headers, for a dead letter's raw input


@dataclass(frozen=True)
class WarcBroken:
    """The archive could not be read on from `offset` (the end of the last record read whole)."""

    offset: int
    refused: RefusedInput


@dataclass
class WarcTally:
    protocol_records: int = 0
    conversions: int = 0  # of them, `conversion` records (a WET file's page text)


def warc_captures(stream: IO[bytes], max_bytes: int, tally: Optional[WarcTally] = None) -> Iterator[Union[WarcCapture, WarcBroken]]:
    """The captures of a WARC/ARC stream (gzipped per record or not), in file order."""
    tally = tally if tally is not None else WarcTally()
    head, broken = read_up_to(stream, _HEAD_BYTES)
    kind = warc_kind(head)
    start = 0
    if kind is None:
        if broken is not None:
            yield WarcBroken(0, RefusedInput("malformed_warc", f"the archive cannot be read from its start: {error_message(broken)}"))
            return
        if not head:
            return
        # A damaged first record: the records after it are read when one is found near the start
        # (not further, so that a file that is no archive is not read through twice).
        if _seekable(stream):
            start = _next_record_member(stream, 1, _OPENING_SCAN_BYTES) or _next_record_header(stream, 1, _OPENING_SCAN_BYTES) or 0
        if not start:
            yield WarcBroken(0, RefusedInput("malformed_warc", "not a WARC or ARC archive: it opens with neither WARC/ nor filedesc://"))
            return
        detail = f"the archive does not open with a WARC record (its first bytes are damaged); {_skipped(0, start)}"
        yield WarcBroken(0, RefusedInput("malformed_warc", detail))
        stream.seek(start)
        head, _ = read_up_to(stream, _HEAD_BYTES)
        kind = "warc"
    # A stream that broke inside the head breaks again when read on, and warcio's reading reports it.
    whole = _HeadThenRest(head, stream, start)
    gzipped_whole = _gzipped_as_a_whole(head)
    if gzipped_whole:
        # warcio reads gzip one member per record (the standard layout, which lets a reader seek
        # to a record); a file gzipped whole is decompressed as one stream instead, and its
        # offsets are then positions in the uncompressed archive.
        whole = gzip.GzipFile(fileobj=whole, mode="rb")
    # A damaged record can be stepped over where the next record can be found: in a WARC gzipped
    # record by record every record is its own gzip member (`_next_record_member`); in an
    # uncompressed one a record opens with its WARC/1.x header block (`_next_record_header`).
    next_record = None
    if kind == "warc" and not gzipped_whole and _seekable(stream):
        next_record = _next_record_member if head[:2] == GZIP_MAGIC else _next_record_header
    # Records one after another in one stream (not one gzip member each): blank lines end a record.
    plain = kind == "warc" and (head[:2] != GZIP_MAGIC or gzipped_whole)
    # warcio reads an ARC header from any line when asked to convert ARC, so only for ARC files.
    records = ArchiveIterator(_CutShownAsError(whole), arc2warc=kind == "arc")
    offset = record_end = start  # where the last record read whole ends: where a damaged one starts
    while True:
        skipped_before = getattr(records, "err_count", 0)  # warcio counts the lines it skips
        # Any failure inside warcio (a truncated or damaged gzip member, a header block cut short,
        # bytes that are no WARC) ends the file here, unless a later record can be found.
        try:
            record = next(records, None)  # ArchiveIterator is its own iterator
            if record is None:
                return
            if plain:  # a gzip member ends a record whatever its header says
                _check_length_declared(record)
            capture = _capture(record, max_bytes) if record.rec_type in CAPTURE_TYPES else (
                _unknown_type(record) if kind == "warc" and record.rec_type not in PROTOCOL_TYPES else None
            )
            # Asked after the body is read: warcio finds the offset by reading to the record's end.
            offset = records.get_record_offset()
            _check_complete(record, offset)
            record_end = offset + records.get_record_length()
        except Exception as error:  # noqa: BLE001 - warcio and zlib raise many kinds
            # Placed where the unreadable part starts, so that its source_ref is no capture's.
            # (Where the stream cannot seek, warcio's own position: past a line it skipped, which
            # has a dead letter of its own.)
            damaged_at = _after_blank_lines(stream, record_end) if next_record else max(record_end, getattr(records, "offset", 0))
            resume = next_record(stream, damaged_at + 1) if next_record else None
            if resume is None:
                where = f"from offset {damaged_at}" if damaged_at else "from its start"
                yield WarcBroken(damaged_at, RefusedInput("malformed_warc", f"the archive cannot be read {where}: {error_message(error)}"))
                return
            damage = error_message(error) if isinstance(error, _RecordCutShort) else (
                f"the record at offset {damaged_at} cannot be read: {error_message(error)}"
            )
            yield WarcBroken(damaged_at, RefusedInput("malformed_warc", f"{damage}; {_skipped(damaged_at, resume)}"))
            records = _read_on(stream, resume)
            offset = record_end = resume
            continue
        # warcio found no blank line where the record's Content-Length ends it and skipped a line,
        # saying so only on stderr (while reading to the record's end, for its offset above): the
        # length is wrong, or bytes that are no record follow.
        length_wrong = plain and getattr(records, "err_count", 0) > skipped_before
        if length_wrong:
            resume = next_record(stream, offset + 1) if next_record else None
            if resume is not None and resume < record_end:
                # Too long: the record swallowed the records that start inside it (warcio skips
                # one of them without a word). They are read again from the first.
                detail = (f"the record at offset {offset} runs into the record at offset {resume} "
                          f"(its Content-Length is too long); {_skipped(offset, resume)}")
                yield WarcBroken(offset, RefusedInput("malformed_warc", detail))
                records = _read_on(stream, resume)
                offset = record_end = resume
                continue
        if capture is not None:
            yield dataclasses.replace(capture, offset=offset, refused=_placed(capture.refused, capture.url, offset))
        else:
            tally.protocol_records += 1
            tally.conversions += record.rec_type == "conversion"
        if not length_wrong:
            continue
        # Too short, or bytes that are no record after it: the record is read as its length says,
        # and the bytes up to the next record are the damage.
        damage = f"the record at offset {offset} is followed by bytes that are no record (its Content-Length may be too short)"
        if next_record is None:
            yield WarcBroken(record_end, RefusedInput("malformed_warc", f"{damage}; a line was skipped, read on after it"))
            continue
        end = resume if resume is not None else _end_of(stream)
        if end > record_end:
            yield WarcBroken(record_end, RefusedInput("malformed_warc", f"{damage}; {_skipped(record_end, end, resume is not None)}"))
        if resume is None:
            return
        records = _read_on(stream, resume)
        offset = record_end = resume


def _seekable(stream: IO[bytes]) -> bool:
    """A stream to scan and seek in: a file, not a decompressor (those seek by decompressing again from the start)."""
    if isinstance(stream, (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile)):
        return False
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


_GZIP_MEMBER_START = GZIP_MAGIC + b"\x08"  # deflate, the only method gzip defines
_HEADER_START = b"WARC/1."
_SCAN_BYTES = 1 << 20
_HEADER_BYTES = 16384  # more than any real WARC header block
_OPENING_SCAN_BYTES = 16 << 20  # how far a damaged first record is looked past


def _next_record_member(stream: IO[bytes], start: int, limit: Optional[int] = None) -> Optional[int]:
    """The offset of the first gzip member at or after `start` (and before `limit`) that opens a WARC record, else None."""
    return _scan(stream, start, limit, _GZIP_MEMBER_START, _opens_a_record)


def _next_record_header(stream: IO[bytes], start: int, limit: Optional[int] = None) -> Optional[int]:
    """The offset of the first WARC header block at or after `start` (and before `limit`), else None."""
    return _scan(stream, start, limit, _HEADER_START, _opens_a_header_block)


def _scan(stream: IO[bytes], start: int, limit: Optional[int], marker: bytes, opens_a_record) -> Optional[int]:
    """The first position at or after `start` where `marker` is found and `opens_a_record` holds, else None."""
    position = start
    while limit is None or position < limit:
        stream.seek(position)
        chunk = stream.read(_SCAN_BYTES)
        if len(chunk) < len(marker):
            return None
        at = chunk.find(marker)
        while at != -1 and (limit is None or position + at < limit):
            if opens_a_record(stream, position + at):
                return position + at
            at = chunk.find(marker, at + 1)
        position += len(chunk) - len(marker) + 1
    return None


def _opens_a_record(stream: IO[bytes], at: int) -> bool:
    stream.seek(at)
    return warc_kind(stream.read(_HEAD_BYTES)) == "warc"


def _opens_a_header_block(stream: IO[bytes], at: int) -> bool:
    """A version line, then header lines to a blank line, naming the record's type and length:
    what a record's start is, and a page that merely quotes "WARC/1.0" is not."""
    stream.seek(at)
    block, blank, _ = stream.read(_HEADER_BYTES).partition(b"\r\n\r\n")
    if not blank:
        return False
    version, *lines = block.split(b"\r\n")
    if version not in (b"WARC/1.0", b"WARC/1.1"):
        return False
    fields = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon and not line[:1].isspace():  # neither a header nor a folded continuation
            return False
        fields[name.strip().lower()] = value.strip()
    return b"warc-type" in fields and fields.get(b"content-length", b"").isdigit()


def _after_blank_lines(stream: IO[bytes], at: int) -> int:
    """The first byte at or after `at` that is not a line break (records are separated by two)."""
    stream.seek(at)
    chunk = stream.read(64)
    return at + len(chunk) - len(chunk.lstrip(b"\r\n"))


def _end_of(stream: IO[bytes]) -> int:
    return stream.seek(0, io.SEEK_END)


def _read_on(stream: IO[bytes], at: int) -> ArchiveIterator:
    stream.seek(at)
    return ArchiveIterator(_CutShownAsError(stream))


def _skipped(start: int, end: int, read_on: bool = True) -> str:
    return f"bytes {start}-{end - 1} skipped" + (", read on from the next record" if read_on else ", the last of the file")


PROTOCOL_TYPES = frozenset({"warcinfo", "request", "metadata", "revisit", "conversion", "continuation"})


def _check_length_declared(record) -> None:
    """Raise for a WARC record whose header gives no Content-Length (a damaged header line):
    warcio would read the rest of the file as its body, and the records in it would be lost."""
    declared = record.rec_headers.get_header("Content-Length")
    if declared is None or not declared.strip().isdigit():
        found = "none" if declared is None else repr(declared)
        raise _RecordDamaged(f"its header gives no valid Content-Length ({found})")


def _unknown_type(record) -> WarcCapture:
    """A record of a type WARC does not define (a damaged WARC-Type line): a dead letter, not a protocol record."""
    named = record.rec_type
    detail = f"unknown WARC-Type {named!r}" if named else "no WARC-Type"
    return dataclasses.replace(_described(record), refused=RefusedInput("malformed_warc", f"{detail}: a damaged record header"))


class _RecordDamaged(Exception):
    pass


class _RecordCutShort(Exception):
    pass


def _check_complete(record, offset: int) -> None:
    """Raise when a record ended before its Content-Length: the file cut short, or a gzip member
    whose data does not check (warcio reads what there is as a shorter record in both cases,
    and says only on stderr that a member was damaged)."""
    missing = getattr(record.raw_stream, "limit", 0)
    if isinstance(missing, int) and missing > 0:
        raise _RecordCutShort(f"the record at offset {offset} ends {missing} bytes short of its Content-Length")


def warc_kind(head: bytes) -> Optional[str]:
    """"warc" or "arc" from a file's first bytes (its first gzip member's, when gzipped), else None."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return None
    head = head.lstrip(b"\r\n")
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    return None


def _gzipped_as_a_whole(head: bytes) -> bool:
    """A gzip whose first member holds more than one WARC record (`gzip file.warc`)."""
    if head[:2] != b"\x1f\x8b":
        return False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        opening = inflater.decompress(head)
    except zlib.error:
        return False
    return not inflater.eof and opening.count(b"WARC/1.") > 1


class _HeadThenRest(io.RawIOBase):
    """The bytes read to look at a file's start, then the rest of it, as one stream that tells its position."""

    def __init__(self, head: bytes, rest: IO[bytes], position: int = 0):
        self._head, self._rest, self._position = head, rest, position

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        if self._head:
            taken = self._head if size is None or size < 0 else self._head[:size]
            self._head = self._head[len(taken):]
            if size is None or size < 0:
                taken += self._rest.read()
        else:
            taken = self._rest.read(size)
        self._position += len(taken)
        return taken

    def read1(self, size: int = -1) -> bytes:
        if self._head:
            return self.read(min(size, len(self._head)) if size is not None and size >= 0 else len(self._head))
        taken = getattr(self._rest, "read1", self._rest.read)(size)
        self._position += len(taken)
        return taken

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class StreamCutShort(Exception):
    """A decompressing stream whose data stopped mid-stream (its EOFError, renamed)."""


class _CutShownAsError:
    """The stream warcio reads, with an EOFError renamed StreamCutShort: warcio takes an EOFError
    for the archive's normal end, while gzip, bz2 and xz raise one when their data is cut short,
    so the records after the cut would be lost without a word."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._cut: Optional[StreamCutShort] = None

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int = -1) -> bytes:
        # Piece by piece (read_up_to), so that what decompressed before the cut is returned first
        # and the cut raised on the next read.
        if self._cut is not None:
            raise self._cut
        if size is None or size < 0:
            try:
                return self._stream.read()
            except EOFError as error:
                raise StreamCutShort(str(error)) from error
        data, error = read_up_to(self._stream, size)
        if error is None:
            return data
        if not isinstance(error, EOFError):
            raise error  # warcio reports it as what it is
        self._cut = StreamCutShort(str(error))
        if not data:
            raise self._cut from error
        return data


def _placed(refused: Optional[RefusedInput], url: Optional[str], offset: int) -> Optional[RefusedInput]:
    if refused is None:
        return None
    return RefusedInput(refused.reason, f"{url or '?'} (record at offset {offset}): {refused.detail}")


def _described(record) -> WarcCapture:
    """What a record's headers say of it (URL, capture time, content type), its body not read."""
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip() or None
    captured_at = _warc_date(record.rec_headers.get_header("WARC-Date"))
    http = record.http_headers if record.rec_type == "response" else None
    # A response's WARC Content-Type is "application/http"; the payload's type is in its HTTP headers.
    content_type = ((http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type")) or "").strip()
    header_text = record.rec_headers.to_str() + (http.to_str() if http else "")
    return WarcCapture(0, url, captured_at, content_type, header_text=header_text)


def _capture(record, max_bytes: int) -> WarcCapture:
    described = _described(record)
    content_type = described.content_type
    http = record.http_headers if record.rec_type == "response" else None

    def refused(reason: str, detail: str, body: bytes = b"") -> WarcCapture:
        return dataclasses.replace(described, body=body, refused=RefusedInput(reason, detail))

    status = _status(http)
    if http is not None and status != 200:
        location = http.get_header("Location")
        moved = f" to {location.strip()}" if location and 300 <= (status or 0) < 400 else ""
        return refused("http_status", f"HTTP {status if status is not None else '?'}{moved}: no page")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in HTML_TYPES:
        return refused("not_html", f"{media_type}, not an HTML page")
    body = record.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        return refused("record_too_large", f"the page is over {max_bytes} bytes (max_file_bytes)", body[:4096])
    if not media_type and not body.lstrip()[:20].lower().startswith(_HTML_OPENINGS):
        return refused("not_html", "no content type, and the body does not open as HTML", body[:4096])
    return dataclasses.replace(described, body=body)


def _status(http) -> Optional[int]:
    try:
        return int(http.get_statuscode()) if http is not None else None
    except (TypeError, ValueError):
        return None


def _warc_date(value: Optional[str]) -> Optional[dt.datetime]:
    if not value:
        return None
    try:
        return parse_record_date(value.strip())
    except ValueError:
        return None
