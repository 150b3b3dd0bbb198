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
- except in a WARC gzipped record by record (the standard layout, CC-NEWS's),
  read from a file that can seek: there a damaged record (a gzip member whose
  data does not check, bytes lost in a copy) is one `malformed_warc` dead
  letter at its offset, naming the bytes skipped, and reading goes on from
  the next gzip member that opens a WARC record, so one bad member does not
  cost the records after it. Before, they were all lost behind one dead letter.

`source_ref` is `path@OFFSET`, the record's byte offset in the file as stored
(compressed), which web-archive tools address records by (`warcio extract
path OFFSET`). A page's date is its own (page metadata, else its text); when
the page gives none, the capture time (`WARC-Date`) with `date_source =
fetch_time`, as for a feed item, because a capture is no earlier than the
publication; for an archive crawled long after, page metadata usually dates
the page first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
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
    if kind is None:
        if broken is not None:
            yield WarcBroken(0, RefusedInput("malformed_warc", f"the archive cannot be read from its start: {error_message(broken)}"))
        elif head:
            yield WarcBroken(0, RefusedInput("malformed_warc", "not a WARC or ARC archive: it opens with neither WARC/ nor filedesc://"))
        return
    # A stream that broke inside the head breaks again when read on, and warcio's reading reports it.
    whole = _HeadThenRest(head, stream)
    gzipped_whole = _gzipped_as_a_whole(head)
    if gzipped_whole:
        # warcio reads gzip one member per record (the standard layout, which lets a reader seek
        # to a record); a file gzipped whole is decompressed as one stream instead, and its
        # offsets are then positions in the uncompressed archive.
        whole = gzip.GzipFile(fileobj=whole, mode="rb")
    # A damaged record of a WARC gzipped record by record can be stepped over: every record is
    # its own gzip member, so the next one is found by its opening (`_next_record_member`).
    can_step_over = kind == "warc" and head[:2] == GZIP_MAGIC and not gzipped_whole and _seekable(stream)
    # warcio reads an ARC header from any line when asked to convert ARC, so only for ARC files.
    records = ArchiveIterator(_CutShownAsError(whole), arc2warc=kind == "arc")
    offset = 0
    record_end = 0  # where the last record read whole ends: where a damaged one starts
    while True:
        # Any failure inside warcio (a truncated or damaged gzip member, a header block cut short,
        # bytes that are no WARC) ends the file here, unless a later record can be found.
        try:
            record = next(records, None)  # ArchiveIterator is its own iterator
            if record is None:
                return
            if record.rec_type not in CAPTURE_TYPES:
                offset = records.get_record_offset()
                _check_complete(record, offset)
                record_end = offset + records.get_record_length()
                tally.protocol_records += 1
                tally.conversions += record.rec_type == "conversion"
                continue
            capture = _capture(record, max_bytes)
            # Asked after the body is read: warcio finds the offset by reading to the record's end.
            offset = records.get_record_offset()
            _check_complete(record, offset)
            record_end = offset + records.get_record_length()
        except Exception as error:  # noqa: BLE001 - warcio and zlib raise many kinds
            resume = _next_record_member(stream, record_end + 1) if can_step_over else None
            if resume is None:
                # Placed where the unreadable part starts, so that its source_ref is no capture's.
                where = f"from offset {record_end}" if record_end else "from its start"
                yield WarcBroken(record_end, RefusedInput("malformed_warc", f"the archive cannot be read {where}: {error_message(error)}"))
                return
            damage = error_message(error) if isinstance(error, _RecordCutShort) else (
                f"the record at offset {record_end} cannot be read: {error_message(error)}"
            )
            detail = f"{damage}; bytes {record_end}-{resume - 1} skipped, read on from the next record"
            yield WarcBroken(record_end, RefusedInput("malformed_warc", detail))
            stream.seek(resume)
            records = ArchiveIterator(_CutShownAsError(stream))
            offset = record_end = resume
            continue
        yield dataclasses.replace(capture, offset=offset, refused=_placed(capture.refused, capture.url, offset))


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


_GZIP_MEMBER_START = GZIP_MAGIC + b"\x08"  # deflate, the only method gzip defines
_SCAN_BYTES = 1 << 20


def _next_record_member(stream: IO[bytes], start: int) -> Optional[int]:
    """The offset of the first gzip member at or after `start` that opens a WARC record, else None."""
    position = start
    while True:
        stream.seek(position)
        chunk = stream.read(_SCAN_BYTES)
        if len(chunk) < len(_GZIP_MEMBER_START):
            return None
        at = chunk.find(_GZIP_MEMBER_START)
        while at != -1:
            if _opens_a_record(stream, position + at):
                return position + at
            at = chunk.find(_GZIP_MEMBER_START, at + 1)
        position += len(chunk) - len(_GZIP_MEMBER_START) + 1


def _opens_a_record(stream: IO[bytes], at: int) -> bool:
    stream.seek(at)
    return warc_kind(stream.read(_HEAD_BYTES)) == "warc"


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

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head, self._rest, self._position = head, rest, 0

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


def _capture(record, max_bytes: int) -> WarcCapture:
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip() or None
    captured_at = _warc_date(record.rec_headers.get_header("WARC-Date"))
    http = record.http_headers if record.rec_type == "response" else None
    # A response's WARC Content-Type is "application/http"; the payload's type is in its HTTP headers.
    content_type = ((http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type")) or "").strip()
    header_text = record.rec_headers.to_str() + (http.to_str() if http else "")

    def refused(reason: str, detail: str, body: bytes = b"") -> WarcCapture:
        return WarcCapture(0, url, captured_at, content_type, body, RefusedInput(reason, detail), header_text)

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
    return WarcCapture(0, url, captured_at, content_type, body, None, header_text)


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
