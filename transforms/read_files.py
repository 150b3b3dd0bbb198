"""ReadFileDumps: file dumps (plain text, HTML, JSONL/JSON, CSV/TSV, saved feeds, NITF/NewsML-G2, web and dump archives, compressed or not) -> Articles.

Applied at the pipeline root:

    articles, dead_letters = p | "ReadFileDumps" >> ReadFileDumps(["dumps/**.jsonl.gz"])

Steps: the glob patterns are matched with Beam's filesystem layer
(`fileio.MatchAll`, local paths, `gs://` and every other Beam filesystem; a
pattern that matches nothing is allowed, the CLI checks patterns up front; `**`
crosses folders, Beam's `*` does not, and `**/` also matches no folder, as in a
shell's globstar: see `globstar_variants`). A file matched by several patterns is
read once. Each file is then parsed by `ParseDumpFileFn`, using the pure rules
of `transforms.decoding` (bytes -> text) and `transforms.dump_parsing` (text ->
article fields, date evidence).

Records, and the conservation rule the run's counts rely on: every record
becomes exactly one Article or exactly one DeadLetter, and is counted once in
the metric `newsbeam/records_read`. A record is

- one file, for plain text and HTML (and a `.json` file holding one object);
- one item, for a saved RSS/Atom/RDF feed (`feed_items.record_from_entry`),
  plus one more when the feed parsed with a flaw (`<kind>_items_kept`, the
  poller's rule: the items are kept and the flaw is said);
- one news item, for an IPTC NewsML-G2 file (a `newsMessage` carries
  several; `transforms.news_xml`) or NewsML 1.x file, and one file for a NITF document;
- for a zip or tar archive, the records of each regular member, read as the
  file it would be unpacked (`path!/member`); `corrupt_archive` for an archive
  that cannot be read on (or for a damaged zip member alone: zip members are
  read independently, a tar is one stream), `empty_file` for one with no file,
  and `unsupported_format` for an archive or WARC inside it and for an
  encrypted zip member or one of a method zipfile does not read;
- one capture (`response` or `resource` record) of a WARC or ARC file; the
  crawler's own records (`warcinfo`, `request`, `metadata`, `revisit`) are not
  records, as blank lines are not, and count in `read.warc.protocol_records`;
  a broken archive adds one `malformed_warc` for the rest of it (in a WARC
  gzipped record by record, one for each damaged record, stepped over);
- one non-blank line, for JSONL (blank lines are not records, but they count
  in the line numbers of `source_ref`); one element, for a `.json` array;
- one row under the header, for CSV/TSV (`.csv`, `.tsv`, or a file whose name
  gives no format and whose header names news fields, see
  `dump_parsing.looks_like_csv_table`; `path:LINE`, the line the row starts on;
  the delimiter is the one that splits the header most):
  `invalid_csv` for a row of more fields than the header, `record_too_large`
  over max_record_bytes, `empty_file` for a file with no row;
- one file, when a file cannot be read as records at all: empty or
  whitespace-only (`empty_file`, also a JSONL file with no non-blank line or an
  empty `.json` array), binary (`binary_file`), too large (`file_too_large`),
  a gzip that does not decompress (`corrupt_gzip`), unreadable
  (`unreadable_file`), no known text encoding (`unknown_encoding`). A gzip that
  breaks in the middle of a JSONL stream yields the records before the break
  and one `corrupt_gzip` dead letter for the rest.

Other dead-letter reasons: `invalid_json` (source_ref `path:LINE`),
`not_an_object`, `missing_text`, `not_text_item` (a ninjs picture, video, ...:
`transforms.ninjs`), `record_too_large` (a JSONL line over
`max_record_bytes`), `no_article_text`, `extraction_timeout`,
`extraction_failed` (HTML); `not_a_feed`, `malformed_feed`,
`unsupported_format`, `xml_entity_expansion`, `empty_file` (a feed with no
items) and, per item, `missing_text` (saved feeds); `unsupported_format`
also for other XML (a sitemap, an OPML list: `dump_parsing.sniff_format`);
`malformed_xml`, `xml_entity_expansion`, `empty_file` (a message with no
item) and, per item, `not_text_item` and `missing_text` (NITF, NewsML);
per capture, `not_html`, `http_status`, `record_too_large` and the HTML
reasons, and `malformed_warc`, `empty_file` for the archive (WARC, ARC:
`transforms.warc_records`).

Compression: a file is gunzipped when its name ends in `.gz` or its bytes
start with the gzip magic number, and decompressed when its name ends in
`.zst`, `.bz2` or `.xz` (`decoding.decompressing_reader`); its format comes
from the name without that suffix. A `.gz` name over bytes that are not gzip
is `corrupt_gzip`, the others `corrupt_compression`, as is data that stops
in the middle (zstd too, whose own reader would stop quietly).

Sizes: plain-text, HTML, `.json`, feed and unknown-extension files are read whole and
limited to `max_file_bytes` (after decompression). JSONL files are streamed
line by line with no file limit, each line limited to `max_record_bytes`; so are
CSV/TSV files row by row and web archives record by record. A `.json` file (or
pretty-printed `.jsonl`, or a file of unknown extension that opens as JSON objects
do, `_opens_as_json`) over `max_file_bytes` that holds a list of records (a
top-level array, an API answer's or search response's list, values one after
another) is streamed record by record with ijson, to the records a whole read
gives; one object alone, or a JSON Feed, that big stays `file_too_large`.

Fields of an Article from a dump (dates: see `transforms.dump_parsing`):

- `url`: the record's URL (JSON), the page's canonical URL (HTML) or the
  item's absolute http(s) link (feed); else None.
  A file path is not a URL: where the record came from is in `source_ref`.
- `outlet`: the record's outlet/publisher (JSON), the page's site name
  (HTML) or the item's `<source>`, else the feed's title (feed); else the
  host name of its URL; else the name of the folder holding the dump
  (`dumps/reuters/2025-10-31.jsonl` -> "reuters"), unless
  `outlet_from_folder` is off.
- `title`: JSON title/headline, HTML title or item title; None for plain
  text (CleanArticles derives it).
- `language`: the record's language code (JSON, primary subtag only) or the
  feed's declared language; else None
  (CleanArticles identifies it).
- `source_kind`: "text", "html", "jsonl" (JSON files too) or "feed".
- `source_ref`: the matched path, plus `:LINE` (JSONL) or `[INDEX]` (`.json`
  array, feed item).
- `content_source`: "page" for HTML, "feed_summary" for a feed item's own
  text, "file" otherwise.
- `article_id`: `make_article_id(identity, text)`, identity as documented in
  the `transforms.dump_parsing` module doc: never the directory.
- `ingested_at`: in a bounded run one timestamp for the whole run (the
  constructor's, else the time the transform was built); in a watched
  (unbounded) run the time the file was read, since files arrive for as long as
  the run lasts.

HTML extraction runs on a separate thread per page and is abandoned after
`extract_timeout_s` (the thread cannot be stopped and finishes in the
background: see `dump_parsing.run_with_time_limit`; each one is counted in
`newsbeam/read.html.abandoned_extractions`).

Run locally:  newsbeam run --input 'dumps/**.jsonl.gz' --output out
On Dataflow:  newsbeam run --input 'gs://BUCKET/dumps/**' --output gs://BUCKET/news --runner DataflowRunner ...
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime as dt
import gzip
import io
import itertools
import json
import lzma
import re
import tarfile
import zipfile
import zlib
from typing import IO, Any, Callable, ContextManager, Iterable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
import ijson
import zstandard
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.metrics import Metrics
from pydantic import BaseModel, ConfigDict, Field

from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, dead_letter_output
from transforms.decoding import (
    BYTE_ORDER_MARKS,
    COMPRESSION_MAGIC,
    DECOMPRESSION_ERRORS,
    GZIP_MAGIC,
    SNIFF_BYTES,
    Decoded,
    LineDecoder,
    RefusedInput,
    binary_signature,
    corrupt_compression,
    decode_bytes,
    decompress,
    decompressing_reader,
    error_message,
    line_decoder_for,
    read_up_to,
)
from transforms.dump_parsing import (
    ARCHIVE_FORMATS,
    ENVELOPE_FIELDS,
    TEXT_FIELDS,
    document_records,
    ParsedRecord,
    csv_delimiter,
    dump_name,
    extract_html_article,
    field_name_of_column,
    folder_name,
    load_html_extractor,
    format_from_extension,
    looks_like_csv_table,
    parse_json_line,
    parse_plain_text,
    record_identity,
    require_object,
    run_with_time_limit,
    markup_document_format,
    sniff_format,
    split_compression,
    xml_root_name,
)
from transforms.feed_items import (
    FeedRejected,
    ParsedFeed,
    JSON_FEED_VERSION_PREFIX,
    decode_page,
    is_json_feed,
    json_feed,
    parse_feed,
    record_from_entry,
)
from transforms.news_xml import parse_news_xml
from transforms.ninjs import is_ninjs, parse_news_json
from transforms.warc_records import WarcBroken, WarcCapture, WarcTally, warc_captures, warc_kind
from transforms.schema import DEAD_LETTER_RAW_CHARS, Article, DeadLetter, make_article_id

UTC = dt.timezone.utc
STEP = "read"
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
_STREAM_ERRORS = DECOMPRESSION_ERRORS

Output = Union[Article, beam.pvalue.TaggedOutput]
# Where a row's text came from, by the kind of record (the rest: "file").
_CONTENT_SOURCE = {"html": "page", "warc": "page", "feed": "feed_summary"}
CAPTURED_PAGE_TAG = "captured_pages"


class ReadConfig(BaseModel):
    """How file dumps are read (config section `read`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(
        50_000_000,
        gt=0,
        description="Largest plain-text, HTML, .json or unknown-extension file read whole, in bytes "
        "after decompression; larger files become `file_too_large` dead letters, except JSON that "
        "holds a list of records (an array, an API dump, values one after another), which is streamed.",
    )
    max_record_bytes: int = Field(
        10_000_000,
        gt=0,
        description="Longest JSONL line, in bytes; longer lines become `record_too_large` dead letters.",
    )
    extract_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Time limit for extracting one HTML page, in seconds; slower pages become "
        "`extraction_timeout` dead letters.",
    )
    html_min_words: int = Field(
        25,
        ge=1,
        description="Fewest words of extracted text for an HTML page to count as an article; "
        "below it the page is a `no_article_text` dead letter (menus and error pages). In "
        "Chinese, Japanese, Thai and other scripts without spaces each character counts as a word.",
    )
    html_extensive_date_search: bool = Field(
        False,
        description="Also let htmldate guess an HTML page's date from date-like text anywhere in "
        "the page, not only from its markup (meta tags, JSON-LD, <time>, URL).",
    )
    text_date_window: int = Field(
        1500,
        ge=0,
        description="How many leading characters of an article are searched for a full date "
        "when there is no better evidence (date_source `text_date`).",
    )
    outlet_from_folder: bool = Field(
        True,
        description="When a record names no outlet, use the name of the folder holding the dump.",
    )


class _FileRefused(RefusedInput):
    """A whole file refused, with what of it the dead letter keeps."""

    def __init__(self, reason: str, detail: str, raw: Optional[bytes] = None, raw_size: Optional[int] = None):
        super().__init__(reason, detail)
        self.raw = raw
        self.raw_size = raw_size


class _LongLine(NamedTuple):
    """A JSONL line over max_record_bytes: its beginning and its full size."""

    head: Union[bytes, str]
    size: int


class ArchiveMember(NamedTuple):
    name: str
    size: int
    read: Callable[[int], bytes]  # up to that many bytes of the member's content
    # Why the member cannot be read at all, known from the listing (a zip member's encryption or method).
    unreadable: Optional[RefusedInput] = None


# What zipfile and tarfile raise on an archive (or a member) they cannot read on.
ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError)
# The methods Python's zipfile decompresses; others (deflate64, PPMd...) raise NotImplementedError.
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_ZIP_ENCRYPTED_FLAG = 0x1


def _zip_member_problem(info: zipfile.ZipInfo) -> Optional[RefusedInput]:
    if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
        return RefusedInput("unsupported_format", "an encrypted zip member: decrypt the archive and read it from there")
    if info.compress_type not in _ZIP_METHODS:
        detail = (
            f"a zip member compressed with method {info.compress_type}, which Python's zipfile cannot"
            f" decompress (it reads {', '.join(_ZIP_METHODS.values())}): unpack it with another tool"
        )
        return RefusedInput("unsupported_format", detail)
    return None


def archive_members_of_zip(archive: zipfile.ZipFile) -> Iterator[ArchiveMember]:
    """The regular files of a zip, in its order (folders skipped)."""
    for info in archive.infolist():
        if info.is_dir():
            continue

        def read(limit: int, info: zipfile.ZipInfo = info) -> bytes:
            with archive.open(info) as member:
                return member.read(limit)

        yield ArchiveMember(info.filename, info.file_size, read, _zip_member_problem(info))


def archive_members_of_tar(archive: tarfile.TarFile) -> Iterator[ArchiveMember]:
    """The regular files of a tar, streamed in its order (folders, links and devices skipped)."""
    for info in archive:
        if not info.isfile():
            continue
        content = archive.extractfile(info)
        yield ArchiveMember(info.name, info.size, lambda limit, content=content: content.read(limit) if content else b"")


def _archive_error_text(error: BaseException) -> str:
    # zipfile and the decompressors say what broke, but not always in words (a bare zlib code).
    return str(error) or type(error).__name__


def _stream_error(error: BaseException, codec: Optional[str] = "gzip") -> RefusedInput:
    if isinstance(error, (gzip.BadGzipFile, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)) or (
        # bz2 reports bad data as an OSError of its own, with no errno, unlike the system's errors
        codec not in (None, "gzip") and isinstance(error, OSError) and error.errno is None
    ):
        return corrupt_compression(codec or "gzip", error)
    return RefusedInput("unreadable_file", f"cannot read the file: {error}")


def _broken_mid_stream(error: BaseException, path: str, rest: str) -> RefusedInput:
    """Why a stream broke after some of its records were read, saying what (`rest`) was not."""
    broken = _stream_error(error, split_compression(path)[1] or "gzip")
    return RefusedInput(broken.reason, f"{broken.detail}; {rest} not read")


def _compression_of(path: str, head: bytes) -> Optional[str]:
    """The compression a file's name says, else gzip when its bytes open with gzip's magic."""
    return split_compression(path)[1] or ("gzip" if head[: len(GZIP_MAGIC)] == GZIP_MAGIC else None)


def _decompressed(path: str, data: bytes, limit: int) -> bytes:
    """A whole file's `data`, decompressed as `_compression_of` says (as it is when not compressed),
    within `limit` bytes; RefusedInput for bytes that are not what the name says, or do not decompress."""
    named = split_compression(path)[1]
    if named and not data.startswith(COMPRESSION_MAGIC[named]):
        reason = "corrupt_gzip" if named == "gzip" else "corrupt_compression"
        suffix = path.rsplit(".", 1)[-1]
        raise RefusedInput(reason, f"named .{suffix} but does not start with the {named} magic number")
    codec = _compression_of(path, data)
    return decompress(data, codec, limit) if codec else data


@contextlib.contextmanager
def _open_decompressed(readable_file: fileio.ReadableFile) -> Iterator[IO[bytes]]:
    """The file as a byte stream, decompressed as its name says (or gunzipped when it opens with gzip's magic)."""
    with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        magic = raw.read(len(GZIP_MAGIC))
        raw.seek(0)
        codec = _compression_of(readable_file.metadata.path, magic)
        if codec:
            with decompressing_reader(raw, codec) as decompressed:
                yield decompressed
        else:
            yield raw


def _read_head(stream: IO[bytes]) -> bytes:
    """Up to SNIFF_BYTES from the start; a stream that breaks early gives what came before."""
    head, error = read_up_to(stream, SNIFF_BYTES)
    if error is not None and not head:
        raise error
    return head


def _byte_lines(stream: IO[bytes], decoder: LineDecoder, limit: int) -> Iterator[tuple[int, Union[str, _LongLine]]]:
    """(line number, decoded line or _LongLine) of an ASCII-compatible stream."""
    line_no = 0
    while line := stream.readline(limit + 1):
        line_no += 1
        if len(line) > limit and not line.endswith(b"\n"):
            head, size = line, len(line)
            while line and not line.endswith(b"\n"):
                line = stream.readline(limit + 1)
                size += len(line)
            yield line_no, _LongLine(head, size)
            continue
        yield line_no, decoder.decode(line).text.rstrip("\r\n")


def _wide_lines(stream: IO[bytes], encoding: str, limit: int) -> Iterator[tuple[int, Union[str, _LongLine]]]:
    """(line number, line or _LongLine) of a UTF-16/32 stream (limit in bytes)."""
    unit = 4 if "32" in encoding else 2
    limit_chars = max(1, limit // unit)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
    line_no = 0
    while line := text.readline(limit_chars + 1):
        line_no += 1
        if line_no == 1:
            line = line.lstrip("\ufeff")
        if len(line) > limit_chars and not line.endswith("\n"):
            head, size = line, len(line)
            while line and not line.endswith("\n"):
                line = text.readline(limit_chars + 1)
                size += len(line)
            yield line_no, _LongLine(head, size * unit)
            continue
        yield line_no, line.rstrip("\r\n")
    text.detach()  # the caller's `with` closes the byte stream


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) split on LF only: JSON strings may hold U+2028 or U+0085,
    where str.splitlines() would also cut."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        yield line_no, line.rstrip("\r")


def _limit_csv_fields(max_record_bytes: int) -> None:
    # The module-wide cap (131,072 characters by default) is raised to the record cap, so that
    # a long article is a record; the cap itself is kept row by row (_csv_row).
    if csv.field_size_limit() < max_record_bytes:
        csv.field_size_limit(max_record_bytes)


def _csv_refusal(error: csv.Error, max_record_bytes: int) -> RefusedInput:
    if "field larger than field limit" in str(error):
        return RefusedInput("record_too_large", f"a field over the limit of {max_record_bytes} characters (max_record_bytes)")
    return RefusedInput("invalid_csv", f"not valid CSV: {error}")


class _LineTape:
    """The physical lines of a text, handed to a csv reader, remembering those of the current row."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.taken: list[str] = []

    def __iter__(self) -> "_LineTape":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


class _StrayQuote(NamedTuple):
    first_line: str  # the line whose quote opened the runaway field
    lines: int  # how many lines the runaway row took


def _csv_parsed_rows(
    lines: Iterable[str], delimiter: str, fields_expected: Callable[[], Optional[int]]
) -> Iterator[tuple[int, Union[list[str], csv.Error, _StrayQuote]]]:
    """(line number, row) of CSV text given as physical lines; a csv.Error in place of a row
    that cannot be read. A quote that opens a field and is not closed where the row should end
    (a stray quote in a hand-made or damaged file: `"Hello, he said` unquoted) makes the csv
    reader run the field on over the following rows, to the next quote or the end of the file,
    so those rows were one record or one dead letter without a word about the rest. Such a row
    (over several lines, with its quotes unbalanced or more fields than the header) whose other
    lines read as rows of the header's width is given as a _StrayQuote of its first line, and its
    other lines are read again as rows. A legitimate multi-line field (a quoted article text) is
    balanced and within the header's width, and its lines are not rows, so it is kept whole."""
    def reading(lines: Iterable[str], first: int) -> tuple[_LineTape, Any, int]:
        tape = _LineTape(lines)
        return tape, csv.reader(tape, delimiter=delimiter), first

    stack = [reading(lines, 1)]  # (lines still to read, their reader, the number of their first line)
    while stack:
        tape, rows, first = stack[-1]
        line = first + rows.line_num
        tape.taken.clear()
        try:
            row = next(rows)
        except StopIteration:
            stack.pop()
            continue
        except csv.Error as error:
            yield line, error
            continue
        taken = tape.taken
        width = fields_expected()
        if width and len(taken) > 1 and (sum(part.count('"') for part in taken) % 2 or len(row) > width):
            rest = taken[1:]
            if all(len(again) in (0, width) for again in csv.reader(rest, delimiter=delimiter)):
                yield line, _StrayQuote(taken[0].rstrip("\r\n"), len(taken))
                stack.append(reading(rest, line + 1))
                continue
        yield line, row


def _after_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n\ufeff":
        position += 1
    return position


def _opens_a_pretty_printed_value(head: bytes) -> bool:
    """A first non-blank line that only opens an object or array (`{`, `[`, `[{`): the file is
    JSON pretty-printed over many lines, not one record per line. Looked at in bytes (every
    JSONL file passes here): a UTF-16 file is read line by line, as before."""
    lines = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 64)
    first_line = next((line.strip() for line in lines if line.strip()), b"")
    return first_line in (b"{", b"[", b"[{", b"[ {")


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


class ParseDumpFileFn(beam.DoFn):
    """One matched file -> its records, each an Article or a dead letter."""

    def __init__(self, config: ReadConfig, ingested_at: Optional[dt.datetime]):
        """`ingested_at` None: each file's records carry the moment it is read."""
        self._config = config
        self._ingested_at = ingested_at
        self._file_ingested_at = ingested_at
        self._records_read = Metrics.counter(METRICS_NAMESPACE, "records_read")
        self._abandoned_extractions = Metrics.counter(METRICS_NAMESPACE, "read.html.abandoned_extractions")
        self._warc_protocol_records = Metrics.counter(METRICS_NAMESPACE, "read.warc.protocol_records")

    def setup(self) -> None:
        load_html_extractor()

    def process(self, readable_file: fileio.ReadableFile) -> Iterator[Output]:
        self._file_ingested_at = self._ingested_at or dt.datetime.now(UTC).replace(microsecond=0)
        for output in self._records(readable_file):
            # A captured page handed on for extraction is counted where it becomes a record.
            if not (isinstance(output, beam.pvalue.TaggedOutput) and output.tag == CAPTURED_PAGE_TAG):
                self._records_read.inc()
            yield output

    def _records(self, readable_file: fileio.ReadableFile) -> Iterator[Output]:
        # A web archive, a tar or a table under a name that does not say so (a crawler's
        # `.warc.gz.open`, `CC-NEWS-20240501.gz`, an export `.dat`) would otherwise be read whole
        # as one text, headers and markup and all.
        file_format = format_from_extension(readable_file.metadata.path) or _sniffed_stream_format(readable_file)
        if file_format == "jsonl":
            yield from self._stream_jsonl(readable_file)
        elif file_format == "warc":
            yield from self._stream_warc(readable_file)
        elif file_format == "csv":
            yield from self._stream_csv(readable_file)
        elif file_format in ARCHIVE_FORMATS:
            yield from self._archive_members(readable_file, file_format)
        else:
            yield from self._whole_file(readable_file, file_format)

    def _whole_file(self, readable_file: fileio.ReadableFile, file_format: Optional[str]) -> Iterator[Output]:
        """The records of a file read whole, within max_file_bytes."""
        path = readable_file.metadata.path
        try:
            data = self._read_whole(readable_file)
        except _FileRefused as refused:
            if refused.reason == "file_too_large" and (file_format == "json" or file_format is None and _opens_as_json(readable_file)):
                # Too big to hold, but a list of records (an export, an API dump) is streamed.
                yield from self._stream_json(readable_file, refused)
                return
            yield self._refusal("file", refused, path, refused.raw, refused.raw_size)
            return
        yield from self._whole_file_records(path, data, file_format)

    def _whole_file_records(
        self, path: str, data: bytes, file_format: Optional[str], spread_pages: bool = False
    ) -> Iterator[Output]:
        """The records of a file read whole (`data`, decompressed): one, or one per item or line.
        `spread_pages`: an HTML page goes to extraction on another worker (archive members)."""
        try:
            decoded = decode_bytes(data, honour_declaration=file_format != "text")
        except RefusedInput as refused:
            yield self._refusal("file", refused, path, data)
            return
        self._count_encoding(decoded)

        if file_format == "text":
            file_format = markup_document_format(decoded.text[:SNIFF_BYTES]) or "text"
        file_format = file_format or sniff_format(decoded.text[:SNIFF_BYTES], path)
        if file_format == "text":
            window = self._config.text_date_window
            yield self._one_record("text", path, decoded.text, lambda: parse_plain_text(decoded.text, window))
        elif file_format == "html" and spread_pages:
            yield self._page_to_spread("html", path, path, "", decoded.text)
        elif file_format == "html":
            yield self._one_record("html", path, decoded.text, lambda: self._extract_html(decoded.text))
        elif file_format == "json":
            yield from self._json_document(path, decoded.text)
        elif file_format == "feed":
            yield from self._feed_document(path, data, decoded.text)
        elif file_format == "csv":
            # an archive member, read whole: the same rows as a streamed file's
            yield from self._csv_rows(path, data[:SNIFF_BYTES], decoded.encoding, lambda: contextlib.nullcontext(io.BytesIO(data)))
        elif file_format in ("nitf", "newsml", "rcv1"):
            yield from self._news_xml_document(file_format, path, data, decoded.text)
        elif file_format == "xml":
            root = xml_root_name(decoded.text)
            detail = f"an XML document (root element <{root or '?'}>) that is neither an RSS/Atom/RDF feed nor an HTML page"
            if (root or "").lower() == "opml":
                detail += "; a subscription list is read with --opml or feeds.opml, which read the feeds it lists"
            elif (root or "").rsplit(":", 1)[-1] in ("packageItem", "conceptItem", "planningItem", "catalog"):
                detail += "; a NewsML-G2 package, concept, planning item or catalog refers to stories but holds none"
            refused = RefusedInput("unsupported_format", detail)
            yield self._refusal("file", refused, path, decoded.text)
        else:
            yield from self._jsonl_lines(path, _numbered_lines(decoded.text))

    def _read_whole(self, readable_file: fileio.ReadableFile) -> bytes:
        """The file's bytes, decompressed, within max_file_bytes, or _FileRefused."""
        limit = self._config.max_file_bytes
        path = readable_file.metadata.path
        size = readable_file.metadata.size_in_bytes
        if size and size > limit:
            raise _FileRefused(
                "file_too_large",
                f"{size} bytes, over the limit of {limit} bytes (max_file_bytes)",
                _raw_head(readable_file),
                size,
            )
        try:
            with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as stream:
                data = stream.read(limit + 1)
        except OSError as error:
            raise _FileRefused("unreadable_file", f"cannot read the file: {error}") from error
        if _compression_of(path, data):
            try:
                return _decompressed(path, data, limit)
            except RefusedInput as refused:
                raise _FileRefused(refused.reason, refused.detail, data, len(data)) from refused
        if len(data) > limit:
            raise _FileRefused(
                "file_too_large",
                f"more than the limit of {limit} bytes (max_file_bytes)",
                data[:SNIFF_BYTES],
                size or len(data),
            )
        return data

    def _one_record(self, kind: str, path: str, raw: str, parse: Callable[[], ParsedRecord]) -> Output:
        try:
            record = parse()
        except RefusedInput as refused:
            return self._refusal(kind, refused, path, raw)
        return self._article(kind, path, path, record, identity_position="")

    def _extract_html(self, html: Union[str, bytes], url: Optional[str] = None) -> ParsedRecord:
        if isinstance(html, str):
            # lxml refuses str input with an XML encoding declaration and re-encodes
            # it as UTF-8 bytes, which it would then read in the declared encoding.
            html = _XML_DECLARATION.sub("", html)
        try:
            return run_with_time_limit(
                extract_html_article,
                self._config.extract_timeout_s,
                html,
                url=url,
                min_words=self._config.html_min_words,
                text_date_window=self._config.text_date_window,
                extensive_date_search=self._config.html_extensive_date_search,
            )
        except RefusedInput as refused:
            if refused.reason == "extraction_timeout":
                self._abandoned_extractions.inc()
            raise

    # --- zip and tar archives, web archives ------------------------------

    def _archive_members(self, readable_file: fileio.ReadableFile, kind: str) -> Iterator[Output]:
        """A zip or tar file: each regular member read as the file it would be unpacked (`path!/member`)."""
        path = readable_file.metadata.path
        members = 0
        try:
            with contextlib.ExitStack() as cleanup:
                if kind == "zip":
                    stream = cleanup.enter_context(readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED))
                    listing = archive_members_of_zip(cleanup.enter_context(zipfile.ZipFile(stream)))
                else:
                    stream = cleanup.enter_context(_open_decompressed(readable_file))
                    listing = archive_members_of_tar(cleanup.enter_context(tarfile.open(fileobj=stream, mode="r|")))
                for member in listing:
                    members += 1
                    # A zip member is read on its own (the central directory says where), so one
                    # that breaks is refused alone; a tar is one stream, which ends where it breaks.
                    yield from self._archive_member(path, member, stands_alone=kind == "zip")
        except (*ARCHIVE_ERRORS, *_STREAM_ERRORS) as error:
            where = f" after {members} members" if members else ""
            if isinstance(error, OSError) and error.errno is not None:
                refused = RefusedInput("unreadable_file", f"cannot read the file{where}: {error}")
            else:
                refused = RefusedInput("corrupt_archive", f"the {kind} archive cannot be read{where}: {_archive_error_text(error)}")
            yield self._refusal("file", refused, path, _raw_head(readable_file) if not members else None)
            return
        if not members:
            yield self._refusal("file", RefusedInput("empty_file", f"a {kind} archive with no file in it"), path, None)

    def _archive_member(self, archive_path: str, member: ArchiveMember, stands_alone: bool) -> Iterator[Output]:
        path = f"{archive_path}!/{member.name}"
        file_format = format_from_extension(member.name)
        if file_format in ARCHIVE_FORMATS or file_format == "warc":
            detail = f"a {file_format} file inside an archive: unpack the archive and read it from there"
            yield self._refusal("file", RefusedInput("unsupported_format", detail), path, None)
            return
        if member.unreadable is not None:
            yield self._refusal("file", member.unreadable, path, None)
            return
        limit = self._config.max_file_bytes
        try:
            data = member.read(limit + 1)
        except (*ARCHIVE_ERRORS, *_STREAM_ERRORS, NotImplementedError, RuntimeError) as error:
            if not stands_alone:
                raise
            refused = RefusedInput("corrupt_archive", f"the member cannot be read: {_archive_error_text(error)}")
            yield self._refusal("file", refused, path, None)
            return
        if len(data) > limit:
            detail = f"{member.size} bytes, over the limit of {limit} bytes (max_file_bytes)"
            yield self._refusal("file", RefusedInput("file_too_large", detail), path, data[:SNIFF_BYTES], member.size)
            return
        try:
            data = _decompressed(member.name, data, limit)
        except RefusedInput as refused:
            yield self._refusal("file", refused, path, data)
            return
        yield from self._whole_file_records(path, data, file_format, spread_pages=True)

    def _stream_warc(self, readable_file: fileio.ReadableFile) -> Iterator[Output]:
        """A WARC or ARC file, streamed capture by capture (`transforms.warc_records`)."""
        path = readable_file.metadata.path
        tally = WarcTally()
        captures = 0
        # warcio reads gzip itself, member by member (so offsets are those of the stored file);
        # other compressions are undone first, and offsets are then into the uncompressed archive.
        codec = split_compression(path)[1]
        with contextlib.ExitStack() as cleanup:
            try:
                # Entered here, so that a file that cannot be opened (or a decompressor that
                # fails on its first bytes) is a dead letter, not an error of the run.
                stream = cleanup.enter_context(
                    readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED)
                    if codec in (None, "gzip")
                    else _open_decompressed(readable_file)
                )
            except _STREAM_ERRORS as error:
                yield self._refusal("file", _stream_error(error, codec), path, None)
                return
            for capture in warc_captures(stream, self._config.max_file_bytes, tally):
                captures += 1
                if isinstance(capture, WarcBroken):  # the rest of the file, or one damaged record
                    yield self._refusal("warc", capture.refused, f"{path}@{capture.offset}", None)
                    continue
                if capture.refused is not None:
                    yield self._warc_refusal(path, capture)
                else:
                    yield self._page_to_spread(
                        "warc", path, f"{path}@{capture.offset}", f"@{capture.offset}", capture.body,
                        capture.content_type, capture.url, capture.captured_at,
                    )
        self._warc_protocol_records.inc(tally.protocol_records)
        if not captures:
            detail = f"an archive with no response or resource record ({tally.protocol_records} protocol records)"
            if tally.conversions:
                detail += (
                    f"; its {tally.conversions} conversion records look like a WET file, whose page text keeps"
                    " menus and footers: read the WARC it was made from"
                )
            yield self._refusal("warc", RefusedInput("empty_file", detail), path, None)

    def _warc_refusal(self, path: str, capture: WarcCapture) -> Output:
        raw = capture.header_text + capture.body.decode("utf-8", errors="replace")
        return self._refusal("warc", capture.refused, f"{path}@{capture.offset}", raw)

    def _page_to_spread(
        self,
        kind: str,
        path: str,
        source_ref: str,
        position: str,
        body: Union[str, bytes],
        content_type: str = "",
        url: Optional[str] = None,
        captured_at: Optional[dt.datetime] = None,
    ) -> beam.pvalue.TaggedOutput:
        # Extraction is the slow part, and one archive holds thousands of pages: they are
        # spread over the workers (ReadFileDumps) instead of extracted where the file was opened.
        page = CapturedPage(kind, path, source_ref, position, body, content_type, url, captured_at, self._file_ingested_at)
        return beam.pvalue.TaggedOutput(CAPTURED_PAGE_TAG, page)

    def _extracted_page(self, page: "CapturedPage") -> Output:
        html = decode_page(page.body, page.content_type) if isinstance(page.body, bytes) else page.body
        try:
            record = self._extract_html(html, page.url)
        except RefusedInput as refused:
            raw = html if isinstance(html, str) else html.decode("utf-8", errors="replace")
            return self._refusal(page.kind, refused, page.source_ref, raw)
        if record.published_at is None and record.date_source != "invalid_record_date" and page.captured_at:
            record = dataclasses.replace(record, published_at=page.captured_at, date_source="fetch_time")
        return self._article(page.kind, page.path, page.source_ref, record, identity_position=page.position)

    # --- JSON -------------------------------------------------------------

    def _json_document(self, path: str, text: str) -> Iterator[Output]:
        """A `.json` file (or a `.jsonl` one that is pretty-printed): one object, an array of
        objects, JSONL under a .json name, or pretty-printed values one after another (`jq .`)."""
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            first_line = next((line for _, line in _numbered_lines(text) if line.strip()), "")
            if _is_json_object(first_line):
                yield from self._jsonl_lines(path, _numbered_lines(text))
            elif isinstance(error, json.JSONDecodeError) and error.msg == "Extra data":
                yield from self._json_values(path, text)
            else:
                yield self._refusal("jsonl", RefusedInput("invalid_json", f"not valid JSON: {error}"), path, text)
            return
        if is_json_feed(value):
            yield from self._feed_records(path, text, lambda: json_feed(value, url=path))
            return
        if not isinstance(value, list):
            yield from self._document_records(path, path, "", value, text)
            return
        if not value:
            yield self._refusal("jsonl", RefusedInput("empty_file", "the file holds an empty JSON array"), path, text)
        for index, element in enumerate(value):
            yield self._json_record(path, f"[{index}]", element, raw=json.dumps(element, ensure_ascii=False))

    def _json_values(self, path: str, text: str) -> Iterator[Output]:
        """JSON values one after another (`jq .` output: pretty-printed objects, or arrays of
        them), each object a record `path[N]` counted across them all; where the text stops
        being JSON, one invalid_json dead letter for the rest."""
        decoder = json.JSONDecoder()
        index = position = 0
        while (position := _after_whitespace(text, position)) < len(text):
            try:
                value, position_after = decoder.raw_decode(text, position)
            except (json.JSONDecodeError, RecursionError) as error:
                line = text.count("\n", 0, position) + 1
                detail = f"not valid JSON from line {line} on: {error}; the rest of the file is not read"
                yield self._refusal("jsonl", RefusedInput("invalid_json", detail), f"{path}[{index}]", text[position:])
                return
            for element in value if isinstance(value, list) else [value]:
                # each value as a JSONL line's: an API answer kept whole gives its articles
                raw = json.dumps(element, ensure_ascii=False)
                yield from self._document_records(path, f"{path}[{index}]", f"[{index}]", element, raw)
                index += 1
            position = position_after

    def _stream_json(self, readable_file: fileio.ReadableFile, too_large: _FileRefused) -> Iterator[Output]:
        """A `.json` file (or pretty-printed `.jsonl`) over max_file_bytes, streamed with ijson
        into the records a whole read would give, numbered alike: the elements of a top-level
        array (`path[N]`), the list of an API answer or search response (`path[articles][N]`,
        `path[hits][hits][N]`, see `dump_parsing.document_records`), or values one after
        another (`jq .` output, `path[N]`). One record is held at a time; each is limited to
        max_record_bytes. Where the text stops being JSON, one invalid_json for the rest.
        A JSON Feed or one object this big stays `too_large` (file_too_large)."""
        path = readable_file.metadata.path
        opened = self._decoded_stream_head(readable_file)
        if not isinstance(opened, tuple):
            yield opened
            return
        head, decoded_head = opened
        with contextlib.ExitStack() as cleanup:
            try:
                layout = _json_records_prefix(ijson.parse(_utf8_json(cleanup, readable_file, head, decoded_head.encoding), multiple_values=True))
            except (ijson.JSONError, *_STREAM_ERRORS):
                layout = None  # not JSON from the start: said below, as a whole read says it
        if layout is None:
            detail = f"{too_large.detail}; and it holds no list of records to read one by one"
            yield self._refusal("file", RefusedInput(too_large.reason, detail), path, too_large.raw, too_large.raw_size)
            return
        prefix, position_of = layout
        index = 0
        with contextlib.ExitStack() as cleanup:
            try:
                values = ijson.items(
                    _utf8_json(cleanup, readable_file, head, decoded_head.encoding), prefix, multiple_values=True, use_float=True
                )
                for value in values:
                    elements = value if prefix == "" and isinstance(value, list) else [value]
                    for element in elements:
                        raw = json.dumps(element, ensure_ascii=False)
                        position = position_of(index)
                        source_ref = f"{path}{position}"
                        index += 1
                        if too_big := self._over_record_limit("a record", raw, "jsonl", source_ref):
                            yield too_big
                        elif prefix == "":  # a value of its own, as a JSONL line: an API answer gives its articles
                            yield from self._document_records(path, source_ref, position, element, raw)
                        else:
                            yield self._jsonl_record(path, source_ref, position, element, raw)
            except ijson.JSONError as error:
                detail = f"not valid JSON after {index} record(s): {error_message(error)}; the rest of the file is not read"
                yield self._refusal("jsonl", RefusedInput("invalid_json", detail), f"{path}{position_of(index)}", None)
                return
            except _STREAM_ERRORS as error:
                refused = _broken_mid_stream(error, path, f"the records from {position_of(index)} on")
                yield self._refusal("jsonl", refused, f"{path}{position_of(index)}", None)
                return
        if index == 0:
            yield self._refusal("jsonl", RefusedInput("empty_file", f"its {prefix or 'values'} hold no record"), path, None)

    def _json_record(self, path: str, position: str, value: object, raw: str) -> Output:
        return self._jsonl_record(path, f"{path}{position}", position, value, raw)

    def _stream_jsonl(self, readable_file: fileio.ReadableFile) -> Iterator[Output]:
        """A JSONL file, streamed line by line (no file size limit)."""
        path = readable_file.metadata.path
        try:
            head = _streamed_text_head(readable_file)
        except _FileRefused as refused:
            yield self._refusal("file", refused, path, refused.raw, refused.raw_size)
            return
        if _opens_a_pretty_printed_value(head):
            # Pretty-printed JSON under a .jsonl name: line by line, every line would be a
            # broken record; it is read whole, as a .json file is (within max_file_bytes).
            yield from self._whole_file(readable_file, "json")
            return
        decoder = line_decoder_for(head)
        limit = self._config.max_record_bytes
        with contextlib.ExitStack() as cleanup:
            try:
                stream = cleanup.enter_context(_open_decompressed(readable_file))
            except _STREAM_ERRORS as error:
                yield self._refusal("file", _stream_error(error, _compression_of(path, _raw_head(readable_file) or b"")), path, None)
                return
            lines = (
                _wide_lines(stream, decoder.stream_encoding, limit)
                if decoder.stream_encoding
                else _byte_lines(stream, decoder, limit)
            )
            yield from self._jsonl_lines(path, lines)

    def _jsonl_lines(self, path: str, lines: Iterable[tuple[int, Union[str, _LongLine]]]) -> Iterator[Output]:
        """Records of JSONL lines; a file with no non-blank line is one empty_file dead letter.

        A read error part-way (a truncated gzip) ends the file with one dead
        letter for everything from the line it broke in.
        """
        records = blank = last_line = 0
        try:
            for line_no, line in lines:
                last_line = line_no
                if isinstance(line, _LongLine):
                    records += 1
                    refused = RefusedInput(
                        "record_too_large",
                        f"line of {line.size} bytes, over the limit of {self._config.max_record_bytes} "
                        "bytes (max_record_bytes)",
                    )
                    yield self._refusal("jsonl", refused, f"{path}:{line_no}", line.head, line.size)
                elif line.strip():
                    records += 1
                    yield from self._jsonl_line(path, line_no, line)
                else:
                    blank += 1
        except _STREAM_ERRORS as error:
            refused = _broken_mid_stream(error, path, f"line {last_line + 1} and after")
            yield self._refusal("jsonl", refused, f"{path}:{last_line + 1}", None)
            return
        if records == 0:
            yield self._refusal("jsonl", RefusedInput("empty_file", f"no JSON lines ({blank} blank)"), path, None)

    def _jsonl_line(self, path: str, line_no: int, line: str) -> Iterator[Output]:
        """A line's record, or the records of an API answer kept one per line (a poller's log)."""
        source_ref = f"{path}:{line_no}"
        try:
            value = parse_json_line(line)
        except RefusedInput as refused:
            yield self._refusal("jsonl", refused, source_ref, line)
            return
        yield from self._document_records(path, source_ref, f"#{line_no}", value, line)

    def _document_records(self, path: str, source_ref: str, position: str, value: object, raw: str) -> Iterator[Output]:
        """The record a JSON value is, or the records of the API answer or search response it wraps
        (`dump_parsing.document_records`; a ninjs item is never an envelope)."""
        wrapped = None if isinstance(value, dict) and is_ninjs(value) else document_records(value)
        if wrapped is None:
            yield self._jsonl_record(path, source_ref, position, value, raw)
            return
        prefix, elements = wrapped
        if not elements:
            yield self._refusal("jsonl", RefusedInput("empty_file", f"its {prefix} list holds no record"), source_ref, raw)
        for index, element in enumerate(elements):
            at = f"{prefix}[{index}]"
            yield self._jsonl_record(path, source_ref + at, position + at, element, json.dumps(element, ensure_ascii=False))

    def _jsonl_record(self, path: str, source_ref: str, position: str, value: object, raw: str, kind: str = "jsonl") -> Output:
        try:
            record = parse_news_json(require_object(value), self._config.text_date_window)
        except RefusedInput as refused:
            return self._refusal(kind, refused, source_ref, raw)
        return self._article(kind, path, source_ref, record, identity_position=position)

    # --- CSV / TSV --------------------------------------------------------

    def _stream_csv(self, readable_file: fileio.ReadableFile) -> Iterator[Output]:
        """A CSV or TSV file with a header row, streamed row by row (no file size limit): each row
        a record whose fields are its columns, named as JSONL fields are ("All the News":
        title, publication, date, content). `source_ref` is `path:LINE`, the line the row starts on."""
        opened = self._decoded_stream_head(readable_file)
        if not isinstance(opened, tuple):
            yield opened
            return
        head, decoded_head = opened
        yield from self._csv_rows(readable_file.metadata.path, head, decoded_head.encoding, lambda: _open_decompressed(readable_file))

    def _decoded_stream_head(self, readable_file: fileio.ReadableFile) -> Union[Output, tuple[bytes, Decoded]]:
        """(the first bytes, their decoding) of a file streamed as decoded text (CSV, big JSON),
        or the dead letter refusing the file. The encoding is counted as for a file read whole;
        replaced bytes only as far as the head."""
        path = readable_file.metadata.path
        try:
            head = _streamed_text_head(readable_file)
            decoded_head = decode_bytes(head, honour_declaration=False)
        except _FileRefused as refused:
            return self._refusal("file", refused, path, refused.raw, refused.raw_size)
        except RefusedInput as refused:
            return self._refusal("file", refused, path, head)
        self._count_encoding(decoded_head)
        return head, decoded_head

    def _csv_rows(self, path: str, head: bytes, encoding: str, open_stream: Callable[[], ContextManager[IO[bytes]]]) -> Iterator[Output]:
        """The records of a CSV/TSV stream, whose first bytes are `head` (see `_stream_csv`)."""
        delimiter = "\t" if dump_name(path).lower().endswith(".tsv") else csv_delimiter(head.decode(encoding, errors="replace"))
        header: Optional[list[str]] = None
        records = 0
        line = 1
        with contextlib.ExitStack() as cleanup:
            try:
                stream = cleanup.enter_context(open_stream())
                # utf-8-sig: a spreadsheet's byte order mark is not part of the first column's name
                text = io.TextIOWrapper(stream, encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors="replace", newline="")
                _limit_csv_fields(self._config.max_record_bytes)
                for line, row in _csv_parsed_rows(text, delimiter, lambda: len(header) if header else None):
                    if isinstance(row, csv.Error):
                        records += 1
                        yield self._refusal("csv", _csv_refusal(row, self._config.max_record_bytes), f"{path}:{line}", None)
                        continue
                    if isinstance(row, _StrayQuote):
                        records += 1
                        detail = (f"a quote on this line opens a field that runs on over {row.lines} lines "
                                  f"(a stray quote?); the line is left out and the {row.lines - 1} after it are read as rows")
                        yield self._refusal("csv", RefusedInput("invalid_csv", detail), f"{path}:{line}", row.first_line)
                        continue
                    if not any(cell.strip() for cell in row):
                        continue
                    if header is None:
                        header = [field_name_of_column(name) for name in row]
                        continue
                    records += 1
                    yield self._csv_row(path, line, header, row, delimiter)
            except _STREAM_ERRORS as error:
                refused = _broken_mid_stream(error, path, f"the row on line {line} and after")
                yield self._refusal("csv", refused, f"{path}:{line}", None)
                return
        if records == 0:
            detail = "no row under its header" if header else "no header and no row"
            yield self._refusal("csv", RefusedInput("empty_file", detail), path, None)

    def _over_record_limit(self, what: str, raw: str, kind: str, source_ref: str) -> Optional[Output]:
        """The record_too_large dead letter of a record (`what`: "a row") whose text `raw` is
        over max_record_bytes, else None."""
        size = len(raw.encode("utf-8", errors="replace"))
        if size <= self._config.max_record_bytes:
            return None
        detail = f"{what} of {size} bytes, over the limit of {self._config.max_record_bytes} bytes (max_record_bytes)"
        return self._refusal(kind, RefusedInput("record_too_large", detail), source_ref, raw, size)

    def _csv_row(self, path: str, line: int, header: list[str], row: list[str], delimiter: str) -> Output:
        source_ref = f"{path}:{line}"
        raw = delimiter.join(row)
        if too_big := self._over_record_limit("a row", raw, "csv", source_ref):
            return too_big
        if len(row) > len(header):
            detail = f"a row of {len(row)} fields under a header of {len(header)} (a stray quote or delimiter?)"
            return self._refusal("csv", RefusedInput("invalid_csv", detail), source_ref, raw)
        # Fewer fields: trailing empty cells left out, as spreadsheets and hand-made files do.
        # An empty cell is a missing value, as an absent JSON field is; unnamed columns (a
        # spreadsheet's row index) are not fields.
        value = {name: cell for name, cell in zip(header, row) if name and cell.strip()}
        return self._jsonl_record(path, source_ref, f":{line}", value, raw, kind="csv")

    # --- saved feeds ------------------------------------------------------

    def _feed_document(self, path: str, data: bytes, text: str) -> Iterator[Output]:
        """A saved RSS/Atom/RDF feed or JSON Feed: one record per item, plus one for a flaw, as the poller counts them.

        feedparser reads the bytes, not the decoded text, so the document's
        own declaration and BOM decide its encoding, as they do for a polled
        feed.
        """
        yield from self._feed_records(
            path, text, lambda: parse_feed(data, url=path, max_expansion_bytes=self._config.max_file_bytes)
        )

    def _feed_records(self, path: str, text: str, parse: Callable[[], ParsedFeed]) -> Iterator[Output]:
        """The records of the feed `parse` gives: one per item, plus one for a flaw, or one refusal."""
        try:
            feed = parse()
        except FeedRejected as rejected:
            yield self._refusal("feed", RefusedInput(rejected.reason, rejected.detail), path, text)
            return
        if feed.problem is not None:
            # The items are kept; the flaw is its own record, so the file's dead letters show it.
            yield self._refusal("feed", RefusedInput(feed.problem.reason, feed.problem.detail), path, text)
        elif not feed.entries:
            yield self._refusal("feed", RefusedInput("empty_file", f"a {feed.format or 'feed'} document with no items"), path, text)
        for index, entry in enumerate(feed.entries):
            position = f"[{index}]"
            try:
                record = record_from_entry(entry, feed, self._config.text_date_window)
            except RefusedInput as refused:
                raw = json.dumps({"guid": entry.guid, "link": entry.link, "title": entry.title}, ensure_ascii=False)
                yield self._refusal("feed", refused, f"{path}{position}", raw)
                continue
            yield self._article("feed", path, f"{path}{position}", record, identity_position=position)

    def _news_xml_document(self, kind: str, path: str, data: bytes, text: str) -> Iterator[Output]:
        """A NITF document (one record) or a NewsML-G2 item or message (one record per news item).

        lxml reads the bytes, so the document's own declaration decides its encoding.
        """
        try:
            results = list(parse_news_xml(data, self._config.text_date_window, self._config.max_file_bytes))
        except RefusedInput as refused:
            yield self._refusal(kind, refused, path, text)
            return
        for index, result in enumerate(results):
            position = f"[{index}]" if kind == "newsml" else ""
            if isinstance(result, RefusedInput):
                yield self._refusal(kind, result, f"{path}{position}", text)
            else:
                yield self._article(kind, path, f"{path}{position}", result, identity_position=position)

    # --- outputs ----------------------------------------------------------

    def _article(self, kind: str, path: str, source_ref: str, record: ParsedRecord, identity_position: str) -> Article:
        outlet = record.outlet or (folder_name(path) if self._config.outlet_from_folder else None)
        identity = record_identity(record.url, record.record_id, dump_name(path), identity_position)
        return Article(
            article_id=make_article_id(identity, record.text),
            url=record.url,
            outlet=outlet,
            title=record.title,
            text=record.text,
            published_at=record.published_at,
            language=record.language,
            source_kind=kind,
            source_ref=source_ref,
            ingested_at=self._file_ingested_at,
            date_source=record.date_source,
            content_source=_CONTENT_SOURCE.get(kind, "file"),
        )

    @staticmethod
    def _refusal(
        kind: str,
        refused: RefusedInput,
        source_ref: str,
        raw: Union[str, bytes, None],
        raw_size: Optional[int] = None,
    ) -> beam.pvalue.TaggedOutput:
        output = dead_letter_output(f"{STEP}.{kind}", refused.reason, refused.detail, source_ref, raw)
        if raw_size is None:
            return output
        return beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, dataclasses.replace(output.value, raw_size=raw_size))

    @staticmethod
    def _count_encoding(decoded: Decoded) -> None:
        if decoded.encoding != "utf-8":
            Metrics.counter(METRICS_NAMESPACE, f"read.encoding.{decoded.encoding}").inc()
        if decoded.replaced:
            Metrics.counter(METRICS_NAMESPACE, "read.replacement_chars").inc(decoded.replaced)


# More `**/` than this in one pattern are left to Beam's own reading (2 ** n variants).
_MAX_GLOBSTAR_SLASHES = 4


def globstar_variants(pattern: str) -> list[str]:
    """The Beam patterns that together match what `pattern` means to a shell's globstar.

    In Beam's globs `**` is any characters, so `dumps/**/*.jsonl` needs at least one
    folder between `dumps/` and the file and skipped the files directly in `dumps/`,
    which bash (globstar), Python's glob and most users count in. Each `**/` may
    therefore also stand for no folder at all: the pattern with it and without it.
    """
    parts = pattern.split("**/")
    if len(parts) == 1 or len(parts) - 1 > _MAX_GLOBSTAR_SLASHES:
        return [pattern]
    variants = []
    for kept in itertools.product((True, False), repeat=len(parts) - 1):
        variant = parts[0]
        for keep, part in zip(kept, parts[1:]):
            variant += ("**/" if keep else "") + part
        if variant and variant not in variants:
            variants.append(variant)
    return variants


def match_pattern(pattern: str) -> list[FileMetadata]:
    """The files one --input pattern matches (globstar rule above), each once, by path."""
    from apache_beam.io.filesystems import FileSystems

    by_path: dict[str, FileMetadata] = {}
    for result in FileSystems.match(globstar_variants(pattern)):
        for metadata in result.metadata_list:
            by_path.setdefault(metadata.path, metadata)
    return [by_path[path] for path in sorted(by_path)]


_TAR_MAGIC_AT = 257  # "ustar" in the first header block, POSIX and GNU tars alike


# ijson's prefixes of the lists an API answer or search response keeps its records in, in
# `dump_parsing.document_records`' order of preference (one level down too).
_ENVELOPE_PREFIXES = ("hits.hits", *ENVELOPE_FIELDS, *(f"{outer}.{inner}" for outer in ENVELOPE_FIELDS for inner in ENVELOPE_FIELDS))


def _json_records_prefix(events: Iterator[tuple[str, str, object]]) -> Optional[tuple[str, Callable[[int], str]]]:
    """(ijson prefix of the records, the position of record N) from the parse events of a JSON
    text: a top-level array's items; the first value's envelope list; "" for values one after
    another. None for a JSON Feed, and for one object alone that is no envelope (one record
    this big is too large)."""
    lists: list[str] = []
    has_text = False
    for prefix, event, value in events:
        if prefix == "" and event == "start_array":
            return "item", lambda index: f"[{index}]"
        if prefix == "" and event == "map_key" and value in TEXT_FIELDS:
            has_text = True  # a record with text of its own, not an envelope
        if prefix == "version" and event == "string" and str(value).startswith(JSON_FEED_VERSION_PREFIX):
            return None
        if event == "start_array" and prefix in _ENVELOPE_PREFIXES:
            lists.append(prefix)
        if prefix == "" and event == "end_map":
            break
    if lists and not has_text:
        chosen = min(lists, key=_ENVELOPE_PREFIXES.index)
        brackets = "".join(f"[{name}]" for name in chosen.split("."))
        return f"{chosen}.item", lambda index: f"{brackets}[{index}]"
    if next(events, None) is not None:  # another value follows: values one after another
        return "", lambda index: f"[{index}]"
    return None


def _utf8_json(cleanup: contextlib.ExitStack, readable_file: fileio.ReadableFile, head: bytes, encoding: str) -> IO[bytes]:
    """The file, decompressed, as the UTF-8 bytes ijson reads: a byte-order mark dropped, and
    bytes that do not decode replaced, as a whole read replaces them (ijson would stop there)."""
    stream = cleanup.enter_context(_open_decompressed(readable_file))
    bom = next((name for mark, name in BYTE_ORDER_MARKS if head.startswith(mark)), None)
    with_bom = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-32-le": "utf-32", "utf-32-be": "utf-32"}
    return io.BufferedReader(_TranscodedToUtf8(stream, with_bom[bom] if bom else encoding))


class _TranscodedToUtf8(io.RawIOBase):
    """A byte stream in `encoding`, read as UTF-8, bytes that do not decode replaced.
    codecs.EncodedFile will not do: ijson reads with readinto, which
    EncodedFile hands to the stream underneath, untranscoded."""

    def __init__(self, stream: IO[bytes], encoding: str):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._stream.read(1 << 16)
            self._pending = self._decoder.decode(chunk, final=not chunk).encode("utf-8")
            if not chunk:
                break
        taken = self._pending[: len(buffer)]
        buffer[: len(taken)] = taken
        self._pending = self._pending[len(taken) :]
        return len(taken)


def _sniffed_stream_format(readable_file: fileio.ReadableFile) -> Optional[str]:
    """"warc", "tar" or "csv" from the first bytes of a file whose name gives no format, else
    None (the file is then read whole and sniffed as text). These three are streamed, so they are
    told before a whole read, which would refuse a big one as file_too_large.

    Not zip: office documents, e-books and Java archives are zips too, and a file of theirs is
    a binary_file, not an archive of articles."""
    try:
        with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            raw = stream.read(SNIFF_BYTES)
    except OSError:
        return None  # the usual path reads it again and says why it cannot
    codec = _compression_of(readable_file.metadata.path, raw)
    head = raw
    if codec:
        try:
            with decompressing_reader(io.BytesIO(raw), codec) as decompressed:
                head = _read_head(decompressed)
        except _STREAM_ERRORS:
            return None
    if warc_kind(head):
        return "warc"
    if head[_TAR_MAGIC_AT : _TAR_MAGIC_AT + 5] == b"ustar":
        return "tar"
    if looks_like_csv_table(head.decode("utf-8", errors="replace")):
        return "csv"
    return None


_JSON_OPENING = re.compile(rb'^(?:\xef\xbb\xbf)?\s*(?:\[\s*)?\{\s*"')


def _opens_as_json(readable_file: fileio.ReadableFile) -> bool:
    """Whether a file whose name gives no format opens as JSON objects do (`{"` or `[{"`, after a
    byte order mark and white space): told from its head, without reading it whole."""
    try:
        head = _streamed_text_head(readable_file)
    except _FileRefused:
        return False
    return bool(_JSON_OPENING.match(head))


def _streamed_text_head(readable_file: fileio.ReadableFile) -> bytes:
    """The first SNIFF_BYTES (decompressed) of a file read as a stream of text, or _FileRefused
    when nothing of it can be read, or it is binary."""
    path = readable_file.metadata.path
    try:
        with _open_decompressed(readable_file) as stream:
            head = _read_head(stream)
    except _STREAM_ERRORS as error:
        # Nothing of it could be read as text: the dead letter keeps the file's own first bytes.
        raw, size = _raw_head(readable_file), readable_file.metadata.size_in_bytes
        refused = _stream_error(error, _compression_of(path, raw or b""))
        raise _FileRefused(refused.reason, refused.detail, raw, size if raw is not None else None) from error
    binary = binary_signature(head)
    if binary:
        raise _FileRefused("binary_file", f"not text: {binary}", head)
    return head


def _raw_head(readable_file: fileio.ReadableFile) -> Optional[bytes]:
    """The first bytes of a refused file as stored (compressed or not), for its dead letter."""
    try:
        with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            return stream.read(DEAD_LETTER_RAW_CHARS)
    except OSError:
        return None


def _path_and_match(match: FileMetadata) -> tuple[str, FileMetadata]:
    return match.path, match


def _one_match(path_and_matches: tuple[str, Iterable[FileMetadata]]) -> FileMetadata:
    return next(iter(path_and_matches[1]))


class CapturedPage(NamedTuple):
    """A page of an archive (a WARC capture, an HTML member of a zip or tar) on its way to
    extraction, with what its Article needs."""

    kind: str  # source_kind: "warc" or "html"
    path: str
    source_ref: str
    position: str  # identity position within the file, for make_article_id
    body: Union[str, bytes]
    content_type: str
    url: Optional[str]
    captured_at: Optional[dt.datetime]
    ingested_at: dt.datetime


class ExtractCapturedPageFn(ParseDumpFileFn):
    """A captured page (`CapturedPage`) -> its Article or dead letter, as ParseDumpFileFn makes them."""

    def process(self, page: CapturedPage) -> Iterator[Output]:  # type: ignore[override]
        self._file_ingested_at = page.ingested_at
        self._records_read.inc()
        yield self._extracted_page(page)


class ReadFileDumps(beam.PTransform):
    """Glob patterns -> (articles, dead_letters), one output per record (see module doc)."""

    def __init__(
        self,
        patterns: list[str],
        config: Optional[ReadConfig] = None,
        ingested_at: Optional[dt.datetime] = None,
        watch=None,
    ):
        """`watch` (a `WatchConfig`): unbounded, the patterns are watched for new
        files (`transforms.watch_folders.WatchFolders`) instead of listed once,
        and each file's records carry the time it was read (`ingested_at` is
        then ignored: a run that lasts days must not date its reads at launch)."""
        super().__init__()
        if isinstance(patterns, str) or not patterns:
            raise ValueError("ReadFileDumps needs a non-empty list of glob patterns")
        self._watch = watch
        ingested_at = ingested_at or dt.datetime.now(UTC)
        if ingested_at.tzinfo is None:
            raise ValueError("ingested_at must be timezone-aware")
        self._patterns = list(patterns)
        self._config = config or ReadConfig()
        self._ingested_at = None if watch is not None else ingested_at.astimezone(UTC)

    def expand(self, pbegin: beam.pvalue.PBegin):
        if self._watch is not None:
            from transforms.watch_folders import WatchFolders

            matches = pbegin | "WatchFolders" >> WatchFolders(self._patterns, self._watch)
        else:
            # A bounded, batch-style source: Create is how its patterns enter the graph.
            matches = (
                pbegin
                | "Patterns" >> beam.Create([v for p in self._patterns for v in globstar_variants(p)])
                | "MatchFiles" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "KeyByPath" >> beam.Map(_path_and_match).with_output_types(tuple[str, FileMetadata])
                | "GroupByPath" >> beam.GroupByKey()
                | "OneMatchPerPath" >> beam.Map(_one_match).with_output_types(FileMetadata)
            )
        outputs = (
            matches
            | "OpenFiles" >> fileio.ReadMatches(skip_directories=True)
            | "ParseRecords"
            >> beam.ParDo(ParseDumpFileFn(self._config, self._ingested_at))
            .with_input_types(fileio.ReadableFile)
            .with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter, CAPTURED_PAGE_TAG: CapturedPage})
            .with_outputs(DEAD_LETTER_TAG, CAPTURED_PAGE_TAG, main="articles")
        )
        pages = (
            outputs[CAPTURED_PAGE_TAG]
            | "SpreadCapturedPages" >> beam.Reshuffle()
            | "ExtractCapturedPages"
            >> beam.ParDo(ExtractCapturedPageFn(self._config, self._ingested_at))
            .with_input_types(CapturedPage)
            .with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter})
            .with_outputs(DEAD_LETTER_TAG, main="articles")
        )
        articles = (outputs.articles, pages.articles) | "AllArticlesRead" >> beam.Flatten()
        dead_letters = (outputs[DEAD_LETTER_TAG], pages[DEAD_LETTER_TAG]) | "AllDeadLettersRead" >> beam.Flatten()
        return articles, dead_letters
