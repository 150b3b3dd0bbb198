"""IPTC ninjs (News in JSON) records as article records, every version of it.

ninjs is how agencies and newsroom systems hand out news items as JSON (AP's
media API, dpa, NTB, TT, Superdesk). Its versions name the same things
differently, and a JSON dump may hold any of them:

| field | ninjs 1.x | ninjs 2.x / 3.x |
| --- | --- | --- |
| text | `body_text`, else `body_html` / `body_xhtml` (markup to paragraphs) | `bodies` (an array of `{role, contenttype, value}`: a plain-text story body before a markup one; summaries, abstracts, teasers and captions are not the story), else `descriptions` (same shape) |
| title | `headline` | `headlines` (the one with role `main`, else the first) |
| published | `firstcreated`, else `contentcreated`, else `versioncreated` | same |
| outlet | `copyrightholder`, else the first named `infosource` | `copyrightholder`, else the first named of `infosources` |
| language, id | `language`, `uri` | same |

Property names are matched without regard to case: the 2.x schema writes
`versioncreated` and `contenttype`, while IPTC's 3.0 examples (and providers)
write `versionCreated` and `contentType`. The first-created time comes first,
as for NewsML-G2 (`transforms.news_xml`): a wire story's later versions keep
the time it was first sent, which is what "how late did they carry it" is
measured from. A record's own plain fields (`text`, `url`, `outlet`, ...) still
win; the mapping only fills what they leave empty, and the result goes through
`dump_parsing.parse_json_record` (its date, outlet and id rules).

An item whose `type` is `picture`, `graphic`, `video` or `audio` is not a story
(`not_text_item`, as for NewsML-G2), whatever caption it carries; a text item
with no body at all is `missing_text`.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from transforms.decoding import RefusedInput
from transforms.dump_parsing import (
    DATE_FIELDS,
    TEXT_FIELDS,
    ParsedRecord,
    parse_json_record,
    parse_record_date,
    search_hit_source,
)
from transforms.feed_items import html_to_text

NOT_TEXT_TYPES = frozenset({"picture", "graphic", "video", "audio"})
# Roles of a body or description that are not the story itself.
_NOT_STORY_ROLES = frozenset({"summary", "abstract", "teaser", "caption", "creditline", "ednote", "note", "alt"})
_MARKUP_BODIES = ("body_html", "body_xhtml")
_DATES = ("firstcreated", "contentcreated", "versioncreated")
_PLAIN_DATES = tuple(name for name in DATE_FIELDS if name not in _DATES)
# Properties only ninjs gives a news item: with a `uri`, any of them marks a record as ninjs.
_NINJS_ONLY = frozenset(
    {"bodies", "headlines", "descriptions", "infosources", "copyrightholder", "pubstatus", "representationtype",
     "infosource", "standard", "$standard", "versioncreated", "firstcreated", "contentcreated", "body_text",
     "body_html", "body_xhtml"}
)


def is_ninjs(record: dict) -> bool:
    if not isinstance(record.get("uri"), str):
        return False
    return any(isinstance(key, str) and key.lower() in _NINJS_ONLY for key in record)


def parse_news_json(record: dict, text_date_window: int) -> ParsedRecord:
    """A JSON object's article fields: ninjs read as ninjs, any other record by its plain fields
    (a search engine's hit by its `_source`)."""
    record = search_hit_source(record)
    if is_ninjs(record):
        record = plain_fields(record)
    return parse_json_record(record, text_date_window)


def plain_fields(record: dict) -> dict:
    """The record with the ninjs properties it carries copied under the plain field names."""
    fields = {key.lower(): value for key, value in record.items() if isinstance(key, str)}
    kind = fields.get("type")
    if isinstance(kind, str) and kind.lower() in NOT_TEXT_TYPES:
        raise RefusedInput("not_text_item", f"ninjs item {record['uri']} is a {kind.lower()}, not text")
    plain = dict(record)
    if not _has_text(record):
        text = _story_text(fields)
        if not text:
            raise RefusedInput(
                "missing_text", f"ninjs item {record['uri']} has no story text (body_text, body_html, bodies)"
            )
        plain["text"] = text
    # ninjs's `title` is a short name for the item, its headline is `headline(s)`.
    headline = fields.get("headline") or _main_value(fields.get("headlines"))
    if isinstance(headline, str) and headline.strip():
        plain["title"] = headline
    dates = [fields[name] for name in _DATES if fields.get(name) not in (None, "")]
    if dates and not any(record.get(name) not in (None, "") for name in _PLAIN_DATES):
        # The first that parses, as for NewsML-G2; if none does, the first (an invalid_record_date).
        plain["published"] = next((date for date in dates if _parses(date)), dates[0])
    plain.setdefault(
        "outlet",
        fields.get("copyrightholder") or _first_name(fields.get("infosources")) or _first_name(fields.get("infosource")),
    )
    plain.setdefault("language", fields.get("language"))
    return plain


def _parses(date: Any) -> bool:
    try:
        parse_record_date(date)
    except ValueError:
        return False
    return True


def _has_text(record: dict) -> bool:
    return any(isinstance(record.get(name), str) and record[name].strip() for name in TEXT_FIELDS)


def _story_text(fields: dict) -> Optional[str]:
    for name in _MARKUP_BODIES:
        value = fields.get(name)
        if isinstance(value, str) and (text := html_to_text(value)):
            return text
    for name in ("bodies", "descriptions"):
        bodies = [body for body in _objects(fields.get(name)) if _role(body) not in _NOT_STORY_ROLES]
        # A plain-text body needs no conversion and keeps its own line breaks.
        for body in sorted(bodies, key=_is_markup):
            text = _body_text(body)
            if text:
                return text
    return None


def _body_text(body: dict) -> Optional[str]:
    value = _value(body)
    if value is None:
        return None
    return html_to_text(value) if _is_markup(body) else value.strip() or None


def _is_markup(body: dict) -> bool:
    content_type = next((str(value).lower() for key, value in body.items() if key.lower() == "contenttype"), "")
    value = _value(body) or ""
    return "html" in content_type or "xml" in content_type or _role(body) in ("html", "xhtml") or value.lstrip().startswith("<")


def _main_value(items: Any) -> Optional[str]:
    objects = [item for item in _objects(items) if _value(item)]
    main = next((item for item in objects if _role(item) == "main"), objects[0] if objects else None)
    return _value(main).strip() if main else None


def _first_name(items: Any) -> Optional[str]:
    return next((item["name"] for item in _objects(items) if isinstance(item.get("name"), str) and item["name"].strip()), None)


def _objects(items: Any) -> Iterable[dict]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _role(item: dict) -> Optional[str]:
    role = item.get("role")
    return role.lower() if isinstance(role, str) else None


def _value(item: dict) -> Optional[str]:
    value = item.get("value")
    return value if isinstance(value, str) and value.strip() else None
