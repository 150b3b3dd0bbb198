"""Wire formats of the news industry: IPTC NITF, NewsML-G2 and NewsML 1.x files as article records.

News agencies (AP, Reuters, AFP, dpa, ...) deliver their copy as IPTC XML:
NITF (News Industry Text Format) documents, or NewsML-G2 news items whose
content set carries the story as inline NITF or XHTML, several items often
wrapped in one `newsMessage`; older feeds and archives (and press-release
wires such as Business Wire) use NewsML 1.x, a `NewsML` document of
`NewsItem`s whose nested `NewsComponent`s each have a `Role` (the story body,
its headline, a caption, a contact block, a logo) and carry `ContentItem`s
(NITF, XHTML or plain text in `DataContent`, or a link to a photo or video).
A wire desk's dump folder holds such files. The Reuters Corpus (RCV1, and
the multilingual RCV2), the research collection of Reuters stories from
1996-97, keeps each story as one `newsitem` file in a NewsML-like format of its
own: text from the paragraphs of `text`, title from `headline` (its `title`
repeats it behind a slug, "MEXICO: ..."), date from `@date` (else
`dc.date.published`), outlet from `dc.source` (else `dc.publisher`), id from
`@itemid`, language from `@xml:lang` (`source_kind = rcv1`).

Field mapping (elements matched by local name, so NITF 3.x with or without its
2006 namespace and NewsML-G2 in any version read alike):

| field | NITF | NewsML-G2 news item |
| --- | --- | --- |
| text | paragraphs of `body.content` (`p`, list items, block quotes) | the inline NITF's or XHTML's paragraphs, else `inlineData`, else `contentMeta/description` |
| title | `body.head/hedline/hl1`, else `head/title` | `contentMeta/headline` |
| published | `docdata/date.issue@norm`, else `date.release@norm`, else `pubdata@date.publication` | `itemMeta/firstCreated`, else `contentMeta/contentCreated`, else `itemMeta/versionCreated` |
| outlet | `pubdata@name`, else `doc.copyright@holder`, else `distributor` | `itemMeta/provider` (its name, else `@literal`, else the code of its `@qcode`: "nprov:REUTERS" -> "REUTERS") |
| id | `docdata/doc-id@id-string` | `@guid` |
| language | `@xml:lang` of the root | `@xml:lang`, else `contentMeta/language@tag` |

NewsML 1.x, per `NewsItem`: text from the text `ContentItem`s (`MediaType`
Text, or a `text/*` MIME type) of the components whose `Role` is the story
(`Main`, `Body`), else of every component whose role is not a headline,
sub-headline, byline, dateline, caption, contact, style sheet, logo, credit,
abstract or note; title from the first `NewsLines/HeadLine`; published from
`NewsManagement/FirstCreated`, else `ThisRevisionCreated`; outlet from
`AdministrativeMetadata/Provider/Party@FormalName`, else the envelope's
`SentFrom/Party@FormalName`, else `ProviderId`; id from `PublicIdentifier`;
language from `DescriptiveMetadata/Language@FormalName`. An item that carries
only photos, graphics, video or audio is `not_text_item`.

Dates: ISO 8601 in either form, extended ("2016-10-18T13:12:21-05:00") or the
basic form NITF's `norm` attributes use ("20241129T170043Z", "20131026");
no offset means UTC. A news item that is not text (`itemClass` other than
`ninat:text`: a picture, a video, a graphic) is refused as `not_text_item`,
one dead letter per item, like a text item without any text (`missing_text`).

XML is parsed with lxml without entity resolution, DTD loading or network
access (an agency file is no reason to fetch anything); declared entities that
would expand past the limit are refused first (`xml_entity_expansion`, the
feeds' check), and a document that is not well-formed is `malformed_xml`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterator, Optional, Union

from lxml import etree

from transforms.decoding import RefusedInput
from transforms.dump_parsing import DateEvidence, ParsedRecord, date_from_text, normalise_language, parse_record_date
from transforms.feed_items import FeedRejected, check_entity_expansion

UTC = dt.timezone.utc
NITF_ROOT = "nitf"
# Elements whose text is a paragraph of the story.
_BLOCKS = ("p", "li", "blockquote", "hl2", "pre")
# Containers whose paragraphs are not the story: a photo's caption, a note at the end.
_NOT_STORY = frozenset({"media", "media-caption", "body.end", "table"})
NEWSML_1_ROOT = "NewsML"
RCV1_ROOT = "newsitem"  # the Reuters Corpus (RCV1, RCV2): one story per file
# NewsML 1.x components by Role: the story, and what is not the story (compared in lower case).
_STORY_ROLES = frozenset({"main", "body", "main text", "text"})
_NOT_STORY_ROLES = frozenset(
    {"headline", "subheadline", "byline", "dateline", "contact", "stylesheet", "caption", "logo", "credit",
     "copyright", "abstract", "summary", "note", "editorial note"}
)
_NOT_STORY_MIME = frozenset({"text/css", "text/javascript"})
_NOT_TEXT_MEDIA = frozenset({"photo", "graphic", "video", "audio", "animation", "picture"})
_BASIC_ISO = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})?)?$")
_SPACES = re.compile(r"\s+")

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def parse_news_xml(
    data: bytes, text_date_window: int, max_expansion_bytes: int = 10 * 2**20
) -> Iterator[Union[ParsedRecord, RefusedInput]]:
    """The stories of a NITF document (one) or of a NewsML-G2 item or message (one per news item).

    Declared entities that would expand past `max_expansion_bytes` are refused before
    parsing (`xml_entity_expansion`), as for feeds.
    """
    try:
        check_entity_expansion(data, max_expansion_bytes)
    except FeedRejected as rejected:
        raise RefusedInput(rejected.reason, rejected.detail) from None
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        raise RefusedInput("malformed_xml", f"not well-formed XML: {error}") from None
    if _local(root) == NITF_ROOT:
        yield _nitf_record(root, text_date_window)
        return
    if _local(root) == NEWSML_1_ROOT:
        yield from _newsml_1_records(root, text_date_window)
        return
    if _local(root) == RCV1_ROOT:
        yield _rcv1_record(root, text_date_window)
        return
    items = [root] if _local(root) == "newsItem" else list(_descendants(root, "newsItem"))
    if not items:
        raise RefusedInput("empty_file", "a NewsML-G2 message with no news item")
    for item in items:
        try:
            yield _news_item_record(item, text_date_window)
        except RefusedInput as refused:
            yield refused


# --- NITF --------------------------------------------------------------------


def _nitf_record(nitf: etree._Element, text_date_window: int) -> ParsedRecord:
    content = _first(nitf, "body.content")
    text = _paragraphs(content) if content is not None else ""
    if not text:
        raise RefusedInput("missing_text", "a NITF document whose body.content holds no text")
    title = _text_of(_first(_first(nitf, "hedline"), "hl1")) or _text_of(_first(_first(nitf, "head"), "title"))
    docdata = _first(nitf, "docdata")
    pubdata = _first(nitf, "pubdata")
    dates = [
        _attribute(_first(docdata, "date.issue"), "norm"),
        _attribute(_first(docdata, "date.release"), "norm"),
        _attribute(pubdata, "date.publication"),
    ]
    outlet = (
        _attribute(pubdata, "name")
        or _attribute(_first(docdata, "doc.copyright"), "holder")
        or _text_of(_first(nitf, "distributor"))
    )
    return ParsedRecord(
        text=text,
        title=title,
        url=None,
        outlet=outlet,
        **_dated(dates, text, text_date_window),
        language=normalise_language(_xml_lang(nitf)),
        record_id=_attribute(_first(docdata, "doc-id"), "id-string"),
    )


# --- NewsML-G2 ---------------------------------------------------------------


def _news_item_record(item: etree._Element, text_date_window: int) -> ParsedRecord:
    guid = item.get("guid")
    item_meta = _first(item, "itemMeta")
    content_meta = _first(item, "contentMeta")
    item_class = _attribute(_first(item_meta, "itemClass"), "qcode")
    if item_class and item_class.rsplit(":", 1)[-1] != "text":
        raise RefusedInput("not_text_item", f"news item {guid or '?'} is {item_class}, not text")
    text = _item_text(item) or _text_of(_first(content_meta, "description"))
    if not text:
        raise RefusedInput("missing_text", f"news item {guid or '?'} carries no text")
    dates = [
        _text_of(_first(item_meta, "firstCreated")),
        _text_of(_first(content_meta, "contentCreated")),
        _text_of(_first(item_meta, "versionCreated")),
    ]
    return ParsedRecord(
        text=text,
        title=_text_of(_first(content_meta, "headline")),
        url=None,
        outlet=_provider(_first(item_meta, "provider")),
        **_dated(dates, text, text_date_window),
        language=normalise_language(_xml_lang(item) or _attribute(_first(content_meta, "language"), "tag")),
        record_id=guid,
    )


def _item_text(item: etree._Element) -> str:
    content_set = _first(item, "contentSet")
    if content_set is None:
        return ""
    for inline in _descendants(content_set, "inlineXML"):
        body = _first(inline, "body.content")
        if body is None:
            body = _first(inline, "body")
        if body is not None:
            text = _paragraphs(body)
            if text:
                return text
    for inline in _descendants(content_set, "inlineData"):
        text = _plain_paragraphs(inline.text)
        if text:
            return text
    return ""


def _provider(provider: Optional[etree._Element]) -> Optional[str]:
    if provider is None:
        return None
    return _text_of(_first(provider, "name")) or provider.get("literal") or _code(provider.get("qcode"))


def _code(qcode: Optional[str]) -> Optional[str]:
    """"nprov:REUTERS" -> "REUTERS"; "web:www.xmlteam.com" -> "www.xmlteam.com"."""
    return qcode.split(":", 1)[-1] or None if qcode else None


# --- NewsML 1.x ---------------------------------------------------------------


def _newsml_1_records(newsml: etree._Element, text_date_window: int) -> Iterator[Union[ParsedRecord, RefusedInput]]:
    items = list(_descendants(newsml, "NewsItem"))
    if not items:
        raise RefusedInput("empty_file", "a NewsML 1.x document with no news item")
    sender = _attribute(_first(_first(_first(newsml, "NewsEnvelope"), "SentFrom"), "Party"), "FormalName")
    for item in items:
        try:
            yield _newsml_1_record(item, sender, text_date_window)
        except RefusedInput as refused:
            yield refused


def _newsml_1_record(item: etree._Element, sender: Optional[str], text_date_window: int) -> ParsedRecord:
    identifier = _first(_first(item, "Identification"), "NewsIdentifier")
    public_id = _text_of(_first(identifier, "PublicIdentifier"))
    contents = [content for content in _descendants(item, "ContentItem") if _role_of(content) not in _NOT_STORY_ROLES]
    texts = [content for content in contents if _is_text_content(content)]
    bodies = [content for content in texts if _role_of(content) in _STORY_ROLES] or texts
    text = "\n\n".join(part for part in (_content_text(content) for content in bodies) if part)
    if not text:
        if any(_media_type(content) in _NOT_TEXT_MEDIA for content in contents):
            raise RefusedInput("not_text_item", f"news item {public_id or '?'} carries no text, only media")
        raise RefusedInput("missing_text", f"news item {public_id or '?'} carries no text")
    management = _first(item, "NewsManagement")
    dates = [_text_of(_first(management, "FirstCreated")), _text_of(_first(management, "ThisRevisionCreated"))]
    provider = _first(_first(_first(item, "AdministrativeMetadata"), "Provider"), "Party")
    return ParsedRecord(
        text=text,
        title=_text_of(_first(_first(item, "NewsLines"), "HeadLine")) or _text_of(_first(item, "HeadLine")),
        url=None,
        outlet=_attribute(provider, "FormalName") or sender or _text_of(_first(identifier, "ProviderId")),
        **_dated(dates, text, text_date_window),
        language=normalise_language(_attribute(_first(_first(item, "DescriptiveMetadata"), "Language"), "FormalName")),
        record_id=public_id,
    )


def _role_of(content: etree._Element) -> Optional[str]:
    """The Role of the nearest NewsComponent around a ContentItem that names one, lower case."""
    for component in content.iterancestors():
        if _local(component) == "NewsComponent":
            role = _attribute(next((child for child in component if _local(child) == "Role"), None), "FormalName")
            if role:
                return role.lower()
    return None


def _media_type(content: etree._Element) -> str:
    """"text", "photo", "video", ... from MediaType, else from the MIME type's first half."""
    media = _attribute(_first(content, "MediaType"), "FormalName")
    if media:
        return media.lower()
    mime = (_attribute(_first(content, "MimeType"), "FormalName") or "").lower()
    return {"image": "photo"}.get(mime.split("/", 1)[0], mime.split("/", 1)[0])


def _is_text_content(content: etree._Element) -> bool:
    mime = (_attribute(_first(content, "MimeType"), "FormalName") or "").lower()
    return _media_type(content) == "text" and mime not in _NOT_STORY_MIME and _first(content, "DataContent") is not None


def _content_text(content: etree._Element) -> str:
    data = _first(content, "DataContent")
    body = _first(data, "body.content")
    if body is None:
        body = _first(data, "body")
    if body is not None:
        return _paragraphs(body)
    if len(data):
        return _paragraphs(data)
    return _plain_paragraphs(data.text)


# --- Reuters Corpus (RCV1, RCV2) ------------------------------------------------


def _rcv1_record(item: etree._Element, text_date_window: int) -> ParsedRecord:
    text = _paragraphs(_first(item, "text")) if _first(item, "text") is not None else ""
    if not text:
        raise RefusedInput("missing_text", f"Reuters item {item.get('itemid') or '?'} has no text")
    published = {element.get("element"): element.get("value") for element in _descendants(item, "dc")}
    return ParsedRecord(
        text=text,
        # <title> repeats the headline behind a country or topic slug ("MEXICO: ...").
        title=_text_of(_first(item, "headline")) or _text_of(_first(item, "title")),
        url=None,
        outlet=published.get("dc.source") or published.get("dc.publisher"),
        **_dated([item.get("date"), published.get("dc.date.published")], text, text_date_window),
        language=normalise_language(_xml_lang(item)),
        record_id=item.get("itemid"),
    )


# --- shared ------------------------------------------------------------------


def _dated(values: list[Optional[str]], text: str, text_date_window: int) -> dict:
    """published_at and date_source from the first of `values` that parses, else the text's evidence."""
    present = [value for value in values if value]
    for value in present:
        moment = parse_news_date(value)
        if moment is not None:
            return {"published_at": moment, "date_source": "record"}
    if present:
        return {"published_at": None, "date_source": "invalid_record_date"}
    evidence: DateEvidence = date_from_text(text, text_date_window, None)
    return {"published_at": evidence.published_at, "date_source": evidence.date_source}


def parse_news_date(value: str) -> Optional[dt.datetime]:
    """An IPTC date, ISO 8601 extended or basic ("20241129T170043Z", "20131026"), as UTC."""
    value = value.strip()
    basic = _BASIC_ISO.match(value)
    if basic:
        year, month, day, hour, minute, second, zone = basic.groups()
        try:
            moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            return None
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
            return (moment - sign * offset).replace(tzinfo=UTC)
        return moment.replace(tzinfo=UTC)
    try:
        return parse_record_date(value)
    except ValueError:
        return None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _descendants(element: Optional[etree._Element], name: str) -> Iterator[etree._Element]:
    if element is None:
        return iter(())
    return (child for child in element.iter() if _local(child) == name)


def _first(element: Optional[etree._Element], name: str) -> Optional[etree._Element]:
    return next(iter(_descendants(element, name)), None)


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _plain_paragraphs(text: Optional[str]) -> str:
    """Plain text carried in XML (NewsML inline data), its blank-line paragraphs kept, each on one line."""
    return "\n\n".join(line for line in (_clean(part) for part in (text or "").split("\n\n")) if line)


def _text_of(element: Optional[etree._Element]) -> Optional[str]:
    if element is None:
        return None
    return _clean("".join(element.itertext())) or None


def _attribute(element: Optional[etree._Element], name: str) -> Optional[str]:
    if element is None:
        return None
    return (element.get(name) or "").strip() or None


def _xml_lang(element: etree._Element) -> Optional[str]:
    return element.get("{http://www.w3.org/XML/1998/namespace}lang")


def _paragraphs(container: etree._Element) -> str:
    """The story's paragraphs, in order, blank-line separated; the container's text when it has none."""
    blocks = [child for child in container.iter() if _local(child) in _BLOCKS]
    # The innermost blocks are the paragraphs (the p's of a blockquote, not the quote as one).
    innermost = [
        block
        for block in blocks
        if not any(_local(inner) in _BLOCKS for inner in block.iterdescendants())
        and not any(_local(parent) in _NOT_STORY for parent in block.iterancestors())
    ]
    paragraphs = [text for text in (_text_of(block) for block in innermost) if text]
    return "\n\n".join(paragraphs) if paragraphs else (_text_of(container) or "")
