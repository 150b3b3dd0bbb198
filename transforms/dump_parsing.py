"""One record of a file dump -> the article fields it holds, and its date evidence.

Pure functions (no Beam), used by `transforms.read_files`. A record is one
plain-text file, one HTML page, or one JSON object (a JSONL line, or a `.json`
file / element of a `.json` array). Problems raise `RefusedInput` with a
stable reason code: `invalid_json`, `not_an_object`, `missing_text`,
`no_article_text`, `extraction_timeout`, `extraction_failed`.

Formats, by extension (a trailing `.gz` is ignored): `.txt`/`.text` -> text,
`.html`/`.htm`/`.xhtml` -> html, `.jsonl`/`.ndjson` -> jsonl, `.json` -> json,
`.rss`/`.atom`/`.rdf` -> feed (a saved RSS/Atom/RDF document, each item a
record: `transforms.feed_items.record_from_entry`), `.nitf` -> nitf, `.warc`/`.arc` -> warc
(a web archive, streamed by `transforms.warc_records`).
Anything else (`.xml` too) is sniffed from its first bytes: an `rss`, `feed`,
`RDF` or `channel` root element, after any XML declaration, comments and
DOCTYPE -> feed; a `nitf` root -> nitf and a `newsItem`, `newsMessage` (NewsML-G2)
or `NewsML` (NewsML 1.x) root -> newsml (IPTC wire formats: `transforms.news_xml`), a
`newsitem` root (the Reuters Corpus, RCV1/RCV2) -> rcv1; after an XML declaration, an `html` root -> html and any
other -> xml; a leading `<` followed by an HTML tag -> html; a `.xml` name
that is none of these -> xml. xml is refused (`unsupported_format`: a
sitemap or an OPML list is not an article, and its markup is not text). A
first non-blank line starting with `{` -> jsonl; a leading `[` -> json; else
text.

JSON record fields (the first alias present with a usable value wins; other
fields are ignored):

| field | aliases |
| --- | --- |
| text (required) | `text`, `body`, `content` (NewsAPI's `[+N chars]` cut marker removed), `article_body`, `articleBody`, `maintext`, `body_text`; else `description`, `summary` |
| title | `title`, `headline` |
| url | `url`, `link`, else `source` when it is an http(s) URL |
| outlet | `outlet`, `publisher`, `source`, `site`, `sitename`, `source-hostname`, `publication` (a `{"name": ...}` object too; not a value that is a URL); else the host name in `source_domain`, `domain` or `hostname`, else the URL's (`www.` dropped), as for an HTML page |
| published | `published`, `published_at`, `date`, `pubDate`, `datePublished`, `date_publish`, `publishing_date`, `publish_date`, `publishedAt`, `versioncreated`, `firstcreated` |
| language | `language`, `lang` (primary subtag kept: "en-US" -> "en") |
| id | `article_id`, `id`, `doc_id`, `guid`, `uri` (string or integer) |

Wrappers (`search_hit_source`, `document_records`): an Elasticsearch/OpenSearch
hit is its `_source` (its `_id` the id when the document has none), an AP-style
`{"meta", "item"}` its `item`; a `.json` document that is an API answer or a
search response gives the records of its first ENVELOPE_FIELDS list. A record
with text of its own is never unwrapped.

Publication date (`published_at`, UTC) and its evidence (`date_source`), first
rule that applies:

- `marker` (plain text only): the first line begins with the marker
  ` date YYYY-MM-DD ` (optional leading blanks, the word `date`, an ISO date,
  then a blank or the end of the line). The marker is stripped from the text;
  published_at is that day at 00:00 UTC (date-only precision).
  `invalid_marker`: the marker has the shape but names no real day
  (` date 2025-13-45 `): the marker is stripped, the text kept, published_at
  None, and the text is not searched further (the file's own date claim is
  broken, and a guess would hide that).
- `record` (JSON): the record's `published`/`published_at`/`date`/`pubDate`/
  `datePublished` field, ISO 8601 or RFC 2822 text, or Unix epoch seconds
  (milliseconds above 10^11); an offset is honoured then normalised to UTC, a
  naive time is taken as UTC. `invalid_record_date`: the field is present but
  unparseable: the row is kept, published_at None, the text not searched.
- `page_metadata` (HTML): the publication date trafilatura/htmldate find in
  the page's markup (meta tags, JSON-LD, `<time>`, the URL). Time and offset
  are kept when the page gives them; a date alone is 00:00 UTC. A zone
  abbreviation after the time ("2017-03-21 11:35:57 EDT") gives its offset
  (`ZONE_OFFSET_HOURS`: the US and European zones and a few more); an
  ambiguous one (IST, AST) or an unknown one gives none, so the time counts
  as UTC, without a warning. htmldate reads numeric dates day first: a page
  date whose year matches the URL's `/YYYY/MM/` but not its month, and whose
  day and month swapped do, is swapped ("04/08/2017" on nymag.com/…/2017/04/
  is April 8, not August 4; `urls.with_day_and_month_of_url`).
- `dateline` (any format, when the rules above gave nothing: plain text
  without a marker, JSON without a date field, HTML without a page date): one
  of the first three non-blank lines starts with a dateline,
  an optional place (a capitalised word and up to four more), an optional
  agency in parentheses and a separator (`,` `:` `|` or a dash), an optional
  weekday, then a date: "WASHINGTON, Oct. 31, 2025 (Reuters) -",
  "New Delhi, 31 October 2025:", "October 31, 2025 -". A dateline with month
  and day but no year ("Kuala Lumpur, Oct 31") takes its year from a full date
  elsewhere in the text in the same month, else from the only year number
  (1900-2099) the text mentions; with no such year it is not evidence.
- `url` (JSON): the record's URL holds a full date, `/YYYY/MM/DD/` (also
  with `-`: `/2010-12-08/`); year and month alone are not a day. After the
  dateline, because a URL may keep the date a story was first filed under.
- `text_date`: the first full date (month name + day + year, either order, or
  ISO YYYY-MM-DD) in the first `text_date_window` characters.
- `unknown`: none of the above; published_at None.

Datelines and text dates have date-only precision (00:00 UTC). File times are
never used: they say when a file was copied, not when an article was published.

Identity (for `transforms.schema.make_article_id`): the URL, else the record's
id (as `id:<id>`), else the dump's file name without `.gz` plus the position
(`#LINE` for JSONL, `[INDEX]` for a `.json` array, nothing for a whole file):
never the directory, so the same dump read from another place or working
directory gives the same ids.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, TypeVar, Union

from transforms.decoding import RefusedInput
from transforms.text_cleaning import TITLE_PART_SEPARATOR
from transforms.urls import is_web_url, url_day, url_host, with_day_and_month_of_url

UTC = dt.timezone.utc

# Besides the plain names, the fields of the dumps news work is done with: news-please
# (Common Crawl's CC-NEWS: maintext, date_publish, source_domain), trafilatura's JSON output
# (source is the page URL, source-hostname the site name, hostname the host), newspaper3k's
# attributes (publish_date), IPTC ninjs 1.x's plain fields (body_text, versioncreated, firstcreated,
# guid, uri; `transforms.ninjs` reads ninjs of every version first and hands its fields here),
# the Hugging Face cc_news and "All the News" sets (domain, publication) and Fundus's date
# (publishing_date; its body is a structure, not a text, so a Fundus record needs a `text`).
TEXT_FIELDS = ("text", "body", "content", "article_body", "articleBody", "maintext", "body_text")
# A summary stands in for a record with no body, as a feed item's does (NewsAPI with no content).
SUMMARY_FIELDS = ("description", "summary")
TITLE_FIELDS = ("title", "headline")
URL_FIELDS = ("url", "link")
URL_ONLY_WHEN_A_LINK_FIELDS = ("source",)  # a URL in trafilatura's output, an outlet's name elsewhere
OUTLET_FIELDS = ("outlet", "publisher", "source", "site", "sitename", "source-hostname", "publication")
OUTLET_HOST_FIELDS = ("source_domain", "domain", "hostname")  # a host name: named as a URL's host is
DATE_FIELDS = (
    "published", "published_at", "date", "pubDate", "datePublished",
    "date_publish", "publishing_date", "publish_date", "publishedAt", "versioncreated", "firstcreated",
)
# Where API and search-engine exports keep the records of one JSON document (`document_records`).
ENVELOPE_FIELDS = ("articles", "items", "data", "results", "entries", "documents", "docs", "stories", "records")
# NewsAPI cuts `content` at about 200 characters and says how much is left: not the article's words.
_TRUNCATION_MARKER = re.compile(r"\s*(?:\u2026|\.\.\.)?\s*\[\+\d+ chars\]\s*$")
LANGUAGE_FIELDS = ("language", "lang")
ID_FIELDS = ("article_id", "id", "doc_id", "guid", "uri")
# A spreadsheet's column names in any case and spacing ("Title", "URL", "PublishedAt", "Source
# Hostname") -> the field names above. No two fields of different kinds share a compact name.
def _compact(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.lower())


_FIELD_BY_COMPACT_NAME = {
    _compact(name): name
    for names in (
        TEXT_FIELDS, SUMMARY_FIELDS, TITLE_FIELDS, URL_FIELDS, URL_ONLY_WHEN_A_LINK_FIELDS, OUTLET_FIELDS,
        OUTLET_HOST_FIELDS, DATE_FIELDS, LANGUAGE_FIELDS, ID_FIELDS,
    )
    for name in names
}  # fmt: skip


def field_name_of_column(column: str) -> str:
    """The record field a table's column header names, in any case and spacing ("Published At"
    and "published at" are published_at); a header that names no known field is kept as written."""
    name = column.strip()
    return _FIELD_BY_COMPACT_NAME.get(_compact(name)) or name


CSV_DELIMITERS = (",", ";", "\t", "|")


def _header_line(head_text: str) -> str:
    return next((line for line in head_text.lstrip("\ufeff").splitlines() if line.strip()), "")


def csv_delimiter(head_text: str) -> str:
    """The delimiter that splits the header line into the most columns (a header's names hold
    no delimiters; a row's text does, so rows are not looked at). Comma when none does."""
    header_line = _header_line(head_text)
    counts = {delimiter: header_line.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


_CSV_HEADER_CELL_CHARS = 40
_ARTICLE_WORDS_FIELDS = frozenset((*TEXT_FIELDS, *SUMMARY_FIELDS, *TITLE_FIELDS))


def looks_like_csv_table(head_text: str) -> bool:
    """Whether a file whose name gives no format starts with a table header of news fields: at
    least two short cells that name known fields (in any case and spacing, as
    `field_name_of_column` maps them), one of them a text, summary or title. Known names are
    asked for, not just a delimiter, because an article's first line may hold commas too
    ("Rain, wind and snow: the week ahead") and must stay an article."""
    cells = next(csv.reader([_header_line(head_text)], delimiter=csv_delimiter(head_text)), [])
    if len(cells) < 2 or any(len(cell.strip()) > _CSV_HEADER_CELL_CHARS for cell in cells):
        return False
    known = [field for field in map(field_name_of_column, cells) if _compact(field) in _FIELD_BY_COMPACT_NAME]
    return len(known) >= 2 and any(field in _ARTICLE_WORDS_FIELDS for field in known)


FORMAT_BY_EXTENSION = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".warc": "warc",
    ".arc": "warc",
    # Archives of dump files: each member is read as the file it would be unpacked.
    ".zip": "zip",
    ".tar": "tar",
    ".tgz": "tar",
    # Common Crawl's derived WARCs (WET text, WAT metadata): read as archives, so that they
    # are refused saying so rather than read whole as text.
    ".wet": "warc",
    ".wat": "warc",
    ".ndjson": "jsonl",
    ".json": "json",
    ".rss": "feed",
    ".atom": "feed",
    ".rdf": "feed",
    ".nitf": "nitf",
}
# IPTC wire formats by the local name of their root element (transforms/news_xml.py reads them).
NEWS_XML_FORMATS = {"nitf": "nitf", "newsItem": "newsml", "newsMessage": "newsml", "NewsML": "newsml", "newsitem": "rcv1"}
ARCHIVE_FORMATS = ("zip", "tar")
# A file's compression by its name's last suffix (`decoding.decompressing_reader` reads them).
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
DATELINE_LINES = 3
EPOCH_MILLISECONDS_ABOVE = 10**11

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# Title case or capitals only: "march 3 miles" and "may 5" in prose are not dates.
_MONTH_NAMES = "|".join(
    sorted({form for name in _MONTHS for form in (name.title(), name.upper())}, key=len, reverse=True)
)
_MONTH = rf"(?P<month>{_MONTH_NAMES})\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_FULL_DATES = (
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"),
    re.compile(rf"\b{_YEAR}-(?P<month>0[1-9]|1[0-2])-(?P<day>[0-3]\d)\b"),
)
_PARTIAL_DATES = (
    re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!,?\s+\d)"),
    re.compile(rf"\b{_DAY}\s+{_MONTH}(?!\w)(?!,?\s+\d)"),
)
# Optional place (a capitalised word and up to four more), optional agency,
# separator; then an optional weekday. The date pattern follows it directly.
_DATELINE_PREFIX = (
    r"\s*(?:[A-Z][\w.'’&-]*(?:[ ][\w.'’&-]+){0,4}\s*(?:\([^()\n]{1,40}\)\s*)?[,:|–—-]\s*)?"
    r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
)
_DATELINE_FULL = tuple(re.compile(_DATELINE_PREFIX + p.pattern) for p in _FULL_DATES)
_DATELINE_PARTIAL = tuple(re.compile(_DATELINE_PREFIX + p.pattern) for p in _PARTIAL_DATES)
_YEAR_TOKEN = re.compile(r"(?<![\d.,$-])(?:19|20)\d\d(?![\d-])")
_DATE_MARKER = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{1,2}-\d{1,2})(?:[ \t]+|[ \t]*\r?\n|[ \t]*\Z)")
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED_SCRIPTS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED_SCRIPTS}]")
_WORD_SEPARATORS = re.compile(rf"[\s{_UNSPACED_SCRIPTS}]+")
# A feed's root element after what may precede it: an XML declaration or
# other processing instructions, comments, a DOCTYPE (with an internal subset).
_FEED_ROOT = re.compile(
    # Each prolog item ends at its first terminator, and the repetition never
    # gives one back (possessive), so a head that is not a feed fails in linear time.
    r"\A(?:\s+|<\?(?:[^?]|\?(?!>))*+\?>|<!--(?:[^-]|-(?!->))*+-->|<!DOCTYPE[^\[>]*+(?:\[[^\]]*+\])?\s*>)*+"
    r"<(?:[A-Za-z][\w.-]*:)?(?:rss|feed|RDF|channel|CHANNEL)[\s>/]"
)
_XML_DECLARATION_START = re.compile(r"<\?xml[\s?]")
_FIRST_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|span|a|table|br|h[1-6])\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateEvidence:
    published_at: Optional[dt.datetime]  # timezone-aware UTC, or None
    date_source: str


UNKNOWN_DATE = DateEvidence(None, "unknown")


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """The article fields one record holds, before it becomes an `Article`."""

    text: str
    title: Optional[str] = None
    url: Optional[str] = None
    outlet: Optional[str] = None
    published_at: Optional[dt.datetime] = None
    date_source: str = "unknown"
    language: Optional[str] = None
    record_id: Optional[str] = None


# --- file names and formats -------------------------------------------------


def split_compression(path: str) -> tuple[str, Optional[str]]:
    """(path without a trailing `.gz`/`.bz2`/`.xz`/`.zst`, the compression it names or None)."""
    lowered = path.lower()
    for suffix, codec in COMPRESSION_SUFFIXES.items():
        if lowered.endswith(suffix):
            return path[: -len(suffix)], codec
    return path, None


def file_name(path: str) -> str:
    """The last path component, for local paths and URLs (gs://, s3://) alike."""
    return re.split(r"[/\\]", path.rstrip("/\\"))[-1]


def dump_name(path: str) -> str:
    """File name without `.gz`: `a.jsonl` and `a.jsonl.gz` give the same ids."""
    return file_name(split_compression(path)[0])


def folder_name(path: str) -> Optional[str]:
    """Name of the folder holding the file (the bucket for gs://bucket/x.txt; for a member at the
    top of an archive, `reuters.zip!/x.xml`, the archive's name, `reuters`)."""
    parts = [p for p in re.split(r"[/\\]", path) if p]
    if len(parts) < 2 or parts[-2].endswith(":"):
        return None
    if parts[-2].endswith("!"):
        archive = split_compression(parts[-2][:-1])[0]
        return re.sub(r"\.(zip|tar|tgz)$", "", archive, flags=re.IGNORECASE) or None
    return parts[-2]


def format_from_extension(path: str) -> Optional[str]:
    name = dump_name(path).lower()
    dot = name.rfind(".")
    return FORMAT_BY_EXTENSION.get(name[dot:]) if dot > 0 else None


_JSON_FEED_VERSION = re.compile(r'"version"\s*:\s*"https://jsonfeed\.org/version/')


def sniff_format(head_text: str, name: str = "") -> str:
    """Format of a file with an unknown extension, from its first characters (and `.xml` in its name).

    "xml": an XML document that is neither a feed nor an HTML page (a
    sitemap, an OPML list): not an article, and not text to read as one.
    "csv": a table whose header names news fields (`looks_like_csv_table`).
    """
    stripped = head_text.lstrip("\ufeff \t\r\n")
    if _FEED_ROOT.match(stripped[:4096]):
        return "feed"
    root = xml_root_name(stripped) if stripped.startswith("<") else None
    if news := news_xml_format(root):
        return news
    if _XML_DECLARATION_START.match(stripped):
        # A declared XML document is what its root element says (XHTML is html).
        root = (root or "").lower()
        return "html" if root == "html" or root.endswith(":html") else "xml"
    if stripped.startswith("<") and _HTML_TAG.search(stripped[:4096]):
        return "html"
    if dump_name(name).lower().endswith(".xml"):
        return "xml"
    if stripped.startswith("{"):
        # A JSON Feed, or an object pretty-printed over many lines (an API answer saved with
        # `jq .`), is one document: read as JSON lines, each of its lines was an invalid_json.
        pretty = stripped.split("\n", 1)[0].strip() == "{"
        return "json" if pretty or _JSON_FEED_VERSION.search(stripped[:4096]) else "jsonl"
    if stripped.startswith("["):
        return "json"
    if looks_like_csv_table(stripped):
        return "csv"
    return "text"


_HTML_DOCUMENT_START = re.compile(r"\A(?:<!--(?:[^-]|-(?!->))*+-->\s*)*+<(?:(?P<doctype>!doctype\s+html)|html[\s>])", re.IGNORECASE)
_HTML_HEAD_OR_BODY = re.compile(r"<(?:head|body)[\s>]", re.IGNORECASE)


def markup_document_format(head_text: str) -> Optional[str]:
    """"html", "feed" or a news XML format for a file named as plain text that holds a whole
    markup document (a page saved as `.txt`), else None: its markup is not article text.

    Only whole documents (an HTML doctype or root, a feed's root, an IPTC root): a text that
    merely starts with a tag stays text."""
    stripped = head_text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("<"):
        return None
    start = _HTML_DOCUMENT_START.match(stripped)
    if start and (start["doctype"] or _HTML_HEAD_OR_BODY.search(stripped, start.end())):
        return "html"
    found = sniff_format(stripped)
    return found if found in ("feed", *NEWS_XML_FORMATS.values()) else None


def news_xml_format(root_name: Optional[str]) -> Optional[str]:
    """"nitf" or "newsml" for the root element of an IPTC document (its local name), else None."""
    return NEWS_XML_FORMATS.get((root_name or "").rsplit(":", 1)[-1])


def xml_root_name(head_text: str) -> Optional[str]:
    """The name of the first element an XML head opens, for messages."""
    match = _FIRST_ELEMENT.search(head_text[:4096])
    return match[1] if match else None


def record_identity(url: Optional[str], record_id: Optional[str], dump: str, position: str = "") -> str:
    """What `make_article_id` hashes besides the text: URL, else record id, else name+position."""
    if url:
        return url
    if record_id:
        return f"id:{record_id}"
    return f"{dump}{position}"


# --- dates from text --------------------------------------------------------


def _day(year: int, month: int, day: int) -> Optional[dt.datetime]:
    try:
        return dt.datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _month_number(token: str) -> int:
    return int(token) if token.isdigit() else _MONTHS[token.lower()]


def _full_dates(text: str) -> Iterator[tuple[int, dt.datetime]]:
    """(offset, day) of every real full date in the text, in order of offset."""
    found = []
    for pattern in _FULL_DATES:
        for match in pattern.finditer(text):
            day = _day(int(match["year"]), _month_number(match["month"]), int(match["day"]))
            if day:
                found.append((match.start(), day))
    return iter(sorted(found, key=lambda item: item[0]))


def _dateline(text: str) -> Optional[dt.datetime]:
    lines = [line for line in text.splitlines() if line.strip()][:DATELINE_LINES]
    for line in lines:
        for pattern in _DATELINE_FULL:
            match = pattern.match(line)
            if match:
                day = _day(int(match["year"]), _month_number(match["month"]), int(match["day"]))
                if day:
                    return day
        for pattern in _DATELINE_PARTIAL:
            match = pattern.match(line)
            if match:
                month, day_of_month = _month_number(match["month"]), int(match["day"])
                year = _year_for(text, month)
                day = _day(year, month, day_of_month) if year else None
                if day:
                    return day
    return None


def _year_for(text: str, month: int) -> Optional[int]:
    """The year of a month-day dateline, from the rest of the text (see module doc)."""
    for _, day in _full_dates(text):
        if day.month == month:
            return day.year
    years = {int(token) for token in _YEAR_TOKEN.findall(text)}
    return years.pop() if len(years) == 1 else None


def date_from_text(text: str, text_date_window: int, url: Optional[str] = None) -> DateEvidence:
    """Date evidence in an article's own words: a dateline, else the URL's full date, else an early full date."""
    day = _dateline(text)
    if day:
        return DateEvidence(day, "dateline")
    day = url_day(url)
    if day:
        return DateEvidence(day, "url")
    for _, day in _full_dates(text[:text_date_window]):
        return DateEvidence(day, "text_date")
    return UNKNOWN_DATE


def split_date_marker(text: str) -> tuple[str, Optional[DateEvidence]]:
    """Strip a leading ` date YYYY-MM-DD ` marker: (text without it, its evidence or None)."""
    match = _DATE_MARKER.match(text)
    if not match:
        return text, None
    body = text[match.end() :]
    try:
        day = dt.date.fromisoformat(_zero_padded(match[1]))
    except ValueError:
        return body, DateEvidence(None, "invalid_marker")
    return body, DateEvidence(dt.datetime(day.year, day.month, day.day, tzinfo=UTC), "marker")


def _zero_padded(iso_like: str) -> str:
    year, month, day = iso_like.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def parse_plain_text(text: str, text_date_window: int) -> ParsedRecord:
    """A plain-text article: marker, else text evidence. Title is left to CleanArticles."""
    body, marker = split_date_marker(text)
    if not body.strip():
        raise RefusedInput("missing_text", "the file holds a date marker and no article text")
    evidence = marker or date_from_text(body, text_date_window)
    return ParsedRecord(text=body, published_at=evidence.published_at, date_source=evidence.date_source)


# --- JSON records ----------------------------------------------------------


def parse_json_line(line: str) -> dict:
    """One JSONL line -> its object, or RefusedInput invalid_json / not_an_object."""
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        message = f"{error.msg} (column {error.colno})" if isinstance(error, json.JSONDecodeError) else str(error)
        raise RefusedInput("invalid_json", f"not valid JSON: {message}") from error
    return require_object(value)


def require_object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise RefusedInput("not_an_object", f"a JSON {_json_type(value)} where an object was expected")
    return value


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _first_string(record: dict, fields: tuple[str, ...], usable: Callable[[str], bool] = bool) -> Optional[str]:
    """The first of `fields` with a non-blank string value that is `usable`."""
    for name in fields:
        value = record.get(name)
        if isinstance(value, dict):  # schema.org style: {"publisher": {"name": "..."}}
            value = value.get("name")
        if isinstance(value, str) and (stripped := value.strip()) and usable(stripped):
            return stripped
        if isinstance(value, int) and not isinstance(value, bool) and name in ID_FIELDS:
            return str(value)
    return None


def _host_as_url(host: Optional[str]) -> Optional[str]:
    """A bare host name ("www.nytimes.com") as a URL, so that it is named as a URL's host is."""
    if not host:
        return None
    return host if is_web_url(host) else f"https://{host}/"


def normalise_language(value: Optional[str]) -> Optional[str]:
    """"en-US", "EN", "en_GB" -> "en"; anything that is not a language code -> None."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip())[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def parse_record_date(value: Any) -> dt.datetime:
    """ISO 8601 / RFC 2822 text or epoch seconds -> aware UTC datetime; ValueError if not."""
    if isinstance(value, bool):
        raise ValueError(f"a boolean is not a date: {value!r}")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > EPOCH_MILLISECONDS_ABOVE else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise ValueError(f"epoch value out of range: {value!r}") from error
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date string: {value!r}")
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as error:
            raise ValueError(f"neither ISO 8601 nor RFC 2822: {text!r}") from error
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _has_text_field(record: dict) -> bool:
    """A record with text of its own (any non-empty text field): a record, never a wrapper."""
    return any(record.get(name) for name in TEXT_FIELDS)


def search_hit_source(record: dict) -> dict:
    """The document a wrapper record carries, else the record as it is: an Elasticsearch or
    OpenSearch hit (a search response's, or an elasticdump line) as its `_source`, with the
    hit's `_id` as id when the document has none; an AP-style `{"meta": ..., "item": {...}}`
    as its `item`."""
    if _has_text_field(record):
        return record
    source = record.get("_source")
    if isinstance(source, dict):
        if "_id" in record and not any(name in source for name in ID_FIELDS):
            return {**source, "id": record["_id"]}
        return source
    item = record.get("item")
    if isinstance(item, dict) and len(record) <= 3:  # item, and at most meta and a link or two
        return item
    return record


def document_records(document: Any, _depth: int = 0) -> Optional[tuple[str, list]]:
    """The records of a JSON document that wraps them (an API answer, a search response):
    (their position prefix, the list), or None when the document is no such envelope.

    `{"articles": [...]}` (NewsAPI), `{"data": {"items": [...]}}`, `{"hits": {"hits": [...]}}`
    (Elasticsearch): the first of ENVELOPE_FIELDS holding a list of objects, one level down too.
    An object with text of its own is a record, not an envelope.
    """
    if not isinstance(document, dict) or _has_text_field(document):
        return None
    hits = document.get("hits")
    if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
        return "[hits][hits]", hits["hits"]
    for name in ENVELOPE_FIELDS:
        value = document.get(name)
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return f"[{name}]", value
        if isinstance(value, dict) and _depth < 1:  # one level down, no deeper
            inner = document_records(value, _depth + 1)
            if inner is not None:
                return f"[{name}]{inner[0]}", inner[1]
    return None


def parse_json_record(record: dict, text_date_window: int) -> ParsedRecord:
    """A JSON object's article fields (aliases in the module constants)."""
    text = None
    for name in (*TEXT_FIELDS, *SUMMARY_FIELDS):
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            text = _TRUNCATION_MARKER.sub("", value) if name == "content" else value
            break
    if text is None or not text.strip():
        present = [f"{name} ({_json_type(record[name])})" for name in (*TEXT_FIELDS, *SUMMARY_FIELDS) if name in record]
        detail = (
            f"text field is empty or not a string: {', '.join(present)}"
            if present
            else f"no text field (one of {', '.join((*TEXT_FIELDS, *SUMMARY_FIELDS))})"
        )
        raise RefusedInput("missing_text", detail)

    url = _first_string(record, URL_FIELDS) or _first_string(record, URL_ONLY_WHEN_A_LINK_FIELDS, is_web_url)
    date_field = next((name for name in DATE_FIELDS if record.get(name) not in (None, "")), None)
    if date_field is None:
        evidence = date_from_text(text, text_date_window, url)
    else:
        try:
            evidence = DateEvidence(parse_record_date(record[date_field]), "record")
        except ValueError:
            evidence = DateEvidence(None, "invalid_record_date")

    return ParsedRecord(
        text=text,
        title=_first_string(record, TITLE_FIELDS),
        url=url,
        outlet=_first_string(record, OUTLET_FIELDS, lambda value: not is_web_url(value))
        or url_host(_host_as_url(_first_string(record, OUTLET_HOST_FIELDS)))
        or url_host(url),
        published_at=evidence.published_at,
        date_source=evidence.date_source,
        language=normalise_language(_first_string(record, LANGUAGE_FIELDS)),
        record_id=_first_string(record, ID_FIELDS),
    )


# --- HTML pages ------------------------------------------------------------


def count_words(text: str) -> int:
    """Words separated by white space; in scripts written without spaces (Chinese,
    Japanese, Thai, Lao, Khmer, Myanmar) each character counts as one word.
    Punctuation alone is not a word."""
    spaced = [token for token in _WORD_SEPARATORS.split(text) if any(ch.isalnum() for ch in token)]
    return len(spaced) + len(_UNSPACED_CHAR.findall(text))


# --- Time-zone abbreviations in page dates -----------------------------------
#
# htmldate (trafilatura's date finder) reads a page date that starts with a year,
# "2017-03-21 11:35:57 EDT", with dateutil and gives it no table of zone names:
# dateutil then drops the zone, returns the time as if it were UTC (four hours
# off here), and prints an UnknownTimezoneWarning on stderr for every such page.
# `parse_with_zone_abbreviations` is dateutil with `tzinfos=zone_for_abbreviation`,
# and htmldate is given it in place of its own import of dateutil's parser.

# UTC offsets, in hours, of the abbreviations news pages write after a time: the
# US and European zones, and a few that name one zone only. CST is US Central
# (not China's), BST British Summer Time (not Bangladesh's), as English-language
# news uses them.
ZONE_OFFSET_HOURS: dict[str, float] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1,
    "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "ADT": -3,
    "SAST": 2, "EAT": 3, "WAT": 1, "PKT": 5, "HKT": 8, "SGT": 8, "JST": 9, "KST": 9,
    "AWST": 8, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}  # fmt: skip
# Abbreviations of several zones, hours apart: IST is India (+5:30), Ireland (+1)
# and Israel (+2); IDT Israel's or Ireland's summer; AST Atlantic (-4) and Arabia
# (+3); SST Samoa (-11) and Singapore (+8). A time given with one of them, or with
# an abbreviation in neither table, keeps no offset: it is read as written (a page
# date without an offset counts as UTC), with no warning.
AMBIGUOUS_ZONE_ABBREVIATIONS = frozenset({"IST", "IDT", "AST", "SST"})


def zone_for_abbreviation(name: Optional[str], offset_s: Optional[int]) -> Optional[dt.tzinfo]:
    """dateutil's `tzinfos` callable: the zone of a parsed time, None to leave it without one.

    `offset_s` is the offset dateutil read itself ("+05:30", "Z", "UTC", "GMT+3"):
    it wins. Then the table above; ambiguous and unknown names give None.
    """
    if offset_s is not None:
        return UTC if offset_s == 0 else dt.timezone(dt.timedelta(seconds=offset_s))
    if not name or name.upper() in AMBIGUOUS_ZONE_ABBREVIATIONS:
        return None
    hours = ZONE_OFFSET_HOURS.get(name.upper())
    if hours is None:
        return None
    return UTC if hours == 0 else dt.timezone(dt.timedelta(hours=hours), name.upper())


def parse_with_zone_abbreviations(text: str, **kwargs: Any) -> dt.datetime:
    """`dateutil.parser.parse` knowing the zone abbreviations above (keyword arguments passed on)."""
    from dateutil import parser

    kwargs.setdefault("tzinfos", zone_for_abbreviation)
    return parser.parse(text, **kwargs)


def _teach_htmldate_zone_abbreviations() -> None:
    """Have htmldate's dateutil calls use `parse_with_zone_abbreviations` (idempotent).

    Done when this module is imported: every process that extracts pages
    imports it first (the file reader, and the feed reader's extraction helper
    process through `transforms.feed_items`). htmldate alone costs about 12 ms
    here (trafilatura itself stays for `load_html_extractor`).
    """
    from htmldate import extractors

    if hasattr(extractors, "dateutil_parse"):  # htmldate 1.x's name for dateutil's parse
        extractors.dateutil_parse = parse_with_zone_abbreviations


_teach_htmldate_zone_abbreviations()


# --- The outlet and the paragraphs of an HTML page -----------------------------------------------
#
# trafilatura's site name is not always a site's name. On the 617 pages of ../shared/data it was a
# copyright notice 14 times (`<meta name="copyright" content="© 2006 New York Magazine Holdings LLC.
# All Rights Reserved.">`) and the headline, or "<site> - <headline>", 23 times (old pages whose
# <title> is "Harsh Afghan outposts raise serious challenges for U.S. - CNN.com" or "CNN.com -
# Lessons learned from Katrina - Sep 22, 2005", and a page whose og:site_name is "Global News").
# `page_outlet` keeps the holder of a copyright notice, and for a headline takes the site's part of
# the site name or of the title, else the URL's host, else nothing.

_COPYRIGHT_SITENAME = re.compile(
    # "?" is a "©" an encoding lost: "? 2006 New York Magazine Holdings LLC."
    r"^(?:(?:copyright\s*)?(?:©|\(c\))|copyright\b|\?(?=\s*\d{4}))\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?",
    re.IGNORECASE,
)
_ALL_RIGHTS_RESERVED = re.compile(r"[\s.,;]*all\s+rights\s+reserved\b.*$", re.IGNORECASE)
_SITE_NAME_MAX_CHARS = 40
_HEADLINE_MIN_CHARS = 20


def _site_name_of_notice(notice: str) -> str:
    """"© 2006 New York Magazine Holdings LLC. All Rights Reserved." -> "New York Magazine Holdings LLC"."""
    holder = _ALL_RIGHTS_RESERVED.sub("", _COPYRIGHT_SITENAME.sub("", notice, count=1))
    return holder.strip(" .,;")


def _is_headline(name: str, title: str) -> bool:
    name, title = name.casefold(), title.casefold()
    return name == title or (len(name) >= _HEADLINE_MIN_CHARS and (name in title or title in name))


def _short_site_part(parts: list[str]) -> Optional[str]:
    parts = [part.strip() for part in parts if part.strip()]
    shortest = min(parts, key=len, default=None)
    return shortest if shortest and len(shortest) <= _SITE_NAME_MAX_CHARS and len(parts) > 1 else None


def page_outlet(sitename: Optional[str], title: Optional[str], url: Optional[str]) -> Optional[str]:
    """The outlet of a page from trafilatura's site name, the title and the URL (see above)."""
    name = " ".join((sitename or "").split())
    if _COPYRIGHT_SITENAME.match(name):
        name = _site_name_of_notice(name)
    if name and title and _is_headline(name, " ".join(title.split())):
        title = " ".join(title.split())
        from_name = _short_site_part(TITLE_PART_SEPARATOR.split(name))
        rest = title[title.casefold().find(name.casefold()) + len(name):] if name.casefold() in title.casefold() else ""
        rest_parts = [part for part in TITLE_PART_SEPARATOR.split(" " + rest.strip() + " ") if part.strip()]
        from_title = rest_parts[-1].strip() if rest_parts and len(rest_parts[-1].strip()) <= _SITE_NAME_MAX_CHARS else None
        name = from_name or from_title or ""
    return name or url_host(url)


def load_html_extractor():
    """trafilatura, imported (about 0.4 s: lxml, htmldate, courlan) before any page's time limit runs."""
    import trafilatura

    return trafilatura


def extract_page_document(html: Union[str, bytes], url: Optional[str], *, extensive_date_search: bool = False):
    """trafilatura's document of a page (None when it finds nothing), the one call behind HTML files and feed pages.

    Metadata on, comments left out (as in the extraction benchmark's trafilatura
    run); htmldate looks for the original publication date, never after today,
    in the markup before the URL: a URL's `/2017/03/28/` has no time of day, and
    `money.cnn.com/2017/03/28/…` then said 00:00 where the page says 05:05:45.
    Of the 617 pages of ../shared/data, 95 get their time this way (12 of them
    the next UTC day: a US evening); none moves by more than a day.
    """
    return load_html_extractor().bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={
            "original_date": True,
            "extensive_search": extensive_date_search,
            "max_date": dt.datetime.now(UTC).date().isoformat(),  # htmldate rejects dates after this
            "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            "deferred_url_extractor": True,
        },
    )


def page_date(value: Optional[str], url: Optional[str]) -> Optional[dt.datetime]:
    """The date htmldate found for a page (`extract_page_document`), in UTC, its day and month
    settled by the page's URL (`urls.with_day_and_month_of_url`); None when none can be read."""
    if not value:
        return None
    try:
        return with_day_and_month_of_url(parse_record_date(value), url)
    except ValueError:
        return None


def extract_html_article(
    html: Union[str, bytes],
    *,
    url: Optional[str] = None,
    min_words: int,
    text_date_window: int,
    extensive_date_search: bool = False,
) -> ParsedRecord:
    """Main text and metadata of an HTML page with trafilatura, or no_article_text.

    A page whose extracted text has fewer than `min_words` words is refused:
    trafilatura returns the menu of a page without an article ("Home World
    Business Sport") rather than nothing. See `count_words` for what a word is.
    """
    try:
        document = extract_page_document(html, url, extensive_date_search=extensive_date_search)
    except Exception as error:  # lxml/trafilatura internals: refuse this page, keep the run
        raise RefusedInput("extraction_failed", f"trafilatura raised {type(error).__name__}: {error}") from error

    text = (document.text or "") if document is not None else ""
    words = count_words(text)
    if words < min_words:
        raise RefusedInput(
            "no_article_text",
            f"no article text in the page: trafilatura extracted {words} words (minimum {min_words})",
        )
    published = page_date(document.date, document.url)
    # A page without a date we can read: the text may still say.
    evidence = DateEvidence(published, "page_metadata") if published else date_from_text(text, text_date_window)
    title = (document.title or "").strip() or None
    return ParsedRecord(
        text=text,
        title=title,
        url=document.url or url,
        outlet=page_outlet(document.sitename, title, document.url or url) or (document.hostname or "").strip() or None,
        published_at=evidence.published_at,
        date_source=evidence.date_source,
    )


class ExtractionTimeout(RefusedInput):
    def __init__(self, timeout_s: float):
        super().__init__("extraction_timeout", f"extraction took longer than {timeout_s:g} s")


T = TypeVar("T")


def run_with_time_limit(function: Callable[..., T], timeout_s: float, *args: Any, **kwargs: Any) -> T:
    """Call `function` on a worker thread; raise ExtractionTimeout after `timeout_s`.

    Python cannot stop a thread: on timeout the call is abandoned and keeps
    running in the background until it finishes (it is a daemon thread, so it
    never holds up the process's exit). This is what Beam's
    `with_exception_handling(timeout=...)` does too.
    """
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed back to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=call, name="newsbeam-extract", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise ExtractionTimeout(timeout_s)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
