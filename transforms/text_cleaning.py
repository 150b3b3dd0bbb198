"""Cleaning rules for article text, title, language and wire agency (no Beam here).

`clean_article(article, settings)` applies, in order, the rules below and
returns either a `CleanedArticle` or a `Rejection` with a stable reason code.
`transforms/clean.py` wraps it in the `CleanArticles` stage; every rule is a
pure function so it can be tested with before/after pairs.

1. Unicode (`normalize_unicode`). `ftfy.fix_text` repairs mojibake
   ("Trumpâ€™s" -> "Trump’s"), HTML entities in plain text, C1 controls,
   ligatures and full-width Latin; curly quotes are kept as written (they are
   part of the article, and tokenisers downstream split on them anyway).
   U+FFFD (what decoding made of bad bytes) stays, and so do the characters
   beside it: ftfy reads "é" + U+FFFD U+FFFD as a three-byte UTF-8 character
   whose last two bytes were lost and turns all three into one U+FFFD
   ("café\ufffd\ufffd" -> "caf\ufffd"), so ftfy never sees such a run
   (`_fix_text_keeping_replacements`). It still sees a run that ends a
   UTF-8 sequence read as Windows-1252 of which more than the first byte
   survived ("â€" + U+FFFD, the mojibake of a closing quote "”"): nothing
   valid is lost there, and ftfy leaves one U+FFFD for the lost character.
   Vertical tabs become line breaks and form feeds paragraph breaks (before
   ftfy, which would delete them). Then no-break and other Unicode spaces
   (U+00A0, U+2000-U+200A, U+202F, U+205F, U+3000, U+1680) and tabs become a
   plain space; zero-width space U+200B, word joiner U+2060,
   byte-order mark U+FEFF, soft hyphen U+00AD and U+180E are deleted; every
   other control character (Unicode category Cc except the newline) is
   deleted. Zero-width (non-)joiners U+200C/U+200D and bidi marks are kept:
   they carry meaning in Indic, Persian and Arabic script and in emoji.
   A "?" between a letter and a contraction or possessive ending ("it?s",
   "Bush?s", "don?t", "I?m") is an apostrophe lost to an ASCII conversion
   and becomes "’" (213 in 10 of the 1,983 reprint-set articles; the
   tagger read "George W. Bush?s" as a name). Only after a word of two
   letters or "I" and before a space or closing punctuation: not a URL's
   query string ("?s=news") nor code ("a?t:b"). The result is NFC.
2. Whitespace (`normalize_whitespace`). Inside a line, runs of spaces become
   one space and lines are stripped. A paragraph is a block of consecutive
   non-blank lines; paragraphs are separated by exactly one blank line
   ("\\n\\n"). Single line breaks inside a block are KEPT, not joined: the
   input cannot tell a hard-wrapped paragraph from the layouts we actually get
   (one paragraph per line in seeds 003 and 004, one sentence per line in
   ECB+), and joining would erase those paragraph and sentence boundaries,
   which the title rule and the line-level debris rules rely on. The text
   of an extracted page (`content_source` "page": an HTML file or a feed's
   linked page) is the exception: trafilatura writes one paragraph, list
   item or table row per line, so each line there is a paragraph
   (`lines_as_paragraphs`; before, 589 of the 615 real pages of
   ../shared/data came out as one paragraph). Titles are
   normalised to one line (`normalize_inline`).
3. Social-embed debris (`remove_social_debris`), line by line:
   - an embedded post ends with its credit line, `… — Name (@handle) Month D,
     YYYY` (or `D Month YYYY`) at the end of the line: that line is removed;
   - the post's earlier paragraphs are removed with it, walking backwards over
     the directly preceding non-blank lines while ALL of these hold: the line
     carries a post marker (an @handle, a #hashtag or a link), except the line
     right above a credit that stands alone on its line with no blank line
     between them (that line is the post's text); the post's text so far plus
     this line stays within `tweet_max_chars` (280, the post length limit;
     links and the credit are not counted); the line does not
     end with ":" (the article introducing the embed); the line has no
     reported-speech attribution after a closing quote (`…,” Singh wrote`,
     which is the article narrating the post); it is not another post's
     credit line. So a post paragraph without any marker stays in the text:
     we prefer leaving a little debris to deleting an article sentence;
   - a line that starts with a hashtag and a pipe (`#WATCH | …`) is an
     agency's video-post header: removed;
   - `pic.twitter.com/…` and `https://t.co/…` links are deleted wherever they
     occur (they carry no article content), and a line made only of them is
     removed; other links are left alone (a venue's web address is content).
4. Boilerplate lines (`remove_boilerplate_lines`): a line is removed only when
   the WHOLE line matches one of `BOILERPLATE_LINE_PATTERNS` ("Also Read: …",
   "ALSO READ | …", "Read more: …", "Follow us on …", "Click here to …",
   newsletter sign-ups, "Advertisement", page labels ("STORY HIGHLIGHTS",
   "Buy Now", "Related stories"), "(This story has not been edited by
   … staff and is auto-generated from a syndicated feed.)"), and the page
   furniture of real pages: copyright notices (a line that starts with "©",
   or "Copyright" and "©" or a year: "Copyright © 2005 The Associated Press.
   All rights reserved. The information contained in …", "© 2017
   USATODAY.COM"), comment-thread labels ("Comments", "Leave a comment",
   "Comments on this story are closed. …"), paywall and channel promos
   ("Subscribe to … for unlimited access to our journalism.", "Subscribe to
   9to5Mac on YouTube …"), tip lines ("Have a news tip? Email …"), app
   promos, an author's or outlet's handle ("Follow me: @evanhalper", "Follow
   Mike Wall on Twitter @michaeldwall …"), and the NYT's and BBC's widget
   labels ("Continue reading the main story", "“Start Quote"). A line
   in a one-row table ("| ADVERTISEMENT |") is matched without its cell
   borders, and a line with no letter or digit at all ("| | |",
   "|---|---|", "___", "–") is a table border or rule and goes too. Each
   pattern caps the line length, and all but the headline announcers ("Also
   read:"), the disclaimer, copyright notices, closed-comments notes, tip
   lines and handle lines require the line to be one sentence. So "Click here to
   read more. The minister said …" survives, and so does a real sentence that
   merely starts with such words ("Copyright law has not kept up …",
   "Comments from the minister came …", "Follow the money, …"). In the
   reprint set, the HTML pages of ../shared/data and the seeds (2,603 rows),
   these rules took 830 lines out of 453 rows. Wire credits ("(IANS)", "PTI", "— ANI",
   "(With inputs from agencies)") are never boilerplate: `detect_wire_agency`
   reads them; a removed copyright notice is read for one too ("Copyright
   2005 The Associated Press" credits AP) when the text itself has none. Inside a line, a clip promo with its running time, "(Watch
   Rita's threat to refineries -- 2:43)", "(See aerial video of the
   aftermath -- 3:02)", is deleted (`remove_media_promos`): 45 in 13 of the 1,983
   reprint-set articles, where the small model read "Watch Rita" as a
   person. A time stamp among the first `LEAD_TIME_STAMP_LINES` (5) non-blank
   lines goes too: "Fri Aug 9, 2019 9:55pm EDT", "PUBLISHED: 22:07 GMT, 7
   July 2012 | UPDATED: 22:07 GMT, 7 July 2012", "First Posted: 10 / 25 / 11
   06:44 PM ET", that is a line with a month, a year, a clock or a numeric
   date and no word but those of a time stamp (`is_time_stamp`, the test rule
   6 puts a given title to; "5 - 3" is a score, "Reuters Sep 18, 2013" a
   credit). The row's `published_at` says when, and the readers take a date
   from the text before cleaning. In the 1,983 reprint-set articles this takes
   361 lines out of 349 texts (one in six had one in its lead). Only in the lead:
   further down, a line of dates can be content (a schedule).
5. Markdown emphasis (`strip_markdown_emphasis`): `*x*`, `**x**`, `***x***`
   lose their marks, keeping the words. A span opens with 1-3 asterisks that
   follow a line start, a space or punctuation (never a letter or digit) and
   are followed by a non-space; it closes with the same number of asterisks on
   the same line, preceded by a non-space and followed by a line end, a space
   or punctuation. So bullets (`* item`), arithmetic (`2 * 3`, `2*3*4`),
   censoring (`f**k`) and footnote markers (`Revenue*`, a line `*Excluding
   tax`) are left alone. Underscore emphasis is not touched: underscores
   occur in handles, file names and identifiers far more than as emphasis.
6. Title (`derive_title`), only when the record has none: the first of the
   first three non-blank lines that, once a leading dateline ("Kuala Lumpur,
   Oct 31", "WASHINGTON (AP) —", "Kuala Lumpur |") is cut off, has at least
   three words and is neither a byline ("By …", "… Staff", "… Correspondent")
   nor a time stamp ("Updated Saturday, December 05, 2009 8:28 PM": fewer
   than two words left once dates, times and "Updated/Published/at/on" are
   taken out). Its first sentence is the title, trailing commas and colons cut
   (a trailing full stop after a lower-case letter, digit or quote dropped);
   a sentence longer than `title_max_chars` is cut at the last word boundary
   that fits, with "…". A given title that is only a time stamp ("Posted
   11 / 27 / 2005 7:21 AM", "18 September 2013 Last updated at 13:59 GMT":
   a digit, and no word but those of a time stamp, so not "Euro 2016") is
   no headline: scrapers take it from the page's first line. The title is
   derived instead, as if there were none (106 of the 1,935 given titles of
   ../shared/data's ECB+ and reprint files are such stamps). Otherwise a
   given title is only normalised (Unicode, whitespace, emphasis marks) and
   loses a trailing site name: " - BBC News", " | ZDNet" (after " - ", " – ",
   " — ", " | ", " :: " or " · "), when it is the article's own outlet,
   compared without case, or the outlet written another way ("| The Boston
   Globe" for "BostonGlobe.com", "| The Ithacan" for "IthacanOnline",
   "| Portland Press Herald" for "Press Herald": compared without case,
   punctuation, "The" and a domain ending) or the URL's host ("|
   Globalnews.ca"); a leading domain-like outlet ("CNN.com - …") and a
   trailing date ("… - Sep 22, 2005") go too (`without_outlet_suffix`).
   Page titles and aggregators add it; it is not the headline, and it would
   keep two outlets' copies of one headline apart. When the text's first
   non-blank line is the given title again (compared as titles are
   normalised, without case: a scraper's text that starts with the headline;
   327 of the 1,983 reprint-set articles, 11 more kept by the full-stop rule), that
   line leaves the text (`without_repeated_title`): the row has its title
   already, and the text should begin with the article. Not when the line
   ends with a full stop (a lead sentence that a scraper took for the title,
   as in 7_4ecbplus: the text would lose its first sentence), nor when what
   is left would be too short to keep.
7. Language (`identify_language`): py3langid (a naive Bayes model over byte
   n-grams, loaded once per process by `language_identifier()`) on the
   cleaned text, with probabilities normalised. Its answer is used when the
   text has at least `language_min_chars` letters (default 40: below that the
   model's calibrated confidence on real sentences drops under 0.5) and its
   confidence reaches `language_min_confidence`; otherwise the record's own
   language (reduced to its primary subtag, "en-GB" -> "en") is kept, or None.
8. Wire agency (`detect_wire_agency`): only the first and last
   `agency_window_chars` characters (widened to whole lines, by at most 250
   characters, so a credit line the cut falls in is read whole) are read, where
   datelines and credits live, and only credit FORMS count, never a bare
   mention ("told Reuters" is not a credit). Forms, in `CREDIT_PATTERNS`:
   "(With inputs from PTI)" / "(Source: AFP)" anywhere; a bare "(PTI)" /
   "(Reuters Life!)" / "(Reuters, AP)" only where a credit stands, that is at
   a line start, after a dateline ("NEW DELHI, Oct 31 (PTI)"), before a
   separator ("WASHINGTON (AP) —") or closing a line after a sentence ("…
   he said. (IANS)"), because inside a sentence it is usually an acronym
   ("Pakistan Tehreek-e-Insaf (PTI) chairman");
   a line ending "— ANI" / "- Reuters"; a line "By Reuters" / "From AFP" /
   "Source: PTI"; "Associated Press contributed to this report" / "Contributing
   to this report were Associated Press writers …" / "… contributed by X of The
   Associated Press"; "Copyright 2005 The Associated Press" / "© Reuters"; a
   line that is only the agency name, optionally with desk initials ("PTI SK
   RT") or a date stamp ("Reuters Sep 18, 2013"); a line ending with the
   agency name right after a sentence ("… he said. PTI"). `WIRE_AGENCIES` maps each agency's names to one
   canonical name; abbreviations match case-sensitively ("AP", not "ap"), and
   "AAP" / "CP" are left out (Aam Aadmi Party, communist parties). The
   first credit in the head wins, then the first in the tail. Post credits
   (`— ANI (@ANI) October 31, 2025`) are embed debris, removed before this
   runs, and a dash credit must end its line, so they never count.
9. Rejections: no word left after cleaning -> `empty_after_clean`; fewer than
   `min_words` words -> `too_short`. Words are `\\w+` runs, except that each
   character of a script written without spaces (Chinese, Japanese kana, Thai,
   Lao, Myanmar, Khmer) counts as one word.

Run the rules' tests with:
    .venv/bin/pytest tests/test_text_cleaning.py
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Optional, Protocol

import ftfy

from transforms.schema import Article
from transforms.urls import url_host

# ---------------------------------------------------------------------------
# 1-2. Unicode and whitespace

_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, explain=False)

# A vertical tab is a manual line break (word processors export Shift+Enter so);
# a form feed is a page break, so it ends a paragraph.
_LINE_BREAK_CONTROLS = str.maketrans({"\v": "\n", "\f": "\n\n"})

_SPACE_LIKE = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_INVISIBLE = "\u200b\u2060\ufeff\u00ad\u180e"
_SPACE_AND_INVISIBLE_MAP = str.maketrans(
    {**{ch: " " for ch in _SPACE_LIKE}, **{ch: None for ch in _INVISIBLE}}
)

_HORIZONTAL_SPACE_RUN = re.compile(r" {2,}")


# Unicode category Cc (C0, DEL, C1) except the newline.
_CONTROL_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


# "it?s", "Bush?s", "I?m": an apostrophe lost to an ASCII conversion, which ftfy cannot bring
# back (the character is gone). After a word of two letters or "I", and before an ending that
# closes the word as prose does, so not a query string ("?s=news") nor code ("a?t:b", "x?s(y)").
_LOST_APOSTROPHE = re.compile(
    r"(?:(?<=[^\W\d_]{2})|(?<=\bI))\?(?=(?:s|t|re|ve|ll|d|m)(?:[\s,;!?\"”’)]|\.(?:\s|$)|$))"
)


_REPLACEMENT_RUN = re.compile("\ufffd+")


def _windows_1252_byte(char: str) -> Optional[int]:
    """The byte a character stands for when UTF-8 was read as Windows-1252 (C1 controls as Latin-1)."""
    try:
        encoded = char.encode("cp1252")
    except UnicodeEncodeError:
        return ord(char) if 0x80 <= ord(char) <= 0x9F else None
    return encoded[0] if len(encoded) == 1 else None


def _ends_mojibake_with_lost_bytes(text: str, run_start: int) -> bool:
    """Whether the U+FFFD run at `run_start` completes a mis-decoded UTF-8 character.

    True when the characters before it are a UTF-8 lead byte and at least one
    continuation byte as Windows-1252 shows them, fewer than the lead byte
    announces ("â€" of "”", E2 80 9D, its 9D lost): only mojibake looks so.
    A lone lead byte ("é" = E9, "Ã" = C3) is as likely a real letter beside bad
    bytes, and is kept.
    """
    continuations = 0
    position = run_start - 1
    while position >= 0 and continuations < 3:
        byte = _windows_1252_byte(text[position])
        if byte is None or not 0x80 <= byte <= 0xBF:
            break
        continuations += 1
        position -= 1
    if continuations == 0 or position < 0:
        return False
    lead = _windows_1252_byte(text[position])
    if lead is None:
        return False
    length = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    return continuations < length - 1


def _fix_text_keeping_replacements(text: str) -> str:
    """ftfy.fix_text, on the stretches between runs of U+FFFD that follow valid text (module rule 1)."""
    if "\ufffd" not in text:
        return ftfy.fix_text(text, _FTFY_CONFIG)
    pieces: list[str] = []
    start = 0
    for run in _REPLACEMENT_RUN.finditer(text):
        if _ends_mojibake_with_lost_bytes(text, run.start()):
            continue  # ftfy's to repair, with the text before it
        pieces.append(ftfy.fix_text(text[start : run.start()], _FTFY_CONFIG))
        pieces.append(run.group())
        start = run.end()
    pieces.append(ftfy.fix_text(text[start:], _FTFY_CONFIG))
    return "".join(pieces)


def normalize_unicode(text: str) -> str:
    """Mojibake repaired, odd spaces made plain, invisible and control characters gone, NFC."""
    text = text.translate(_LINE_BREAK_CONTROLS)
    text = _fix_text_keeping_replacements(text)
    text = _LOST_APOSTROPHE.sub("’", text)
    text = text.translate(_SPACE_AND_INVISIBLE_MAP)
    text = _CONTROL_CHARS.sub("", text)
    return unicodedata.normalize("NFC", text)


def normalize_whitespace(text: str) -> str:
    """Lines stripped and single-spaced; paragraphs separated by exactly one blank line."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for raw_line in text.split("\n"):
        line = _HORIZONTAL_SPACE_RUN.sub(" ", raw_line).strip()
        if line:
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return "\n\n".join("\n".join(lines) for lines in paragraphs)


def normalize_text(text: str) -> str:
    return normalize_whitespace(normalize_unicode(text))


WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def mostly_capitalised(words: list[str]) -> bool:
    """Whether a line's words are mostly capitalised, as in a Title Case headline or a byline.

    Three alphabetic words at least, over 60% of them capitalised: prose
    capitalises a name or two per sentence, a headline nearly every word.
    """
    alphabetic = [w for w in words if w[0].isalpha()]
    return len(alphabetic) >= 3 and sum(w[0].isupper() for w in alphabetic) > 0.6 * len(alphabetic)


def normalize_inline(text: str) -> str:
    """One line: Unicode normalised and every whitespace run made one space."""
    return " ".join(normalize_unicode(text).split())


# ---------------------------------------------------------------------------
# 3. Social-embed debris

_MONTH_NAME = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
# "— Rajnath Singh (@rajnathsingh) October 31, 2025" closing an embedded post.
_POST_CREDIT = re.compile(
    r"(?:^|\s)(?:—|–|-{1,2})\s*[^\n()]{1,80}?\s*\(@\w{1,15}\)\s*"
    rf"(?:{_MONTH_NAME}\s+\d{{1,2}},\s*\d{{4}}|\d{{1,2}}\s+{_MONTH_NAME}\s+\d{{4}})\s*$"
)
_POST_HEADER = re.compile(r"^#\w+\s*\|")
_EMBED_LINK = re.compile(r"(?:https?://)?(?:pic\.twitter\.com|t\.co)/\w+")
_ANY_LINK = re.compile(r"(?:https?://|www\.)\S+|(?:pic\.twitter\.com|t\.co)/\w+")
_POST_MARKER = re.compile(
    r"(?<![\w.@])@\w{1,15}\b|(?<![\w&#])#[^\W\d_]\w*|(?:https?://|www\.)\S+|pic\.twitter\.com/\w+"
)
_REPORTED_POST = re.compile(
    r"[”\"’],?\s+(?:\S+\s+){0,4}?"
    r"(?:said|says|wrote|writes|posted|posts|tweeted|tweets|added|adds|stated|states)\b",
    re.IGNORECASE,
)


def _post_text_length(line: str) -> int:
    """Characters of post text on a line, links and the post credit not counted."""
    return len(_ANY_LINK.sub("", _POST_CREDIT.sub("", line)).strip())


def _is_embed_link_only(line: str) -> bool:
    return bool(_EMBED_LINK.search(line)) and not _EMBED_LINK.sub("", line).strip(" .,;|-–—")


def _can_join_post_above(
    line: str, post_chars: int, tweet_max_chars: int, marker_needed: bool
) -> bool:
    return (
        (not marker_needed or bool(_POST_MARKER.search(line)))
        and not line.endswith(":")
        and not _REPORTED_POST.search(line)
        and not _POST_CREDIT.search(line)
        and post_chars + _post_text_length(line) <= tweet_max_chars
    )


def remove_social_debris(text: str, tweet_max_chars: int = 280) -> tuple[str, tuple[str, ...]]:
    """Text without embedded posts, post headers and embed links; and the lines removed.

    Expects `normalize_text` output (one item per line); the result needs
    `normalize_whitespace` again to close the gaps.
    """
    lines = text.split("\n")
    remove = [False] * len(lines)
    for index, line in enumerate(lines):
        if not line:
            continue
        if _POST_HEADER.match(line) or _is_embed_link_only(line):
            remove[index] = True
        if not _POST_CREDIT.search(line):
            continue
        remove[index] = True
        post_chars = _post_text_length(line)
        # A credit standing alone closes the post written on the line right above it.
        marker_needed_above = post_chars > 0 or index == 0 or not lines[index - 1]
        above = index - 1
        while above >= 0:
            if not lines[above]:
                above -= 1
                continue
            if remove[above] or not _can_join_post_above(
                lines[above], post_chars, tweet_max_chars, marker_needed_above
            ):
                break
            marker_needed_above = True
            remove[above] = True
            post_chars += _post_text_length(lines[above])
            above -= 1
    removed = tuple(line for line, gone in zip(lines, remove) if gone)
    kept = [_EMBED_LINK.sub("", line) for line, gone in zip(lines, remove) if not gone]
    return "\n".join(kept), removed


# ---------------------------------------------------------------------------
# 4. Boilerplate lines

# (pattern the whole line matches, longest line it may be, whether it must be a
# single sentence). Case-insensitive. The lines that announce a headline
# ("Also read: <headline>") need not be one sentence: headlines hold stray
# full stops ("posted on 08. 07. 2012").
COPYRIGHT_NOTICE_PATTERN = r"(?:copyright\s*(?:©|\(c\))|copyright\s+\d{4}\b|©|\(c\)\s*\d{4}\b).*"
BOILERPLATE_LINE_PATTERNS: tuple[tuple[str, int, bool], ...] = (
    # "Also Read: <headline>", "ALSO READ | <headline>", "Read more: ...", "Also watch - ..."
    (r"(?:also\s+(?:read|see|watch)|read\s+(?:also|more)|watch\s+also)\s*[:|\-–—]\s*.*", 300, False),
    (r"follow\s+(?:us|[^\s]+(?:\s+[^\s]+){0,4}?)\s+on\s+(?:twitter|x|facebook|instagram|telegram|whatsapp|google\s+news|linkedin|youtube|threads)\b.*", 200, True),
    (r"click\s+here\b.*", 200, True),
    (r"(?:subscribe|sign\s+up)\b.*\bnewsletters?\b.*", 200, True),
    (r"\(?\s*this\s+(?:story|article|report)\s+has\s+not\s+been\s+edited\s+by\s+.{0,80}?\s+staff\s+and\s+is\s+auto-generated\s+from\s+a\s+syndicated\s+feed\.?\s*\)?", 300, False),
    (r"advertisement|story\s+continues\s+below(?:\s+this)?\s+advertisement|continue\s+reading\s+below|scroll\s+to\s+continue(?:\s+with\s+content)?", 60, True),
    # "Download the ABC News app", "Get breaking news alerts on your phone: download the … app."
    (r"(?:get\s+[^:]{1,60}:\s*)?download\s+the\s+.{1,60}?\bapp\b.*", 150, True),
    # Page labels a scraped text starts or breaks with: CNN's "STORY HIGHLIGHTS" (46 lines of the
    # ECB+ and reprint sets, tagged PERSON by the small model), shop buttons.
    (r"(?:story\s+highlights|buy\s+now|related\s+(?:articles|stories|coverage)|most\s+(?:read|popular))\s*:?", 30, True),
    # Copyright notices: "Copyright 2019 Hawaii News Now. All rights reserved.", "© 2017 USATODAY.COM",
    # "Copyright © 2005 The Associated Press. All rights reserved. The information contained in the AP
    # News report may not be published, ..." (several sentences). Only a line that starts with the
    # sign, or with "Copyright" and the sign or a year: prose about copyright does not.
    (COPYRIGHT_NOTICE_PATTERN, 400, False),
    (r"all\s+rights\s+reserved\.?", 30, True),
    # The comment thread's label and state: "Comments", "12 Comments", "Leave a comment",
    # "You must be logged in to post a comment.", "Comments on this story are closed. Read our
    # community guidelines before you post."
    (r"(?:\d+\s+)?comments?(?:\s*\(\d+\))?", 20, True),
    (r"(?:leave|post|add|view|show|see|read)\s+(?:a|your|all|the)?\s*comments?(?:\s*\(\d+\))?\.?", 40, True),
    (r"you\s+must\s+be\s+logged\s+in\s+to\s+(?:post\s+a\s+)?comment\.?", 60, True),
    (r"comments\s+(?:(?:on|for)\s+this\s+(?:story|article|post)\s+)?(?:are|have\s+been)\s+closed\b.*", 200, False),
    # Paywall and channel promos: "Subscribe to The Bexley Post for unlimited access to our
    # journalism.", "Subscribe to 9to5Mac on YouTube for more Apple news:"
    (r"subscribe\s+(?:now|today|to)\b.{0,120}?\b(?:unlimited\s+access|digital\s+access|youtube|channel|podcast)\b.*", 200, True),
    # A tip line with the newsroom's or reporter's address: "Have a news tip? Email newsroom@…"
    (r"(?:have|got)\s+a\s+(?:news\s+)?tip\s*\?.*", 200, False),
    # An author's or the outlet's handle: "Follow me: @evanhalper", "Follow Mike Wall on Twitter
    # @michaeldwall and Google+. Follow us @Spacedotcom, Facebook or Google+."
    (r"follow\s+(?:[^\s@]+\s+){0,3}?(?:on\s+(?:twitter|x|instagram|facebook|threads)\s+)?(?:at\s+|:\s*)?@\w{1,15}\b.*", 300, False),
    # Widget labels left by the NYT ("Continue reading the main story") and BBC pull quotes ("“Start Quote").
    (r"continue\s+reading\s+the\s+main\s+story|[“\"]?start\s+quote", 40, True),
)
_BOILERPLATE_LINES = tuple(
    (re.compile(pattern, re.IGNORECASE), max_chars, single_sentence)
    for pattern, max_chars, single_sentence in BOILERPLATE_LINE_PATTERNS
)
_COPYRIGHT_NOTICE = re.compile(COPYRIGHT_NOTICE_PATTERN, re.IGNORECASE)
# Where a page's time stamp stands: above or below the headline and byline, before the lead.
LEAD_TIME_STAMP_LINES = 5
# A word character that is not an underscore: a line without one ("| | |", "|---|---|", "___",
# "–") is a table border or rule, with no word to lose.
_WORD_CHARACTER = re.compile(r"[^\W_]")


def _without_table_borders(line: str) -> str:
    """The line without the cell borders of a one-row table: "| ADVERTISEMENT |" -> "ADVERTISEMENT"."""
    return line.strip(" |\\").strip() if line.startswith("|") else line


def is_boilerplate_line(line: str) -> bool:
    """Whether the whole line is boilerplate (see rule 4)."""
    if not _WORD_CHARACTER.search(line):
        return bool(line.strip())
    line = _without_table_borders(line)
    return any(
        len(line) <= max_chars
        and pattern.fullmatch(line)
        and (not single_sentence or len(first_sentence(line)) == len(line))
        for pattern, max_chars, single_sentence in _BOILERPLATE_LINES
    )


def is_copyright_notice(line: str) -> bool:
    """Whether a (removed) line is a copyright notice, where a wire agency may be credited."""
    return bool(_COPYRIGHT_NOTICE.fullmatch(_without_table_borders(line)))


# "(Watch Rita's threat to refineries -- 2:43)": a link to a clip, with its running time,
# left inside a paragraph.
_MEDIA_PROMO = re.compile(
    r"[ \t]*\((?:watch|see|hear|listen(?:\s+to)?|view)\b[^()\n]{0,200}?"
    r"\s(?:--|[-–—])\s*\d{1,2}:\d{2}(?::\d{2})?\s*\)",
    re.IGNORECASE,
)


def remove_media_promos(text: str) -> tuple[str, tuple[str, ...]]:
    """Text without inline clip promos; and the promos removed."""
    removed = tuple(match.group().strip() for match in _MEDIA_PROMO.finditer(text))
    return (_MEDIA_PROMO.sub("", text), removed) if removed else (text, ())


def remove_boilerplate_lines(text: str) -> tuple[str, tuple[str, ...]]:
    """Text without whole boilerplate lines, lead time stamps or inline clip promos; and what was removed."""
    text, promos = remove_media_promos(text)
    kept, removed = [], []
    non_blank_lines = 0
    for line in text.split("\n"):
        in_lead = non_blank_lines < LEAD_TIME_STAMP_LINES
        non_blank_lines += bool(line.strip())
        boilerplate = line and (is_boilerplate_line(line) or (in_lead and is_time_stamp(line)))
        (removed if boilerplate else kept).append(line)
    return "\n".join(kept), promos + tuple(removed)


# ---------------------------------------------------------------------------
# 5. Markdown emphasis

_EMPHASIS = re.compile(r"(?<![\w*\\])(\*{1,3})(?![\s*])(.+?)(?<![\s*\\])\1(?![\w*])")


def strip_markdown_emphasis(text: str) -> str:
    """`*x*`, `**x**`, `***x***` become `x`; other asterisks stay (see the module rules)."""
    while True:
        stripped = _EMPHASIS.sub(r"\2", text)
        if stripped == text:
            return text
        text = stripped


# ---------------------------------------------------------------------------
# 6. Title

_MONTH_ABBREVIATION = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_PLACE_WORD = r"[A-Z][\w'’.-]*"
_PLACE = rf"{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}}(?:,\s+{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,2}})?"
_CAPS_PLACE = r"[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+){0,3}(?:,\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2})?"
_DATELINE_SEPARATOR = r"(?:—|–|--?|:|\|)"
_DATELINES = tuple(
    re.compile(pattern)
    for pattern in (
        # "Kuala Lumpur, Oct 31 ", "NEW DELHI, Oct 31 (PTI) — "
        rf"^{_PLACE},\s+{_MONTH_ABBREVIATION}\s+\d{{1,2}}(?:,\s*\d{{4}})?(?:\s*\([^()\n]{{1,40}}\))?\s*(?:{_DATELINE_SEPARATOR}\s*)?",
        # "WASHINGTON (AP) — ", "Mumbai (Reuters) - "
        rf"^{_PLACE}\s*\([^()\n]{{1,40}}\)\s*{_DATELINE_SEPARATOR}\s*",
        # "Kuala Lumpur | "
        rf"^{_PLACE}\s*\|\s*",
        # "NEW DELHI: ", "LONDON — "
        rf"^{_CAPS_PLACE}\s*{_DATELINE_SEPARATOR}\s*",
    )
)
_BYLINE = re.compile(
    r"^by\s+\S+(?:\s+\S+){0,7}$"
    r"|^\S+(?:\s+\S+){0,4}\s+(?:staff(?:\s+(?:writer|reporter))?|correspondent|bureau|desk)$",
    re.IGNORECASE,
)
# Words of a time stamp line ("Updated Saturday, December 05, 2009 8:28 PM").
_DATE_STAMP_WORD = re.compile(
    rf"\b(?:{_MONTH_ABBREVIATION}|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
    r"|updated|published|posted|first|originally|last|time|at|on|am|pm|a\.\s?m\.|p\.\s?m\.|hrs"
    r"|ist|gmt|utc|et|est|edt|ct|cst|cdt|mt|mst|mdt|pt|pst|pdt|bst|cet|hkt|aest|aedt|\d+)(?!\w)",
    re.IGNORECASE,
)

# Words whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st gen lt col capt cmdr maj brig adm sgt rep sen gov pres hon rev "
    "jr sr inc ltd co corp no nos vs etc fig jan feb mar apr jun jul aug sep sept oct nov dec "
    "mt ft approx est dept govt".split()
)
_SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"(\S+)$")
_DROPPABLE_FULL_STOP = re.compile(r"(?<=[a-z0-9\"”’)])\.$")
_TITLE_TRAILING_PUNCTUATION = " ,;:–—-"
_TITLE_SEARCH_LINES = 3
_TITLE_MIN_WORDS = 3


def _is_date_stamp(line: str) -> bool:
    return count_words(_DATE_STAMP_WORD.sub(" ", line)) < 2


def strip_dateline(line: str) -> str:
    for dateline in _DATELINES:
        match = dateline.match(line)
        if match and match.end() < len(line):
            return line[match.end():]
    return line


def first_sentence(line: str) -> str:
    for end in _SENTENCE_END.finditer(line):
        if line[end.start()] == ".":
            word = _WORD_BEFORE.search(line, 0, end.start())
            token = word.group(1).lstrip("\"“‘(").lower() if word else ""
            # "Mr." or an initial ("S.", "B.N.", "U.S.") does not end a sentence.
            if token in _ABBREVIATIONS or "." in token or (len(token) == 1 and token.isalpha()):
                continue
        return line[: end.end()]
    return line


def shorten_title(text: str, max_chars: int) -> str:
    """The text whole if it fits, else cut at the last word boundary that fits, with "…"."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(_TITLE_TRAILING_PUNCTUATION) + "…"


def derive_title(text: str, max_chars: int = 120) -> Optional[str]:
    """A title from the lead (see rule 6), or None when no line qualifies."""
    lines = [line for line in text.split("\n") if line][:_TITLE_SEARCH_LINES]
    for line in lines:
        candidate = strip_dateline(line)
        if (
            count_words(candidate) < _TITLE_MIN_WORDS
            or _BYLINE.match(candidate)
            or _is_date_stamp(candidate)
        ):
            continue
        sentence = _DROPPABLE_FULL_STOP.sub("", first_sentence(candidate).strip())
        return shorten_title(sentence.rstrip(_TITLE_TRAILING_PUNCTUATION), max_chars)
    return None


_OUTLET_SEPARATORS = (" - ", " – ", " — ", " | ", " :: ", " · ")
# What parts a page title: "<headline> | <site>", "<site> - <headline>" (also read by
# dump_parsing.page_outlet, which looks for the site's part).
TITLE_PART_SEPARATOR = re.compile(r"\s+(?:-|–|—|\||::|·)\s+")
# Endings a site's name carries in one place and not in another ("BostonGlobe.com", "IthacanOnline",
# "Inexhibit magazine"), left out when names are compared.
_SITE_NAME_ENDINGS = ("com", "couk", "co", "uk", "ca", "net", "org", "online", "magazine")
_SITE_KEY_MIN_CHARS = 6
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")


def _site_key(name: str) -> str:
    """A site's name compared without case, spacing, punctuation, a leading "The" and a domain ending."""
    key = re.sub(r"[\W_]", "", re.sub(r"^(?:the\s+|www\.)", "", name.strip().casefold()))
    stripped = True
    while stripped:
        stripped = False
        for ending in _SITE_NAME_ENDINGS:
            if key.endswith(ending) and len(key) - len(ending) >= _SITE_KEY_MIN_CHARS - 2:
                key, stripped = key[: -len(ending)], True
    return key


def _names_the_site(part: str, site_keys: tuple[str, ...]) -> bool:
    """Whether a part of a page title is the site's name (`site_keys` from the outlet and URL host)."""
    key = _site_key(part)
    return bool(key) and any(
        key == site or (len(site) >= _SITE_KEY_MIN_CHARS and key.endswith(site)) for site in site_keys if site
    )


def without_outlet_suffix(title: Optional[str], outlet: Optional[str], url: Optional[str] = None) -> Optional[str]:
    """The title without the site's name and date a page title adds (see rule 6); unchanged when
    nothing else is left.

    A trailing "<separator> <outlet>" goes, the outlet's name compared without case; also when it
    writes the outlet's name another way ("| The Boston Globe" for "BostonGlobe.com") or is the URL's
    host ("| Globalnews.ca"). A leading "<outlet> <separator>" goes ("CNN.com - …"), and so does a
    trailing date ("… - Sep 22, 2005").
    """
    if not title:
        return title
    outlet = (outlet or "").strip()
    if outlet:
        for separator in _OUTLET_SEPARATORS:
            suffix = separator + outlet
            if len(title) > len(suffix) and title[-len(suffix):].casefold() == suffix.casefold():
                rest = title[: -len(suffix)].rstrip()
                if _LETTER.search(rest):
                    return rest
    site_keys = tuple(_site_key(name) for name in (outlet, url_host(url)) if name)
    parts = TITLE_PART_SEPARATOR.split(title)
    separators = TITLE_PART_SEPARATOR.findall(title)
    start, end = 0, len(parts)
    # Only a domain-like name leads a page title ("CNN.com - …"): "Reuters - a profile of the agency"
    # is about the outlet.
    if end - start > 1 and site_keys and _DOMAIN.fullmatch(parts[start]) and _names_the_site(parts[start], site_keys):
        start += 1
    while end - start > 1 and (
        (site_keys and _names_the_site(parts[end - 1], site_keys)) or is_time_stamp(parts[end - 1])
    ):
        end -= 1
    if (start, end) == (0, len(parts)):
        return title
    rest = parts[start] + "".join(sep + part for sep, part in zip(separators[start:end - 1], parts[start + 1:end]))
    return rest if _LETTER.search(rest) else title


# What makes a run of numbers a time, not a score ("5 - 3"): a month, a year, a clock or a numeric date.
_WHEN = re.compile(
    rf"\b{_MONTH_ABBREVIATION}(?!\w)|(?<!\d)(?:19|20)\d\d(?!\d)|\d{{1,2}}\s*:\s*\d\d"
    r"|\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}",
    re.IGNORECASE,
)
# "9:55pm", "5: 55p" (SB Nation's clock), "9th".
_ORDINAL_OR_CLOCK = re.compile(r"\b\d+(?:st|nd|rd|th|am|pm|a|p)\b", re.IGNORECASE)


def is_time_stamp(line: str) -> bool:
    """A title or line that only says when ("Posted 11 / 27 / 2005 7:21 AM"): no headline, no prose.

    Stricter than the test for a title candidate (`_is_date_stamp`): every word must be a time
    stamp's, since a short headline may hold a number and one other word ("Euro 2016", "Story 0").
    """
    if not any(character.isdigit() for character in line) or not _WHEN.search(line):
        return False
    return count_words(_DATE_STAMP_WORD.sub(" ", _ORDINAL_OR_CLOCK.sub(" ", line))) == 0


def normalize_title(
    title: Optional[str], strip_markdown: bool = True, outlet: Optional[str] = None, url: Optional[str] = None
) -> Optional[str]:
    """The given title on one line, emphasis marks and the site's name and date removed; None when nothing is left."""
    if title is None:
        return None
    title = normalize_inline(title)
    if strip_markdown:
        title = strip_markdown_emphasis(title)
    title = without_outlet_suffix(title, normalize_inline(outlet) if outlet else None, url)
    return title or None


def without_repeated_title(
    text: str, title: Optional[str], min_words: int, strip_markdown: bool = True,
    outlet: Optional[str] = None, url: Optional[str] = None,
) -> str:
    """The text without a first line that only repeats the (normalised) title (see rule 6)."""
    if not title:
        return text
    lines = text.split("\n")
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return text
    heading = normalize_title(lines[first], strip_markdown, outlet=outlet, url=url)
    if heading is None or heading.casefold() != title.casefold() or heading.endswith("."):
        return text  # a "title" that ends with a full stop is the lead sentence a scraper took for one
    rest = lines[first + 1 :]
    while rest and not rest[0].strip():
        rest = rest[1:]
    remaining = "\n".join(lines[:first] + rest)
    return remaining if count_words(remaining) >= min_words else text


# ---------------------------------------------------------------------------
# 7. Language

_LETTER = re.compile(r"[^\W\d_]")

# Labels py3langid uses for "no language" rather than a language.
_NOT_A_LANGUAGE = frozenset({"und", "zxx"})


@functools.lru_cache(maxsize=1)
def language_identifier():
    """The py3langid model with normalised probabilities, loaded once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def normalize_language_code(code: Optional[str]) -> Optional[str]:
    """The primary subtag in lower case: "en-GB", "EN_us" and " en " give "en"; blank gives None."""
    if code is None:
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return primary or None


def identify_language(
    text: str,
    min_chars: int = 40,
    min_confidence: float = 0.5,
    fallback: Optional[str] = None,
) -> tuple[Optional[str], str]:
    """(language code, where it came from: "detected", "record" or "unknown")."""
    letters = itertools.islice(_LETTER.finditer(text), min_chars)
    if sum(1 for _ in letters) >= min_chars:
        code, confidence = language_identifier().classify(text)
        if confidence >= min_confidence and code not in _NOT_A_LANGUAGE:
            return code, "detected"
    fallback = normalize_language_code(fallback)
    return (fallback, "record") if fallback else (None, "unknown")


# ---------------------------------------------------------------------------
# 8. Wire agency

# Canonical name -> the names it is credited under. Names in capitals of up to
# five letters (and "dpa") match case-sensitively; the rest ignore case, and a
# hyphen in a name also matches a space ("Agence France Presse").
WIRE_AGENCIES: dict[str, tuple[str, ...]] = {
    "PTI": ("PTI", "Press Trust of India"),
    "IANS": ("IANS", "Indo-Asian News Service"),
    "ANI": ("ANI", "Asian News International"),
    "UNI": ("UNI", "United News of India"),
    "AP": ("AP", "Associated Press"),
    "Reuters": ("Reuters", "Thomson Reuters"),
    "AFP": ("AFP", "Agence France-Presse"),
    "dpa": ("dpa", "DPA", "Deutsche Presse-Agentur"),
    "Xinhua": ("Xinhua", "Xinhua News Agency"),
    "Bloomberg": ("Bloomberg", "Bloomberg News"),
    "Kyodo": ("Kyodo", "Kyodo News"),
    "Yonhap": ("Yonhap", "Yonhap News Agency"),
    "EFE": ("EFE",),
    "ANSA": ("ANSA",),
    "TASS": ("TASS",),
    "Anadolu": ("Anadolu Agency",),
    # Not "(AAP)" and "(CP)": in news those are far more often the Aam Aadmi
    # Party and communist parties than the Australian and Canadian wires.
    "AAP": ("Australian Associated Press",),
    "CP": ("Canadian Press",),
}


def _is_case_sensitive(name: str) -> bool:
    return name == "dpa" or (name.isupper() and len(name) <= 5)


def _agency_key(name: str) -> str:
    """Lookup key of a credited name: case, spacing and hyphens evened out.

    The patterns already enforce case where it matters ("AP" vs "ap").
    """
    return " ".join(name.replace("-", " ").split()).lower()


_AGENCY_BY_NAME = {
    _agency_key(name): canonical for canonical, names in WIRE_AGENCIES.items() for name in names
}


def _name_pattern(name: str) -> str:
    escaped = re.escape(name).replace(r"\ ", r"\s+").replace(r"\-", r"[-\s]")
    return escaped if _is_case_sensitive(name) else f"(?i:{escaped})"


_ALL_NAMES = sorted((n for names in WIRE_AGENCIES.values() for n in names), key=len, reverse=True)
_AGENCY = r"(?P<agency>" + "|".join(_name_pattern(n) for n in _ALL_NAMES) + r")\b"
_THE = r"(?i:the\s+)?"
_DESK_INITIALS = r"(?:\s+[A-Z]{2,4}){0,4}"

# "(PTI)", "(Reuters Life!)", "(Reuters, AP)"
_PAREN_AGENCY = (
    rf"\({_THE}{_AGENCY}(?:\s+Life!)?(?:\s*(?:[,/&]|(?i:and)\b)\s*[^()\n]{{1,40}})?\)"
)
_DATELINE_PLACE = (
    rf"(?:{_CAPS_PLACE}|{_PLACE},\s+{_MONTH_ABBREVIATION}\s+\d{{1,2}}(?:,\s*\d{{4}})?)"
)

CREDIT_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (name, re.compile(pattern, re.MULTILINE))
    for name, pattern in (
        # "(With inputs from PTI)", "(Source: AFP)", "(With inputs from PTI, ANI and agencies)"
        ("inputs_from", rf"\(\s*(?i:(?:with\s+)?(?:additional\s+)?inputs?\s+from|source\s*:?|via|by)\s*{_THE}{_AGENCY}[^()\n]{{0,60}}\)"),
        # A bare "(PTI)" only where a credit stands, never inside a sentence, where it
        # is more likely an acronym ("Pakistan Tehreek-e-Insaf (PTI) chairman"):
        # at a line start or after a dateline: "NEW DELHI, Oct 31 (PTI)", "(Bloomberg) --"
        ("dateline", rf"^(?:{_DATELINE_PLACE}\s*)?{_PAREN_AGENCY}"),
        # before a separator: "HAYWARD, Calif. (AP) — ", "Mumbai (Reuters) - "
        ("dateline", rf"{_PAREN_AGENCY}(?=\s*(?:—|–|--?|:|\|))"),
        # closing a line after a sentence or desk initials: "... he said. (IANS)", "cmb/sms (Reuters, AP)"
        ("closing_credit", rf"(?:[.!?\"”’]|\b\w+/\w+)\s*{_PAREN_AGENCY}\s*\.?\s*$"),
        # "... — ANI", "- Reuters" ending a line
        ("dash", rf"(?:^|\s)(?:—|–|--?)\s*{_THE}{_AGENCY}\s*\.?\s*$"),
        # "By Reuters", "From AFP", "Source: PTI", "By ANI | Updated: ..."
        ("byline", rf"^(?i:by|from|courtesy|source\s*[:\-–—]?)\s+{_THE}{_AGENCY}[^\n]{{0,60}}$"),
        # "Associated Press contributed to this report.", "AP writers X and Y contributed"
        ("contributed", rf"(?:^|\s){_THE}{_AGENCY}(?:\s+(?i:staff\s+)?(?i:writers?|reporters?|correspondents?)\b[^\n]{{0,200}}?)?\s+(?i:contributed)\b"),
        ("contributed", rf"(?i:contributing\s+to\s+this\s+(?:report|story))[^.\n]{{0,40}}?(?:^|\s){_THE}{_AGENCY}"),
        # "... was contributed by Alan Fram and Andrew Taylor of The Associated Press."
        ("contributed", rf"(?i:contributed\s+by)\s[^\n]{{0,200}}?\s(?i:of)\s+{_THE}{_AGENCY}"),
        # "Copyright 2005 The Associated Press", "© Reuters 2025"
        ("copyright", rf"(?i:copyright|©|\(c\))\s*(?:\d{{4}}\s*)?(?:[,-]\s*)?{_THE}{_AGENCY}"),
        # a line that is only the agency, optionally with desk initials ("PTI SK RT")
        # or a date stamp ("Reuters Sep 18, 2013, 02.16PM IST")
        ("credit_line", rf"^{_THE}{_AGENCY}(?:{_DESK_INITIALS}|\s*[|,-]?\s*(?i:updated:?\s*)?(?:\d{{1,2}}\s+)?{_MONTH_ABBREVIATION}\s[^\n]{{0,40}})\s*\.?$"),
        # a line ending "... he said. PTI"
        ("closing_credit", rf"[.!?\"”’]\s+{_THE}{_AGENCY}{_DESK_INITIALS}\s*$"),
    )
)


# How far a window may grow to take in the rest of a credit line it cuts.
_WINDOW_SLACK_CHARS = 250


def _head(text: str, chars: int) -> str:
    line_end = text.find("\n", chars)
    return text[: min(len(text) if line_end < 0 else line_end, chars + _WINDOW_SLACK_CHARS)]


def _tail(text: str, chars: int) -> str:
    start = max(0, len(text) - chars)
    line_start = text.rfind("\n", 0, start) + 1
    return text[max(line_start, start - _WINDOW_SLACK_CHARS):]


def detect_wire_agency(text: str, window_chars: int = 300) -> Optional[str]:
    """Canonical wire agency credited in the dateline or the closing credits, else None."""
    for region in (_head(text, window_chars), _tail(text, window_chars)):
        matches = [m for _, pattern in CREDIT_PATTERNS for m in pattern.finditer(region)]
        if matches:
            first = min(matches, key=lambda m: m.start("agency"))
            return _AGENCY_BY_NAME[_agency_key(first.group("agency"))]
    return None


# ---------------------------------------------------------------------------
# 9. Words and rejections

_UNSPACED_SCRIPTS = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK ideographs
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
)
_WORD = re.compile(rf"[{_UNSPACED_SCRIPTS}]|(?:(?![{_UNSPACED_SCRIPTS}])\w)+")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an article leaves the cleaning step as a dead letter."""

    reason: str  # "empty_after_clean" or "too_short"
    detail: str


def rejection_for(text: str, min_words: int) -> Optional[Rejection]:
    words = count_words(text)
    if words == 0:
        return Rejection("empty_after_clean", "no words left after cleaning")
    if words < min_words:
        return Rejection(
            "too_short", f"{words} word(s) left after cleaning, fewer than min_words={min_words}"
        )
    return None


# ---------------------------------------------------------------------------
# The whole article


class CleaningSettings(Protocol):
    """What `clean_article` reads from its settings (`CleanConfig` provides it)."""

    min_words: int
    remove_social_debris: bool
    remove_boilerplate: bool
    strip_markdown: bool
    title_max_chars: int
    language_min_chars: int
    language_min_confidence: float
    tweet_max_chars: int
    agency_window_chars: int


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    article: Article
    removed_lines: tuple[str, ...]  # debris and boilerplate lines taken out of the text
    title_derived: bool
    language_source: str  # "detected", "record" or "unknown"


def clean_text(text: str, settings: CleaningSettings) -> tuple[str, tuple[str, ...]]:
    """Rules 1-5 on an article body: (cleaned text, removed lines)."""
    text = normalize_text(text)
    removed: tuple[str, ...] = ()
    if settings.remove_social_debris:
        text, removed_here = remove_social_debris(text, settings.tweet_max_chars)
        removed += removed_here
    if settings.remove_boilerplate:
        text, removed_here = remove_boilerplate_lines(text)
        removed += removed_here
    if settings.strip_markdown:
        text = strip_markdown_emphasis(text)
    return normalize_whitespace(text), removed


def _agency_of_copyright_notices(removed_lines: tuple[str, ...]) -> Optional[str]:
    """The agency credited in a removed copyright notice: "Copyright 2005 The Associated Press", or
    "Copyright 2005 CNN. All rights reserved. … Associated Press contributed to this report." """
    notices = [line for line in removed_lines if is_copyright_notice(line)]
    return detect_wire_agency("\n".join(notices)) if notices else None


def lines_as_paragraphs(text: str) -> str:
    """Each non-blank line a paragraph: the text of an extracted page (see rule 2)."""
    return "\n\n".join(line for line in text.splitlines() if line.strip())


def clean_article(article: Article, settings: CleaningSettings) -> CleanedArticle | Rejection:
    """The article with cleaned text, a title, a language and its wire agency; or why not."""
    raw = lines_as_paragraphs(article.text) if article.content_source == "page" else article.text
    text, removed_lines = clean_text(raw, settings)
    rejection = rejection_for(text, settings.min_words)
    if rejection:
        return rejection
    title = normalize_title(article.title, settings.strip_markdown, outlet=article.outlet, url=article.url)
    if title is not None and is_time_stamp(title):
        title = None
    title_derived = title is None
    if title_derived:
        title = derive_title(text, settings.title_max_chars)
    else:
        text = without_repeated_title(
            text, title, settings.min_words, settings.strip_markdown, outlet=article.outlet, url=article.url
        )
    language, language_source = identify_language(
        text,
        min_chars=settings.language_min_chars,
        min_confidence=settings.language_min_confidence,
        fallback=article.language,
    )
    wire_agency = (
        detect_wire_agency(text, settings.agency_window_chars)
        or _agency_of_copyright_notices(removed_lines)
        or article.wire_agency
    )
    cleaned = article.replace(text=text, title=title, language=language, wire_agency=wire_agency)
    return CleanedArticle(cleaned, removed_lines, title_derived and title is not None, language_source)
