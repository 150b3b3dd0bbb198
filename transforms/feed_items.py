"""Pure feed logic: fetched bytes -> feed entries -> Article fields. No Beam, no network.

(One part is not pure, at the end of the file: the child side of the page
extraction helper, `python -m transforms.feed_items --serve-extractions`,
which reads pages from its stdin and answers on its stdout.)

Parsing. feedparser reads every format it knows (RSS 0.9x/1.0/2.0, Atom
0.3/1.0, RDF, CDF) from bytes newsbeam fetched itself: the body is handed over
as a stream, because feedparser treats a bare string or bytes value as a URL
or a file name to open (a body reading "/etc/passwd" would be read from disk).
The HTTP Content-Type goes with it, so feedparser applies the charset rules of
RFC 3023 (a response without one is read as application/xml: its XML
declaration or BOM decides), and the answering URL goes as Content-Location,
the base for relative links.

XML entity attacks. feedparser never fetches external entities and drops
declarations whose text refers to other entities, but it keeps plain ones, and
a single 100 KB entity referenced 100,000 times (quadratic blowup) took a test
process to the out-of-memory killer. So before parsing, `check_entity_expansion`
totals what the declared internal entities would expand to (nested references
followed, cycles count as unbounded) over every reference in the document, and
refuses the feed (`xml_entity_expansion`) when that passes the body cap.

Outcomes of a parse:
- no usable items and HTML, or no feed root: `FeedRejected("not_a_feed")`;
- no usable items and JSON (JSON Feed): `FeedRejected("unsupported_format")`;
- no usable items and malformed XML: `FeedRejected("malformed_feed")`;
- an empty body: `FeedRejected("empty_feed")`;
- items and a "bozo" flag: the items are kept and `ParsedFeed.problem` names
  the flaw as `<kind>_items_kept` (kind: malformed_xml, charset_mismatch,
  charset_unknown, non_xml_content_type, undeclared_namespace);
- a valid feed with no items: an empty `ParsedFeed`, no problem.

Identity and versions. An entry's identity is its GUID / Atom id, else its
link, else a digest of its title and text. A sighting of an entry is
(declared change, content digest): the date it declares for its last change
(Atom `updated`, else its publication date, as written) and a digest of its
title and text. The poller emits an identity the first time it sees it, and
again only when BOTH its declared date and its content changed
(`is_new_version`): a corrected article gets a new row (a new article_id when
the text changed; earlier rows stay, so a user sees every published version
and picks the latest by `ingested_at`); feeds that stamp every entry with the
current time on each fetch, and edits that leave the dates alone (view
counters, re-rendered summaries), emit nothing new. A correction made only on
the article page, with the feed's title and text unchanged, is not seen.

Outlet. A feed's configured outlet, else the entry's own `<source>` (RSS 2.0
and Atom: the channel the item came from; aggregators such as Google News name
each item's publisher there), else the feed's title, else its host as
`urls.url_host` names it ("feeds.reuters.com" -> "reuters.com", as for
a JSON record or an HTML page of that site). An
aggregator also ends the title with " - <publisher>"; that suffix is dropped
when it repeats the entry's source, since it is the outlet, not the headline
(and would keep two outlets' copies of one headline apart); so is the
publisher's name after the headline in a summary that holds nothing else (as
Google News writes it), which would otherwise count as text of the article.

Text. An item's own text is the longer of its content and summary, HTML
turned into paragraphs of plain text. It is "real text" when it has at least
`min_words` words; only then may it stand in for a page that failed.

Publication date precedence (`published_at`, `date_source`):
1. the item's date (`published`, else `updated`) -> "feed_item";
2. the article page's metadata (htmldate via trafilatura: the original
   publication date in the markup, with time and offset when the page gives
   them, else the date in the page's URL) -> "page_metadata";
3. the full date in the page's URL, else the item link's (`/YYYY/MM/DD/`)
   -> "url": an item without a date whose page was not fetched or gave no
   text, in a feed that still lists old stories;
4. the time of the poll that first listed the item -> "fetch_time".
A candidate later than that time plus one day is implausible and skipped.
Offsets are honoured and every value is normalised to UTC; a date or time
given without an offset is read as UTC.
"""

from __future__ import annotations

import calendar
import codecs
import datetime as dt
import hashlib
import html
import importlib
import io
import json
import os
import pickle
import re
import signal
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional, Union
from urllib.parse import urljoin

from transforms.decoding import RefusedInput
from transforms.dump_parsing import (
    DateEvidence,
    ParsedRecord,
    date_from_text,
    extract_page_document,
    page_date,
    parse_record_date,
)
from transforms.schema import Article, make_article_id
from transforms.text_cleaning import without_outlet_suffix
from transforms.urls import is_web_url, url_day, url_host

UTC = dt.timezone.utc
FUTURE_SLACK = dt.timedelta(days=1)
DEFAULT_MIN_WORDS = 25

_WORD = re.compile(r"\w+")
# Characters XML 1.0 forbids; lxml refuses text that holds them.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n\s*\n+")
_SOURCE_WHITESPACE = re.compile(r"\s+")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s\"'>%]+)\s+(?:\"([^\"]*)\"|'([^']*)')")
_ENTITY_REFERENCE = re.compile(rb"([&%])([A-Za-z_:][-\w.:]*);")
_HTML_HINT = re.compile(rb"<\s*(!doctype\s+html|html[\s>])", re.IGNORECASE)
_FEED_LINK = re.compile(
    rb"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(rb"href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "table", "section", "article", "figure", "figcaption", "hr", "dd", "dt", "header", "footer",
)

# feedparser's bozo exception classes -> the kind of flaw, by class name so the
# mapping does not depend on feedparser's module layout.
_FLAW_KINDS = {
    "CharacterEncodingOverride": "charset_mismatch",
    "CharacterEncodingUnknown": "charset_unknown",
    "NonXMLContentType": "non_xml_content_type",
    "UndeclaredNamespace": "undeclared_namespace",
}


class FeedRejected(Exception):
    """A feed body that yields nothing usable; `reason` is a stable code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FeedProblem:
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a parsed feed, reduced to what newsbeam uses."""

    guid: Optional[str]
    link: Optional[str]  # absolute, as resolved by feedparser against the feed URL
    title: Optional[str]
    text: str  # plain text of the entry's content or summary (the longer)
    published_at: Optional[dt.datetime]  # UTC
    declared_change: str  # `updated`, else `published`, as written in the feed
    source: Optional[str] = None  # the title of the entry's own <source>: its publisher, on an aggregator

    @property
    def identity(self) -> str:
        if self.guid:
            return self.guid
        if self.link:
            return self.link
        digest = hashlib.sha256(f"{self.title or ''}\x1f{self.text}".encode("utf-8")).hexdigest()[:32]
        return f"sha256:{digest}"

    @property
    def sighting(self) -> tuple[str, str]:
        """(declared change, content digest): what tells a new version from a re-listing."""
        digest = hashlib.sha256(f"{self.title or ''}\x1f{self.text}".encode("utf-8")).hexdigest()[:32]
        return self.declared_change, digest


def is_new_version(entry: FeedEntry, previous: Optional[tuple[str, str]]) -> bool:
    """Emit the entry? Yes when never seen, or when its declared date and its content both changed."""
    if previous is None:
        return True
    declared_change, digest = entry.sighting
    return declared_change != previous[0] and digest != previous[1]


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: Optional[str]
    language: Optional[str]  # ISO 639-1 code from the feed's declared language
    format: str  # feedparser's version string, e.g. "rss20", "atom10"
    entries: tuple[FeedEntry, ...]
    problem: Optional[FeedProblem] = None


@dataclass(frozen=True, slots=True)
class FeedItem:
    """An entry on its way from the poller to the page fetcher."""

    feed_url: str
    outlet: Optional[str]
    guid: Optional[str]
    link: Optional[str]
    title: Optional[str]
    text: str
    published_at: Optional[dt.datetime]
    language: Optional[str]
    entry_identity: str  # FeedEntry.identity
    polled_at: dt.datetime  # when the poll that first listed this version ran
    fetch_page: bool
    respect_robots_txt: bool

    @property
    def source_ref(self) -> str:
        """The item link, else the feed URL with the entry's identity (GUID) as fragment."""
        if self.link:
            return self.link
        return f"{self.feed_url}#{self.entry_identity}"

    @property
    def identity(self) -> str:
        """What article_id is derived from: the link, else the GUID."""
        return self.link or self.guid or self.source_ref


@dataclass(frozen=True, slots=True)
class PageExtract:
    text: str
    title: Optional[str]
    date: Optional[str]  # htmldate output, "%Y-%m-%dT%H:%M:%S%z" (offset may be missing)
    sitename: Optional[str]


# ---------------------------------------------------------------- text


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def is_real_text(text: str, min_words: int = DEFAULT_MIN_WORDS) -> bool:
    return word_count(text) >= min_words


def normalise_text(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, block elements as paragraph breaks."""
    markup = _CONTROL_CHARACTERS.sub("", markup)
    if "<" not in markup and "&" not in markup:
        return normalise_text(markup)
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (ParserError, ValueError):
        return normalise_text(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    for unwanted in root.xpath("//script|//style"):
        unwanted.drop_tree()
    if "<" in markup:  # markup, not plain text with an entity in it
        _collapse_source_line_breaks(root)
    for element in root.iter(*_BLOCK_TAGS):
        separator = "\n" if element.tag == "br" else "\n\n"
        element.tail = separator + (element.tail or "")
        if element.tag != "br":
            element.text = separator + (element.text or "")
    return normalise_text(root.text_content())


def _collapse_source_line_breaks(root) -> None:
    """A line break in HTML source is a space (pretty-printed markup wraps its lines), except in `pre`."""
    # a pre and all it holds (the set keeps lxml's element proxies alive, so identity holds)
    in_pre = {element for pre in root.iter("pre") for element in pre.iter()}
    for element in root.iter():
        preformatted = element in in_pre
        if element.text:
            element.text = _source_text(element.text, collapse=not preformatted)
        if element.tail:
            element.tail = _source_text(element.tail, collapse=not (preformatted and element.tag != "pre"))


def _source_text(text: str, collapse: bool) -> str:
    # A character reference to a control character ("&#3;") parses into the text, and lxml
    # refuses to set a text holding one (ValueError, found by fuzzing): they go, as the raw
    # ones did before parsing.
    text = _CONTROL_CHARACTERS.sub("", text)
    return _SOURCE_WHITESPACE.sub(" ", text) if collapse else text


# ---------------------------------------------------------------- XML safety


def check_entity_expansion(data: bytes, limit: int) -> None:
    """Raise FeedRejected when declared entities would expand past `limit` bytes."""
    if b"<!ENTITY" not in data:
        return
    declared: dict[tuple[bytes, bytes], bytes] = {}
    for match in _ENTITY_DECLARATION.finditer(data):
        kind = b"%" if match.group(1) else b"&"
        value = match.group(3) if match.group(3) is not None else match.group(4)
        declared.setdefault((kind, match.group(2)), value or b"")
    if not declared:
        return
    sizes: dict[tuple[bytes, bytes], int] = {}
    unbounded = limit + 1

    def expanded_size(key: tuple[bytes, bytes], path: frozenset) -> int:
        if key in sizes:
            return sizes[key]
        if key in path:
            return unbounded
        value = declared[key]
        size = len(value)
        for reference in _ENTITY_REFERENCE.finditer(value):
            inner = (reference.group(1), reference.group(2))
            if inner in declared:
                size += expanded_size(inner, path | {key}) - len(reference.group(0))
                if size > limit:
                    size = unbounded
                    break
        sizes[key] = size
        return size

    total = 0
    for reference in _ENTITY_REFERENCE.finditer(data):
        key = (reference.group(1), reference.group(2))
        if key in declared:
            total += expanded_size(key, frozenset())
            if total > limit:
                raise FeedRejected(
                    "xml_entity_expansion",
                    f"entities declared in the document would expand to more than {limit} bytes"
                    " (an entity expansion attack or a broken DTD)",
                )


# ---------------------------------------------------------------- dates


def struct_time_to_utc(value) -> Optional[dt.datetime]:
    """feedparser's *_parsed (a UTC struct_time) as an aware datetime."""
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def choose_published_at(
    item_date: Optional[dt.datetime],
    page_date: Optional[dt.datetime],
    first_seen_at: dt.datetime,
    url_date: Optional[dt.datetime] = None,
) -> tuple[dt.datetime, str]:
    """(published_at in UTC, date_source) by the precedence in the module docstring."""
    latest_plausible = first_seen_at + FUTURE_SLACK
    for candidate, source in ((item_date, "feed_item"), (page_date, "page_metadata"), (url_date, "url")):
        if candidate is not None and candidate <= latest_plausible:
            return candidate.astimezone(UTC), source
    return first_seen_at.astimezone(UTC), "fetch_time"


# ---------------------------------------------------------------- feeds


def _looks_like_html(body: bytes, content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("text/html", "application/xhtml+xml") or bool(_HTML_HINT.search(body[:4096]))


def _advertised_feeds(body: bytes, base_url: str) -> list[str]:
    links = []
    for tag in _FEED_LINK.findall(body[:65536]):
        href = _HREF.search(tag)
        if href:
            links.append(urljoin(base_url, href.group(1).decode("utf-8", "replace")))
    return links[:3]


def _language_code(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    code = re.split(r"[-_\s]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _detail_text(detail, value: Optional[str]) -> str:
    """Plain text of a feedparser text construct, whatever its declared type."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "") if hasattr(detail, "get") else ""
    if "html" in kind or "<" in value:
        return html_to_text(value)
    return normalise_text(value)


def _entry_text(entry) -> str:
    candidates = [_detail_text(content, content.get("value")) for content in entry.get("content", []) or []]
    candidates.append(_detail_text(entry.get("summary_detail"), entry.get("summary")))
    return max(candidates, key=len)


def _entry_source(entry) -> Optional[str]:
    """The title of the entry's <source> (RSS 2.0 and Atom): the channel the item came from."""
    source = entry.get("source")
    if not hasattr(source, "get"):
        return None
    return _detail_text(source.get("title_detail"), source.get("title")) or None


def _without_source_byline(text: str, title: Optional[str], source: Optional[str]) -> str:
    """An aggregator's summary that is only the headline and the publisher's name: the headline alone."""
    if title and source and text.endswith(source):
        rest = text[: -len(source)].rstrip()
        if rest == title or without_outlet_suffix(rest, source) == title:  # the headline may keep its suffix
            return title
    return text


def entry_from_feedparser(entry) -> FeedEntry:
    title = entry.get("title")
    if title:
        title = _detail_text(entry.get("title_detail"), title) or None
    source = _entry_source(entry)
    title = without_outlet_suffix(title, source)
    return FeedEntry(
        guid=(entry.get("id") or "").strip() or None,
        link=(entry.get("link") or "").strip() or None,
        title=title,
        text=_without_source_byline(_entry_text(entry), title, source),
        published_at=struct_time_to_utc(entry.get("published_parsed")) or struct_time_to_utc(entry.get("updated_parsed")),
        declared_change=(entry.get("updated") or entry.get("published") or "").strip(),
        source=source,
    )


def _flaw_kind(exception: Optional[BaseException]) -> str:
    if exception is None:
        return "malformed_xml"
    return _FLAW_KINDS.get(type(exception).__name__, "malformed_xml")


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    content_location: Optional[str] = None,
    content_language: Optional[str] = None,
    max_expansion_bytes: int = 10 * 2**20,
    raw: Optional[dict] = None,
) -> ParsedFeed:
    """Parse fetched feed bytes. Raises FeedRejected when nothing is usable.

    `raw`, when given, receives feedparser's own result under "result" (for
    tests that check feedparser's expectations on the same parse).
    """
    import feedparser

    if not body.strip():
        raise FeedRejected("empty_feed", f"{url} answered with an empty body")
    check_entity_expansion(body, max_expansion_bytes)
    base = url
    if content_location:
        candidate = urljoin(url, content_location.strip())
        if is_web_url(candidate):
            base = candidate
    # With no Content-Type the document speaks for itself (XML declaration,
    # BOM), as it does for feedparser's own file input. A feed read from a
    # file has no web address to resolve relative links against (its path is
    # not one): its own xml:base, if any, is all there is.
    # The body decides, not the Content-Type: servers label RSS application/json too.
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return parse_json_feed(body, url=url, base=base)
    headers = {"content-type": content_type or "application/xml"}
    if is_web_url(base):
        headers["content-location"] = base
    if content_language:
        headers["content-language"] = content_language
    try:
        result = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except UnicodeDecodeError as error:
        # feedparser 6 decodes the XML declaration's encoding name as UTF-8 unguarded: one
        # damaged byte there raised out of parse() and stopped the run (found by fuzzing).
        raise FeedRejected("malformed_feed", f"{url} has an XML declaration that is not text ({error})") from None
    if raw is not None:
        raw["result"] = result
    exception = result.get("bozo_exception") if result.get("bozo") else None
    version = result.get("version") or ""
    entries = tuple(entry_from_feedparser(entry) for entry in result.get("entries", []))
    if not entries:
        if _looks_like_html(body, content_type) and not version:
            advertised = _advertised_feeds(body, base)
            hint = f"; the page advertises feeds at {', '.join(advertised)}" if advertised else ""
            raise FeedRejected("not_a_feed", f"{url} served an HTML page ({content_type or 'no Content-Type'}), not a feed{hint}")
        if exception is not None:
            raise FeedRejected("malformed_feed", f"{url} is not well-formed and yielded no items: {exception}")
        if not version and not result.get("feed"):
            raise FeedRejected("not_a_feed", f"{url} has no RSS, Atom, RDF or CDF root element ({content_type or 'no Content-Type'})")
    feed = result.get("feed", {})
    problem = None
    if exception is not None:
        kind = _flaw_kind(exception)
        problem = FeedProblem(f"{kind}_items_kept", f"{url}: {type(exception).__name__}: {exception}; kept {len(entries)} items")
    return ParsedFeed(
        title=(feed.get("title") or "").strip() or None,
        language=_language_code(feed.get("language")),
        format=version,
        entries=entries,
        problem=problem,
    )


# ---------------------------------------------------------------- JSON Feed
#
# JSON Feed (https://jsonfeed.org/version/1.1) is RSS's content model in JSON,
# which feedparser does not read (PyPI's JSON Feed packages are small and
# little used: jsonfeed 0.0.1, jsonfeed-util); its spec is a page long, so it
# is read here with the standard json module into the same FeedEntry as an RSS
# item: `id` -> guid, `url` -> link, `content_text` / `content_html` /
# `summary` -> text (the longest, HTML as paragraphs), `date_published` ->
# published_at (RFC 3339), `date_modified` (else `date_published`) -> the
# declared change that tells a new version, the item's first author (1.1
# `authors`, 1.0 `author`) -> nothing (an author is no outlet).

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(value: object) -> bool:
    """A parsed JSON document that declares itself a JSON Feed."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("version"), str)
        and value["version"].startswith(JSON_FEED_VERSION_PREFIX)
    )


def parse_json_feed(body: bytes, *, url: str, base: Optional[str] = None) -> ParsedFeed:
    """A JSON Feed's items as FeedEntries (`json_feed`); FeedRejected for bytes that are no JSON."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise FeedRejected("malformed_feed", f"{url} is not valid UTF-8 JSON: {error}") from None
    return json_feed(document, url=url, base=base)


def json_feed(document: object, *, url: str, base: Optional[str] = None) -> ParsedFeed:
    """A parsed JSON Feed document's items as FeedEntries; FeedRejected for JSON that is no JSON Feed.

    Items that are not objects are skipped and named, as a flawed XML feed's
    kept items are: one FeedProblem `malformed_json_feed_items_kept`.
    """
    if not is_json_feed(document):
        raise FeedRejected(
            "unsupported_format",
            f"{url} is JSON but no JSON Feed (no \"version\" starting {JSON_FEED_VERSION_PREFIX}); "
            "feeds are RSS, Atom, RDF or JSON Feed",
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedRejected("malformed_feed", f"{url} is a JSON Feed without an \"items\" array")
    link_base = base if is_web_url(base) else None

    def text(value: object) -> Optional[str]:
        return value.strip() or None if isinstance(value, str) else None

    def when(value: object) -> Optional[dt.datetime]:
        try:
            return parse_record_date(value) if isinstance(value, str) else None
        except ValueError:
            return None

    entries = []
    skipped = 0
    for item in items:
        if not isinstance(item, dict):
            skipped += 1
            continue
        link = text(item.get("url")) or text(item.get("external_url"))
        if link and link_base:
            link = urljoin(link_base, link)
        guid = item.get("id")
        candidates = [
            normalise_text(text(item.get("content_text")) or ""),
            html_to_text(text(item.get("content_html")) or ""),
            _detail_text(None, text(item.get("summary"))),
        ]
        title = text(item.get("title"))
        entries.append(
            FeedEntry(
                guid=str(guid).strip() or None if isinstance(guid, (str, int)) and not isinstance(guid, bool) else None,
                link=link,
                # Plain text by the spec, but written with entities by many generators.
                title=html_to_text(title) or None if title else None,
                text=max(candidates, key=len),
                published_at=when(item.get("date_published")) or when(item.get("date_modified")),
                declared_change=text(item.get("date_modified")) or text(item.get("date_published")) or "",
            )
        )
    problem = None
    if skipped:
        problem = FeedProblem(
            "malformed_json_feed_items_kept",
            f"{url}: {skipped} of {len(items)} items are not JSON objects; kept {len(entries)} items",
        )
    version = document["version"][len(JSON_FEED_VERSION_PREFIX):].strip("/")
    return ParsedFeed(
        title=text(document.get("title")),
        language=_language_code(text(document.get("language"))),
        format="json" + version.replace(".", ""),
        entries=tuple(entries),
        problem=problem,
    )


def record_from_entry(entry: FeedEntry, feed: ParsedFeed, text_date_window: int) -> ParsedRecord:
    """A saved feed's entry as one file-dump record (`transforms.read_files`).

    The text is the entry's own (content, else summary, else its headline
    alone when that is all the item says, as in a headline feed): a file
    reader fetches nothing, so linked pages are not read; `newsbeam run
    --feed URL` does that. Outlet and language as the poller takes them
    (the entry's <source>, else the feed's title, else the link's host; the
    feed's declared language). Date: the entry's own, else the text's and
    the link's evidence, as for a JSON record without a date field. Links
    that are not absolute http(s) URLs (relative ones in a feed with no
    xml:base) are not kept as the row's URL.
    """
    text = entry.text.strip() or (entry.title or "").strip()
    if not text:
        raise RefusedInput("missing_text", "the item has no title, content or summary")
    url = entry.link if is_web_url(entry.link) else None
    if entry.published_at is not None:
        evidence = DateEvidence(entry.published_at, "feed_item")
    else:
        evidence = date_from_text(text, text_date_window, url)
    return ParsedRecord(
        text=text,
        title=entry.title,
        url=url,
        outlet=entry.source or feed.title or url_host(url),
        published_at=evidence.published_at,
        date_source=evidence.date_source,
        language=feed.language,
        record_id=entry.guid,
    )


def feed_item(
    entry: FeedEntry,
    feed: ParsedFeed,
    *,
    feed_url: str,
    outlet: Optional[str],
    polled_at: dt.datetime,
    fetch_page: bool,
    respect_robots_txt: bool,
) -> FeedItem:
    return FeedItem(
        feed_url=feed_url,
        outlet=outlet or entry.source or feed.title or url_host(feed_url),
        guid=entry.guid,
        link=entry.link,
        title=entry.title,
        text=entry.text,
        published_at=entry.published_at,
        language=feed.language,
        entry_identity=entry.identity,
        polled_at=polled_at,
        fetch_page=fetch_page,
        respect_robots_txt=respect_robots_txt,
    )


# ---------------------------------------------------------------- pages


def decode_page(body: bytes, content_type: str = "") -> Union[str, bytes]:
    """Page text when its encoding is certain, else the bytes for trafilatura to sniff.

    Certain: a byte-order mark; valid UTF-8 (other encodings with non-ASCII
    bytes almost never are); or the header's charset when the bytes decode
    with it (ISO-8859-1 and ASCII read as Windows-1252, as browsers do).
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    if match:
        charset = match.group(1).lower()
        if charset in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            charset = "cp1252"
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return body


def extract_page(html: Union[str, bytes], url: Optional[str]) -> Optional[PageExtract]:
    """Main text and metadata of an article page (trafilatura), None when it has none.

    The same call newsbeam's file reader makes for HTML (`extract_page_document`).
    """
    document = extract_page_document(html, url)
    if document is None:
        return None
    text = normalise_text(document.text or "")
    if not text:
        return None
    return PageExtract(
        text=text,
        title=(document.title or "").strip() or None,
        date=document.date or None,
        sitename=(document.sitename or "").strip() or None,
    )


def article_from_item(
    item: FeedItem,
    *,
    text: str,
    content_source: str,
    ingested_at: dt.datetime,
    page: Optional[PageExtract] = None,
    page_url: Optional[str] = None,
) -> Article:
    """The Article for a feed item, from its page (`page`) or its own text."""
    published_at, date_source = choose_published_at(
        item.published_at,
        page_date(page.date, page_url or item.link) if page else None,
        item.polled_at,
        url_day(page_url) or url_day(item.link),
    )
    return Article(
        article_id=make_article_id(item.identity, text),
        url=page_url or item.link,
        outlet=item.outlet,
        title=item.title or (page.title if page else None),
        text=text,
        published_at=published_at,
        language=item.language,
        source_kind="feed",
        source_ref=item.source_ref,
        ingested_at=ingested_at,
        date_source=date_source,
        content_source=content_source,
    )


# ---------------------------------------------------------------- extraction helper process
#
# Page extraction runs in a child process (`python -m transforms.feed_items
# --serve-extractions`) so a page that takes too long can be stopped by
# killing the process; read_feeds.TimeLimitedExtractor is the parent side.
# Messages are pickles behind an 8-byte length; the child's real stdout is
# kept for them and Python's sys.stdout points at stderr, so a stray print in
# a library cannot corrupt the channel.
#
# Stopping. The run decides what a stop means, and the child leaves quietly.
# A terminal's Ctrl-C goes to the whole process group, the child included: it
# used to die of its own KeyboardInterrupt and print a traceback above the
# run's one-line message. So the child ignores SIGINT (the parent starts it
# with SIGINT blocked, `read_feeds.start_extraction_helper`, so not even its
# start-up can be interrupted) and ends when the parent says so (a None
# request), when its stdin closes (the parent exited or died), when a reply
# finds the parent gone, or, should a process that inherited the pipe keep
# stdin open, when the watch thread sees the parent gone. SIGTERM keeps its
# default action: it ends the child at once without a word, and a stop that
# reaches the child reaches the run too, which then publishes nothing of the
# interrupted work.

_LENGTH = struct.Struct(">Q")


def write_message(stream, value) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def read_exactly(stream, size: int) -> Optional[bytes]:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(stream):
    """The next message, or EOFError when the other side is gone."""
    header = read_exactly(stream, _LENGTH.size)
    if header is None:
        raise EOFError("extraction channel closed")
    payload = read_exactly(stream, _LENGTH.unpack(header)[0])
    if payload is None:
        raise EOFError("extraction channel closed mid-message")
    return pickle.loads(payload)


ORPHAN_CHECK_S = 1.0


def _leave_when_orphaned(parent_pid: int) -> None:
    """End this process once its parent is gone (it is re-parented: getppid changes).

    stdin's end of file says so too, but only when no other process holds the
    pipe's write end, and only between pages, not during a long extraction.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="newsbeam-extract-orphan-watch", daemon=True).start()


def serve_extractions() -> None:
    """Child side: answer (html, url) requests with ("ok", PageExtract | None) or ("error", text).

    Ends, with exit status 0 and nothing on stderr, on a None request, at end
    of file, or when the parent is gone; SIGINT does not end it ("Stopping" above).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        # The parent blocked SIGINT over the start; ignored now, a pending one is dropped.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _leave_when_orphaned(os.getppid())
    channel_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    channel_in = sys.stdin.buffer
    importlib.import_module("trafilatura")  # before "ready": outside any page's time limit

    # Run as `-m`, this file is `__main__`; the module's own copy of
    # extract_page returns PageExtract objects the parent can unpickle.
    from transforms.feed_items import extract_page as extract

    try:
        write_message(channel_out, "ready")
        while True:
            try:
                request = read_message(channel_in)
            except EOFError:
                return
            if request is None:
                return
            html, url = request
            try:
                reply = ("ok", extract(html, url))
            except Exception as error:  # reported to the parent, which refuses the page with this text
                reply = ("error", f"{type(error).__name__}: {error}")
            write_message(channel_out, reply)
    except BrokenPipeError:
        # The parent stopped reading: it is gone or killing this helper. At once, so
        # the unwritten reply left in the buffer is not flushed (and complained of) at exit.
        os._exit(0)


if __name__ == "__main__" and sys.argv[1:] == ["--serve-extractions"]:
    serve_extractions()
