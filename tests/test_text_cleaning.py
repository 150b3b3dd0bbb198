"""Cleaning rules, before and after, mostly on the seed articles themselves."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from transforms import text_cleaning as tc
from transforms.clean import CleanConfig
from transforms.schema import Article

DATE_MARKER = re.compile(r"^ date \d{4}-\d{2}-\d{2} ")

TWEET_CREDIT_LINE = (
    "This Defence Framework will provide policy… pic.twitter.com/IEP6Udg9Iw"
    " — Rajnath Singh (@rajnathsingh) October 31, 2025"
)


def seed_body(seed_texts: dict[str, str], number: str) -> str:
    """A seed's text as a reader hands it on: without the ` date YYYY-MM-DD ` marker."""
    (text,) = [text for stem, text in seed_texts.items() if stem.startswith(number + "_")]
    return DATE_MARKER.sub("", text)


def make_article(text: str, title: str | None = None, language: str | None = None) -> Article:
    return Article(
        article_id="a1",
        url=None,
        outlet=None,
        title=title,
        text=text,
        published_at=None,
        language=language,
        source_kind="text",
        source_ref="test",
        ingested_at=dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc),
    )


@pytest.fixture(scope="module")
def config() -> CleanConfig:
    return CleanConfig()


# --- 1-2. Unicode and whitespace -------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Trumpâ€™s bizarre trade tariffs", "Trump’s bizarre trade tariffs"),  # UTF-8 read as cp1252
        ("Ã©tÃ© indien", "été indien"),
        ("10\u00a0km and 5\u202fkg", "10 km and 5 kg"),
        ("zero\u200bwidth\u2060joined\ufeff", "zerowidthjoined"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bell\x07 and escape\x1b gone", "bell and escape gone"),
        ("cafe\u0301", "café"),  # NFC
        ("“curly” quotes stay", "“curly” quotes stay"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("family 👨\u200d👩\u200d👧 keeps its joiners", "family 👨\u200d👩\u200d👧 keeps its joiners"),
        ("It?s George W. Bush?s plan; I?m sure he?ll sign.", "It’s George W. Bush’s plan; I’m sure he’ll sign."),
        ("Search example.com/?s=news or ?t=5 and ask: really?", "Search example.com/?s=news or ?t=5 and ask: really?"),
        ("x = ready?t:f; y = tagName?t.target:0", "x = ready?t:f; y = tagName?t.target:0"),
        ("Why? So we know.", "Why? So we know."),
        # Mojibake around U+FFFD is still repaired, each U+FFFD kept.
        ("Trumpâ€™s café\ufffd\ufffd", "Trump’s café\ufffd\ufffd"),
        ("Ã©tÃ©\ufffd\ufffd indien \ufffd", "été\ufffd\ufffd indien \ufffd"),
        ("schÃ¶n \ufffd Ã¼ber", "schön \ufffd über"),
        # "â€" + U+FFFD is "”" (E2 80 9D) read as Windows-1252, its undefined 9D lost: one U+FFFD for it.
        ("He said â€œhelloâ€\ufffd and left", "He said “hello\ufffd and left"),
        ("\ufffd", "\ufffd"),
    ],
)
def test_normalize_unicode(raw, expected):
    assert tc.normalize_unicode(raw) == expected


def test_a_valid_character_beside_bad_bytes_is_kept():
    """b"caf\xc3\xa9\xff\xfe": decoding makes the two bad bytes U+FFFD and keeps "é"; ftfy alone read
    "é" + U+FFFD U+FFFD as a three-byte character with two bytes lost and left "caf\ufffd"."""
    decoded = b"caf\xc3\xa9\xff\xfe".decode("utf-8", errors="replace")
    assert decoded == "café\ufffd\ufffd"
    assert tc.normalize_unicode(decoded) == "café\ufffd\ufffd"
    assert tc.normalize_text("Le café\ufffd\ufffd du coin") == "Le café\ufffd\ufffd du coin"
    assert tc.normalize_inline("É\ufffd Ã\ufffd à\ufffd") == "É\ufffd Ã\ufffd à\ufffd"


def test_normalize_whitespace_keeps_paragraphs_and_lines():
    raw = "  First   line\tof it  \r\nsecond line\r\n\r\n\r\n\n   \nNext\u00a0\u00a0paragraph \x0cAfter a form feed"
    assert tc.normalize_text(raw) == (
        "First line of it\nsecond line\n\nNext paragraph\n\nAfter a form feed"
    )


def test_normalize_inline_makes_one_line():
    assert tc.normalize_inline("  India,\n US \u00a0sign\tpact ") == "India, US sign pact"


def test_seed_001_gaps_collapse_to_one_blank_line(seed_texts):
    raw = seed_body(seed_texts, "001")
    assert "\n\n\n\n" in raw
    cleaned = tc.normalize_text(raw)
    assert "\n\n\n" not in cleaned
    assert cleaned.count("\n\n") == len([line for line in raw.split("\n") if line.strip()]) - 1


# --- 3. Social-embed debris (seed 001) ---------------------------------------


def test_seed_001_embed_debris_removed_and_article_kept(seed_texts, config):
    normalized = tc.normalize_text(seed_body(seed_texts, "001"))
    cleaned, removed = tc.clean_text(seed_body(seed_texts, "001"), config)

    assert len(removed) == 4
    assert removed[0].startswith("#WATCH | Kuala Lumpur: Defence Minister Rajnath Singh")
    assert removed[1].startswith("Had a fruitful meeting with my US counterpart @SecWar Peter Hegseth")
    assert removed[2] == TWEET_CREDIT_LINE
    assert removed[3].startswith("#WATCH | US Secretary of War Pete Hegseth says")
    for debris in ("pic.twitter.com", "t.co/", "(@ANI)", "(@rajnathsingh)", "#WATCH", "@SecWar Peter Hegseth"):
        assert debris not in cleaned

    # Every other line of the article survives verbatim.
    for line in normalized.split("\n"):
        if line and line not in removed:
            assert line in cleaned.split("\n")
    for sentence in (
        "Speaking to the media about the Defence Framework, Hegseth said",
        "Welcoming the development, Defence Minister Rajnath Singh highlighted",
        "Our partnership is critical for ensuring a free, open and rules-based Indo-Pacific region,” Singh wrote on X on Friday.",
        "India-US partnership crucial for a rule-based order in the Indo-Pacific region: Singh",
        "The deal is a significant step for militaries of India and the US: Hegseth",
        "Currently, trade negotiations are underway between India and the US.",
    ):
        assert sentence in cleaned
    assert cleaned.startswith("After a spell of strained India-US trade caused by Trump’s bizarre trade tariffs")


@pytest.mark.parametrize("number", ["000", "002", "003", "004"])
def test_seeds_without_embeds_lose_no_line(seed_texts, config, number):
    raw = seed_body(seed_texts, number)
    cleaned, removed = tc.clean_text(raw, config)
    assert removed == ()
    assert len(cleaned.split("\n")) == len(tc.normalize_text(raw).split("\n"))


POST = "Signed the framework today with @SecWar #IndiaUS"
CREDIT = "pic.twitter.com/AbC123 — Rajnath Singh (@rajnathsingh) October 31, 2025"


@pytest.mark.parametrize(
    "lines_above, kept",
    [
        # the article introducing the embed with a colon stays
        (["He posted on X about it @SecWar:"], ["He posted on X about it @SecWar:"]),
        # reported speech quoting a post is the article's narration
        (["“Met @SecWar today,” Singh wrote on Friday."], ["“Met @SecWar today,” Singh wrote on Friday."]),
        # a paragraph without any post marker stays
        (["The two ministers met in Kuala Lumpur on Friday."], ["The two ministers met in Kuala Lumpur on Friday."]),
        # a marked paragraph that would make the post longer than 280 characters stays
        (["Long paragraph with @handle. " + "x" * 260], ["Long paragraph with @handle. " + "x" * 260]),
        # a marked paragraph within the post length goes with the post
        (["First part of the post by @rajnathsingh"], []),
    ],
)
def test_embed_rule_walks_back_only_over_post_paragraphs(lines_above, kept):
    text = "\n\n".join(["Article lead paragraph stays."] + lines_above + [f"{POST} {CREDIT}"])
    cleaned, removed = tc.remove_social_debris(tc.normalize_text(text))
    assert [line for line in cleaned.split("\n") if line] == ["Article lead paragraph stays."] + kept
    assert removed[-1] == f"{POST} {CREDIT}"


def test_credit_alone_takes_the_line_right_above():
    text = (
        "Users complained on Twitter.\n\n"
        "OH GMAIL I HATE YOUR NEW COMPOSE BOX\n— Colin Wyers (@cwyers) March 29, 2013\n\n"
        "Google did not comment."
    )
    cleaned, removed = tc.remove_social_debris(tc.normalize_text(text))
    assert tc.normalize_whitespace(cleaned) == "Users complained on Twitter.\n\nGoogle did not comment."
    assert removed == ("OH GMAIL I HATE YOUR NEW COMPOSE BOX", "— Colin Wyers (@cwyers) March 29, 2013")


def test_embed_links_removed_inside_kept_lines():
    text = "The minister shared a video https://t.co/SFovRKLdjI of the signing.\n\npic.twitter.com/9n6hO07rOV"
    cleaned, removed = tc.remove_social_debris(tc.normalize_text(text))
    assert tc.normalize_whitespace(cleaned) == "The minister shared a video of the signing."
    assert removed == ("pic.twitter.com/9n6hO07rOV",)


def test_other_links_are_content():
    text = "Tickets at www.jeongdongtheater.com\n\nhttp://amzn.to/2iJFhRj"
    cleaned, removed = tc.remove_social_debris(tc.normalize_text(text))
    assert cleaned == text and removed == ()


# --- 4. Boilerplate lines -----------------------------------------------------


# Announcers, follow and sign-up lines, the syndicated-feed disclaimer and page labels.
SITE_BOILERPLATE_LINES = [
    "Also Read: India, US sign 10-year defence framework",
    "ALSO READ | Rajnath Singh meets Hegseth in Kuala Lumpur",
    "Read more: Jaishankar meets Rubio",
    "Follow us on Twitter and Facebook",
    "Follow The Hindu on Google News for the latest updates.",
    "Click here to subscribe to our channel",
    "Subscribe to our newsletter",
    "Sign up for the morning newsletter to get the day's top stories in your inbox.",
    "(This story has not been edited by Business Standard staff and is auto-generated from a syndicated feed.)",
    "ADVERTISEMENT",
    "Story continues below advertisement",
    "STORY HIGHLIGHTS",
    "Story highlights",
    "Buy Now",
    "Related stories:",
]
# Page furniture of real pages (../shared/data/article_extraction, web_extraction_utomo and the
# reprint set): copyright notices, comment-thread labels, paywall and app promos, author
# "follow" lines, NYT's and BBC's widget labels, and table borders with no word in them.
PAGE_FURNITURE_LINES = [
    "Copyright 2019 Hawaii News Now. All rights reserved.",
    "Copyright © 1998-2005 Ars Technica, LLC",
    "© 2017 USATODAY.COM",
    "Copyright ©2019 Dow Jones & Company, Inc. All Rights Reserved",
    "© Nine Digital Pty Ltd 2017",
    "Copyright © 2005 The Associated Press. All rights reserved. The information contained in the AP News "
    "report may not be published, broadcast, rewritten or redistributed without the prior written authority "
    "of The Associated Press.",
    "Copyright 2017 Northbank Observer. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "| © 2005 Cable News Network LP, LLLP. A Time Warner Company. All Rights Reserved. Terms under which this "
    "service is provided to you. Read our privacy guidelines. Contact us. | |",
    "All rights reserved.",
    "Comments",
    "comments",
    "12 Comments",
    "Leave a comment",
    "You must be logged in to post a comment.",
    "Comments on this story are closed. Read our community guidelines before you post.",
    "Comments are closed.",
    "Subscribe to The Bexley Post for unlimited access to our journalism.",
    "Subscribe to 9to5Mac on YouTube for more Apple news:",
    "Subscribe to the 9to5Toys YouTube Channel for all of the latest videos, reviews, and more!",
    "Have a news tip? Email newsroom@northbankobserver.example.",
    "Have a tip? Amy Kuperinsky may be reached at akuperinsky@njadvancemedia.com. Follow her on Twitter @AmyKup",
    "Get breaking news alerts on your phone: download the Ashford Herald app.",
    "Follow me: @evanhalper",
    "Follow me at @dleelatimes",
    "Follow Calla Cofield @callacofield.Follow us @Spacedotcom, Facebook and Google+. Original article on Space.com.",
    "Follow Mike Wall on Twitter @michaeldwall and Google+. Follow us @Spacedotcom, Facebook or Google+.",
    "Continue reading the main story",
    "“Start Quote",
    "| ADVERTISEMENT |",
    "| Click Here to try 4 Free Trial Issues of Time! | |",
    "| | |",
    "| ----------------- | | |",
    "|---|---|---|---|---|",
    "___",
    "–",
    # Time stamps, taken out of the lead (the line below is its second non-blank line). Lines
    # of ../shared/data's reprint texts, one in six of which has one in its first five lines.
    "Fri Aug 9, 2019 9:55pm EDT",
    "Monday, Sep 16, 2019 | Updated 9:41 AM EDT",
    "18 September 2013 Last updated at 13:59 GMT",
    "PUBLISHED: 22:07 GMT, 7 July 2012 | UPDATED: 22:07 GMT, 7 July 2012",
    "on Mar 8 2013, 11: 55p",
    "First Posted: 10 / 25 / 11 06:44 PM ET Updated: 12 / 25 / 11 05:12 AM ET",
    "Posted Oct 26, 2011 8:57 AM CDT",
    "December 16, 2008",
    "Published: Tuesday, Dec. 20 2005 12:00 a. m. MST",
    "Updated Thu 6 May 2010, 9: 03am AEST",
    "Published time: March 12, 2013 02:03",
]


@pytest.mark.parametrize("line", SITE_BOILERPLATE_LINES + PAGE_FURNITURE_LINES)
def test_boilerplate_lines_removed(line):
    text = f"The framework was signed on Friday.\n\n{line}\n\nIt covers ten years."
    cleaned, removed = tc.remove_boilerplate_lines(tc.normalize_text(text))
    assert removed == (tc.normalize_text(line),)
    assert tc.normalize_whitespace(cleaned) == "The framework was signed on Friday.\n\nIt covers ten years."


@pytest.mark.parametrize(
    "line",
    [
        "Copyright law has not kept up with streaming, the judge wrote in 2019.",
        "Copyright infringement claims rose by 20% last year, the office said.",
        "Comments from the minister came after the vote.",
        "Comments by Mr. Ruto were criticised; the opposition called them reckless.",
        "Subscribe to the view that rates will fall, and you will be disappointed.",
        "Follow the money, investigators said.",
        "They asked residents to follow @NWS on Twitter for updates as the storm approached.",
        "Have a look at the numbers: unemployment rose to 8.1 percent.",
        "Download speeds doubled after the upgrade.",
        "All rights reserved for the players, the league said in a statement on Friday.",
        "5 - 3",
        "| Pos | Player | Plays | % | Stats |",
        "End Quote Francois Hollande President of France",
    ],
)
def test_sentences_that_start_like_furniture_stay(line):
    text = f"The framework was signed on Friday.\n\n{line}"
    cleaned, removed = tc.remove_boilerplate_lines(tc.normalize_text(text))
    assert removed == ()
    assert cleaned == tc.normalize_text(text)


def test_an_agency_named_only_in_a_removed_copyright_notice_is_still_the_wire_credit(config):
    # A real AP story of ../shared/data/web_extraction_utomo (shortened): no dateline credit, the
    # copyright notice is the only place that names the agency.
    text = (
        "By DAVID KRAVETS, Associated Press Writer Thu Sep 22, 9:28 AM ET\n"
        "The study, to be published in the Santa Clara Law Review, tallied the races of California homicide "
        "victims in the 1990s.\n"
        "California has 645 inmates on death row. It has executed 11 people since reinstating the death "
        "penalty in 1977.\n\n"
        "Copyright © 2005 The Associated Press. All rights reserved. The information contained in the AP News "
        "report may not be published, broadcast, rewritten or redistributed without the prior written "
        "authority of The Associated Press."
    )
    outcome = tc.clean_article(make_article(text), config)
    assert "Copyright" not in outcome.article.text
    assert outcome.article.text.endswith("since reinstating the death penalty in 1977.")
    assert outcome.article.wire_agency == "AP"


def test_a_removed_copyright_notice_of_an_outlet_is_no_wire_credit(config):
    text = (
        "Rain fell across the islands on Friday, forecasters said, and more is expected.\n\n"
        "Copyright 2019 Hawaii News Now. All rights reserved."
    )
    outcome = tc.clean_article(make_article(text), config)
    assert outcome.article.text == "Rain fell across the islands on Friday, forecasters said, and more is expected."
    assert outcome.article.wire_agency is None


@pytest.mark.parametrize(
    "line",
    [
        "(IANS)",
        "PTI",
        "— ANI",
        "(With inputs from agencies)",
        "Click here to read more. The minister met his counterpart on Friday.",
        "Also read the fine print, analysts said.",
        "Story highlights of the year were chosen by readers.",
        "Buy now, pay later schemes are growing.",
        "Readers were asked to click here to subscribe to the newsletter.",
        "Follow us on Twitter, the minister told reporters, before leaving for the airport in a convoy of "
        "official cars that had been waiting outside the venue since early morning for the delegation to "
        "finish its talks with the American side and the ASEAN partners present.",
    ],
)
def test_credits_and_sentences_are_not_boilerplate(line):
    text = f"The framework was signed on Friday.\n\n{line}"
    cleaned, removed = tc.remove_boilerplate_lines(tc.normalize_text(text))
    assert removed == ()
    assert cleaned == text


@pytest.mark.parametrize(
    "promo",
    [
        "(Watch Rita's threat to refineries -- 2:43)",
        "(See aerial video of the aftermath -- 3:02)",
        "(Watch: 'The wind is whipping all around me' -- 1:45)",
        "(Hear scientists on what went wrong before with levees — 2:28)",
        "(Watch the video report of a husband whose wife slipped from his grip -- 1:07 )",
    ],
)
def test_inline_clip_promos_are_removed(promo):
    text = f"Gas prices could surge. {promo}\n\nOil closed at $64.19 a barrel."
    cleaned, removed = tc.remove_boilerplate_lines(tc.normalize_text(text))
    assert removed == (promo,)
    assert cleaned == "Gas prices could surge.\n\nOil closed at $64.19 a barrel."


@pytest.mark.parametrize(
    "text",
    [
        "The game starts at 7:30 (see the schedule).",  # no running time inside the brackets
        "The hearing (see page 4) ran from 9:00 - 11:30.",
        "(Watch out for the 5-3 score) was the headline.",
    ],
)
def test_parentheses_that_are_not_clip_promos_stay(text):
    assert tc.remove_boilerplate_lines(text) == (text, ())


# --- 5. Markdown emphasis (seed 003) -----------------------------------------


def test_seed_003_markdown_marks_removed(seed_texts, config):
    cleaned, _ = tc.clean_text(seed_body(seed_texts, "003"), config)
    assert "*" not in cleaned
    for phrase in (
        "have signed a 10-year Defence Framework Agreement, marking a new chapter",
        "US Secretary of War Pete Hegseth following his meeting with Indian Defence Minister Rajnath Singh on Friday.",
        "Describing the framework as “ambitious and forward-looking,” Hegseth said",
        "calling the US-India relationship “one of the most consequential partnerships in the world.”",
        "advance India’s ‘Act East Policy’.",
        "between External Affairs Minister S. Jaishankar and US Secretary of State Marco Rubio,",
        "Commerce Minister Piyush Goyal recently stated",
        "have effectively cemented their defence partnership for the next decade,",
    ):
        assert phrase in cleaned


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a *10-year Defence Framework Agreement*, marking", "a 10-year Defence Framework Agreement, marking"),
        ("Minister **Piyush Goyal** recently", "Minister Piyush Goyal recently"),
        ("***both marks*** here", "both marks here"),
        ("**bold with *italic* inside**", "bold with italic inside"),
        ("* bullet one\n* bullet with *stress*", "* bullet one\n* bullet with stress"),
        ("2 * 3 = 6 and 4 * 5 = 20", "2 * 3 = 6 and 4 * 5 = 20"),
        ("2*3*4 = 24", "2*3*4 = 24"),
        ("he said f**k off", "he said f**k off"),
        ("Revenue* rose and profit* fell", "Revenue* rose and profit* fell"),
        ("*Excluding tax\n*Including tax", "*Excluding tax\n*Including tax"),
        ("an *open\nspan* across lines", "an *open\nspan* across lines"),
    ],
)
def test_strip_markdown_emphasis(raw, expected):
    assert tc.strip_markdown_emphasis(raw) == expected


# --- 6. Title -----------------------------------------------------------------


def test_title_from_seed_002_lead_without_its_dateline(seed_texts, config):
    cleaned, _ = tc.clean_text(seed_body(seed_texts, "002"), config)
    assert cleaned.startswith("Kuala Lumpur, Oct 31 Defence Minister Rajnath Singh on Friday met")
    title = tc.derive_title(cleaned, 120)
    assert title == (
        "Defence Minister Rajnath Singh on Friday met US Secretary of War Pete Hegseth "
        "in Kuala Lumpur, where the two leaders…"
    )
    assert len(title) <= 120


def test_title_from_seed_004_lead_without_pipe_dateline(seed_texts, config):
    cleaned, _ = tc.clean_text(seed_body(seed_texts, "004"), config)
    assert cleaned.startswith("Kuala Lumpur | In a major boost")
    assert tc.derive_title(cleaned, 120).startswith("In a major boost to strategic cooperation, India and")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("India, US sign 10-year defence framework\nKUALA LUMPUR: The two countries signed it.",
         "India, US sign 10-year defence framework"),
        ("WASHINGTON (AP) — The Pentagon said the pact was signed. More follows here.",
         "The Pentagon said the pact was signed"),
        ("NEW DELHI: Mr. Singh met Mr. Hegseth in Kuala Lumpur. It was their first meeting.",
         "Mr. Singh met Mr. Hegseth in Kuala Lumpur"),
        ("By Anna Rao\n\nThe big iFixit teardown is done. The results are in.",
         "The big iFixit teardown is done"),
        ("Updated Saturday, December 05, 2009 8:28 PM\nTexas escapee now on most wanted list.",
         "Texas escapee now on most wanted list"),
        ("Millbrook Echo Staff\n\nAndroid could be about to get more powerful than ever.",
         "Android could be about to get more powerful than ever"),
        ("The talks ended in the U.S.", "The talks ended in the U.S."),
        ("Hi\n\nOk then", None),
    ],
)
def test_derive_title(text, expected):
    assert tc.derive_title(text, 120) == expected


def test_long_lead_is_cut_at_a_word_boundary():
    sentence = "The defence ministers of India and the United States signed a ten-year framework " * 3
    title = tc.derive_title(sentence.strip() + ".", 60)
    assert len(title) <= 60
    assert title.endswith("…")
    assert sentence.startswith(title[:-1])
    assert title[-2] != " "


def test_given_title_only_normalised(config):
    article = make_article("Some article text that is long enough to keep.", title="  **India, US** sign\n pact ")
    outcome = tc.clean_article(article, config)
    assert outcome.article.title == "India, US sign pact"
    assert outcome.title_derived is False


@pytest.mark.parametrize(
    "title, outlet, expected",
    [
        ("Samsung plans to relaunch Note 7 devices - BBC News", "BBC News", "Samsung plans to relaunch Note 7 devices"),
        ("Best tech gadgets of 2019 | ZDNet", "ZDNet", "Best tech gadgets of 2019"),
        ("Nintendo Switch goes on sale | the japan times", "The Japan Times", "Nintendo Switch goes on sale"),
        ("Rubio meets Jaishankar – Reuters", "Reuters", "Rubio meets Jaishankar"),
        ("Reuters - a profile of the agency", "Reuters", "Reuters - a profile of the agency"),  # not at the end
        ("Markets close higher - Reuters", "AP", "Markets close higher - Reuters"),  # another outlet's name stays
        ("Opinion | Is Football Violence a Crime?", "Wall Street Journal", "Opinion | Is Football Violence a Crime?"),
        ("Apple-Reuters", "Reuters", "Apple-Reuters"),  # no separator, no site name
        (" - Reuters", "Reuters", " - Reuters"),  # nothing would be left
        ("Markets close higher - Reuters", None, "Markets close higher - Reuters"),
    ],
)
def test_a_title_loses_a_trailing_site_name_only_when_it_is_the_articles_outlet(title, outlet, expected):
    assert tc.without_outlet_suffix(title, outlet) == expected


@pytest.mark.parametrize(
    "title, outlet, url, expected",
    [
        # Titles and outlets of real rows (../shared/data pages): the site name written another way.
        ("Couple charged in drowning of toddler | Portland Press Herald", "Press Herald", None,
         "Couple charged in drowning of toddler"),
        ("Maine lawmakers push back | The Boston Globe", "BostonGlobe.com", None, "Maine lawmakers push back"),
        ("Students rally for dreamers | The Ithacan", "IthacanOnline", None, "Students rally for dreamers"),
        ("The Louvre Abu Dhabi opens | Inexhibit", "Inexhibit magazine", None, "The Louvre Abu Dhabi opens"),
        ("Joshua Boyle, family held in Pakistan: CIA - National | Globalnews.ca", "Global News",
         "https://globalnews.ca/news/3813633/joshua-boyle/", "Joshua Boyle, family held in Pakistan: CIA - National"),
        # the site name before the headline, a date after it
        ("CNN.com - Lessons learned from Katrina - Sep 22, 2005", "CNN.com", None, "Lessons learned from Katrina"),
        ("Rita batters Louisiana, Texas coasts - Sep 24, 2005", None, None, "Rita batters Louisiana, Texas coasts"),
        # not the outlet's: stays
        ("Android Nougat 7.1.2 update release date REVEALED - Millbrook Echo", "The Wynford Daily", None,
         "Android Nougat 7.1.2 update release date REVEALED - Millbrook Echo"),
        ("All-new 2020 Sentra is what we really want from Nissan PH - Auto News", "AutoIndustriya.com", None,
         "All-new 2020 Sentra is what we really want from Nissan PH - Auto News"),
        ("Sports - Herald wins the cup", "Herald", None, "Sports - Herald wins the cup"),
        ("Euro 2016", None, None, "Euro 2016"),
        ("CNN.com", "CNN.com", None, "CNN.com"),  # nothing would be left
    ],
)
def test_a_given_title_loses_the_site_name_and_date_a_page_title_adds(title, outlet, url, expected):
    assert tc.normalize_title(title, outlet=outlet, url=url) == expected


def test_a_given_title_loses_its_outlets_site_name_in_cleaning(config):
    article = make_article("Some article text that is long enough to keep.", title="Police investigate  cans - BBC  News")
    outcome = tc.clean_article(article.replace(outlet="BBC News"), config)
    assert outcome.article.title == "Police investigate cans"


# The start of a real ECB+ article (1_1ecbplus): its text starts with its headline, as scraped.
HEADLINE_FIRST = (
    "Lindsay Lohan Leaves Betty Ford, Checks Into Malibu Rehab\n"
    "First Published: June 13, 2013 4:59 PM EDT\n"
    "Lindsay Lohan has left the Betty Ford Center and is moving to a rehab facility in Malibu, Calif., "
    "Access Hollywood has confirmed."
)
HEADLINE = "Lindsay Lohan Leaves Betty Ford, Checks Into Malibu Rehab"
# 7_4ecbplus: the file's "title" is the lead sentence, which the text starts with.
LEAD_AS_TITLE = (
    "Wladimir Klitschko stopped Tony Thompson in the sixth round to keep a comfortable hold on his WBA, "
    "IBF and WBO heavyweight title belts on Saturday."
)


@pytest.mark.parametrize(
    "text, title, outlet, expected_first_line",
    [
        # The time stamp under the headline goes too (rule 4).
        (HEADLINE_FIRST, HEADLINE, None, "Lindsay Lohan has left"),
        # Compared as titles are: case, spacing and the site name the page's first line adds.
        (HEADLINE_FIRST.replace("Leaves Betty Ford", "LEAVES  BETTY FORD"), HEADLINE, None, "Lindsay Lohan has left"),
        (HEADLINE + " - Access Hollywood\n\n" + HEADLINE_FIRST.split("\n", 1)[1], HEADLINE, "Access Hollywood",
         "Lindsay Lohan has left"),
        # Not the title: kept.
        (HEADLINE_FIRST, "Lohan moves to Malibu rehab", None, HEADLINE),
        (HEADLINE + ", her spokesman said on Thursday in a statement to reporters.\nMore.", HEADLINE, None,
         HEADLINE + ", her spokesman"),
        # A lead sentence given as the title stays the text's first sentence.
        (LEAD_AS_TITLE + "\nKlitschko put Thompson on the canvas with a big right hand.", LEAD_AS_TITLE, None,
         LEAD_AS_TITLE),
    ],
)
def test_a_first_line_that_repeats_the_title_leaves_the_text(text, title, outlet, expected_first_line, config):
    article = make_article(text, title=title).replace(outlet=outlet)
    outcome = tc.clean_article(article, config)
    assert outcome.article.text.startswith(expected_first_line)
    assert outcome.article.title == tc.normalize_title(title)


def test_a_repeated_title_stays_when_the_rest_would_be_too_short(config):
    text = HEADLINE + "\nShe left on Thursday."
    outcome = tc.clean_article(make_article(text, title=HEADLINE), config)
    assert outcome.article.text == text


def test_a_derived_title_does_not_take_its_line_out_of_the_text(config):
    outcome = tc.clean_article(make_article(HEADLINE_FIRST), config)
    without_time_stamp = HEADLINE_FIRST.replace("First Published: June 13, 2013 4:59 PM EDT\n", "")
    assert outcome.article.text == without_time_stamp and outcome.article.title == HEADLINE


@pytest.mark.parametrize(
    "title, is_stamp",
    [
        # Given titles of ../shared/data's ECB+ and reprint files.
        ("Posted 11 / 27 / 2005 7:21 AM", True),
        ("18 September 2013 Last updated at 13:59 GMT", True),
        ("PUBLISHED FRIDAY, MARCH 8, 2013 AT 12:46 PM / UPDATED AT 12:48 PM", True),
        ("APR 28", True),
        ("Editorial", False),  # one word, but no time
        ("Story 0", False),  # a number and a word that no time stamp has
        ("Euro 2016", False),
        ("Arch Madness: Creighton 65, Drake 5", False),
        ("Saints place RB Pierre Thomas on injured reserve", False),
    ],
)
def test_a_title_that_only_says_when_is_a_time_stamp(title, is_stamp):
    assert tc.is_time_stamp(title) is is_stamp


def test_a_given_time_stamp_title_gives_way_to_the_leads_headline(config):
    # Real record of ../shared/data/reprints (its text shortened).
    text = (
        "Posted 11 / 27 / 2005 7:21 AM\nUpdated 11 / 27 / 2005 3:41 PM\n"
        "Strong earthquake jolts southern Iran, felt in Oman\n"
        "An earthquake measuring at least magnitude 5.9 shook a sparsely populated area of southern Iran on Sunday."
    )
    outcome = tc.clean_article(make_article(text, title="Posted 11 / 27 / 2005 7:21 AM"), config)
    assert outcome.article.title == "Strong earthquake jolts southern Iran, felt in Oman"
    assert outcome.title_derived is True
    assert not outcome.article.text.startswith(("Posted", "Updated"))


def test_time_stamps_and_dated_prose_stay_outside_the_lead():
    prose = "Reid checked herself in on Tuesday, December 9, 2008."
    agency_stamp = "Reuters Sep 18, 2013, 02. 16PM IST"  # a credit line: the agency is read from it
    schedule = "\n".join(f"Paragraph {n} of the article, which goes on." for n in range(5)) + "\nMay 5, 2018"
    for text in (f"{prose}\nMore text follows here.", f"{agency_stamp}\nMicrosoft released a fix.", schedule):
        assert tc.remove_boilerplate_lines(text) == (text, ())


# --- 7. Language --------------------------------------------------------------


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_seeds_are_english(seed_texts, config, number):
    outcome = tc.clean_article(make_article(seed_body(seed_texts, number)), config)
    assert (outcome.article.language, outcome.language_source) == ("en", "detected")


def test_language_detected_overrides_record():
    text = "Le ministre de la Défense a rencontré son homologue américain à Kuala Lumpur vendredi."
    assert tc.identify_language(text, fallback="en") == ("fr", "detected")


def test_short_text_keeps_record_language():
    assert tc.identify_language("India US sign pact", fallback="en-GB") == ("en", "record")
    assert tc.identify_language("India US sign pact", fallback=None) == (None, "unknown")


def test_language_threshold_is_configurable():
    text = "Der Verteidigungsminister traf seinen Kollegen"
    assert tc.identify_language(text, min_chars=40)[0] == "de"
    assert tc.identify_language(text, min_chars=100, fallback="nl") == ("nl", "record")


# --- 8. Wire agency -------------------------------------------------------------

LONG_MIDDLE = " ".join(["The framework sets out ten years of defence cooperation."] * 20)


@pytest.mark.parametrize(
    "text, agency",
    [
        (f"{LONG_MIDDLE} He said the talks went well. (IANS)", "IANS"),
        (f"Singh told Reuters on Friday that the pact was ready. {LONG_MIDDLE}", None),
        (f"{LONG_MIDDLE}\n\n(With inputs from PTI)", "PTI"),
        (f"{LONG_MIDDLE}\n\n(With inputs from agencies)", None),
        (f"NEW DELHI, Oct 31 (PTI) — India and the US signed a pact. {LONG_MIDDLE}", "PTI"),
        (f"WASHINGTON (AP) — The Pentagon said. {LONG_MIDDLE}", "AP"),
        (f"MUMBAI (Reuters) - Shares rose. {LONG_MIDDLE}", "Reuters"),
        (f"PARIS (AFP) - Talks began. {LONG_MIDDLE}", "AFP"),
        (f"BERLIN (dpa) - Talks began. {LONG_MIDDLE}", "dpa"),
        (f"(Bloomberg) -- Stocks fell. {LONG_MIDDLE}", "Bloomberg"),
        (f"NEW DELHI, Oct 31 (UNI) The minister left. {LONG_MIDDLE}", "UNI"),
        (f"{LONG_MIDDLE}\n— ANI", "ANI"),
        (f"By Press Trust of India\n\n{LONG_MIDDLE}", "PTI"),
        (f"{LONG_MIDDLE}\n\nSource: Indo-Asian News Service", "IANS"),
        (f"{LONG_MIDDLE}\n\nAssociated Press contributed to this report.", "AP"),
        (f"{LONG_MIDDLE}\n\nCopyright 2005 The Associated Press. All rights reserved.", "AP"),
        (f"{LONG_MIDDLE} he said. PTI SK RT", "PTI"),
        (f"{LONG_MIDDLE}\n\nAgence France Presse", "AFP"),
        (f"Mayor Michael Bloomberg said the letters were poisoned. {LONG_MIDDLE}", None),
        (f"{LONG_MIDDLE} The governor told the AFP news agency four villages were hit.", None),
        (f"(AP Photo/Evan Vucci) The ministers met. {LONG_MIDDLE}", None),
        (f"{LONG_MIDDLE} Watch the video. — ANI (@ANI) October 31, 2025", None),
        (f"{LONG_MIDDLE} (PTI) {LONG_MIDDLE}", None),  # a credit form outside the windows
        (f"{LONG_MIDDLE}\n\ncmb/sms (Reuters, AP)", "Reuters"),
        (f"MELBOURNE (Reuters Life!) – Caught Twittering at work. {LONG_MIDDLE}", "Reuters"),
        (f"Pakistan Tehreek-e-Insaf (PTI) chairman Imran Khan said. {LONG_MIDDLE}", None),
        (f"{LONG_MIDDLE} Imran Khan leads the Pakistan Tehreek-e-Insaf (PTI).", None),
        (f"Aam Aadmi Party (AAP) leaders met. {LONG_MIDDLE}\n(AAP)", None),
        (f"ISLAMABAD (Xinhua) Pakistan said. {LONG_MIDDLE}", "Xinhua"),
        (f"TOKYO (KYODO) - Japan said. {LONG_MIDDLE}", "Kyodo"),
    ],
)
def test_detect_wire_agency(text, agency):
    assert tc.detect_wire_agency(text, 300) == agency


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_no_seed_is_wire_copy(seed_texts, config, number):
    outcome = tc.clean_article(make_article(seed_body(seed_texts, number)), config)
    assert outcome.article.wire_agency is None


def test_embed_credit_of_seed_001_would_read_as_ani_only_without_debris_removal(seed_texts):
    # The tweet credit "— ANI (@ANI) October 31, 2025" is no credit form either way.
    assert tc.detect_wire_agency(tc.normalize_text(seed_body(seed_texts, "001"))) is None


# --- 9. Words and rejections ---------------------------------------------------


def test_count_words():
    assert tc.count_words("Rajnath Singh met Hegseth, on 31 Oct.") == 7
    assert tc.count_words("国防部长在吉隆坡") == 8
    assert tc.count_words(" \n ") == 0


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty_after_clean"),
        ("\u200b \u00a0\n\n\t", "empty_after_clean"),
        ("#WATCH | Kuala Lumpur: Rajnath Singh and Pete Hegseth exchange the agreement. "
         "pic.twitter.com/YUJN0kyMPq — ANI (@ANI) October 31, 2025", "empty_after_clean"),
        ("Also Read: India, US sign pact\n\nAdvertisement", "empty_after_clean"),
        ("India US sign pact", "too_short"),
    ],
)
def test_rejections(config, text, reason):
    outcome = tc.clean_article(make_article(text), config)
    assert isinstance(outcome, tc.Rejection)
    assert outcome.reason == reason
    assert outcome.detail


def test_min_words_is_configurable():
    article = make_article("India US sign pact")
    assert isinstance(tc.clean_article(article, CleanConfig(min_words=5)), tc.Rejection)
    assert isinstance(tc.clean_article(article, CleanConfig(min_words=4)), tc.CleanedArticle)


def test_switches_turn_rules_off(seed_texts):
    config = CleanConfig(remove_social_debris=False, strip_markdown=False)
    cleaned_001, removed = tc.clean_text(seed_body(seed_texts, "001"), config)
    cleaned_003, _ = tc.clean_text(seed_body(seed_texts, "003"), config)
    assert removed == () and "pic.twitter.com/YUJN0kyMPq" in cleaned_001
    assert "**Piyush Goyal**" in cleaned_003


# --- Config ---------------------------------------------------------------------


def test_config_rejects_unknown_keys_and_is_frozen():
    with pytest.raises(ValidationError, match="min_word"):
        CleanConfig(min_word=3)
    with pytest.raises(ValidationError):
        CleanConfig().min_words = 3
    assert all(field.description for field in CleanConfig.model_fields.values())


# --- 2. Paragraphs of an extracted page ----------------------------------------------------------


def test_an_extracted_pages_lines_are_its_paragraphs(config):
    # A real page of ../shared/data/article_extraction through the HTML reader: trafilatura writes one
    # paragraph per line; the row's text separates paragraphs by a blank line, as the schema says.
    import gzip
    import json

    from tests.conftest import SHARED, require_shared
    from transforms.decoding import decode_bytes
    from transforms.dump_parsing import extract_html_article

    folder = require_shared(SHARED / "data" / "article_extraction")
    with gzip.open(folder / "ground_truth.dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        (gold,) = [r for r in map(json.loads, lines) if r["id"].startswith("156770d676")]  # The Hill
    html = decode_bytes(gzip.decompress((folder / gold["html_file"]).read_bytes()), honour_declaration=True).text
    record = extract_html_article(html, min_words=25, text_date_window=1500)
    article = make_article(record.text, title=record.title).replace(content_source="page")
    paragraphs = tc.clean_article(article, config).article.text.split("\n\n")
    assert len(paragraphs) > 5 and all("\n" not in p for p in paragraphs)
    gold_paragraphs = [p for p in gold["article_body"].split("\n")[1:] if len(p) > 80 and "t.co/" not in p]
    assert gold_paragraphs and set(gold_paragraphs) <= set(paragraphs)


def test_a_files_single_line_breaks_stay(config):
    # ECB+ records of the reprint set: one sentence per line, no blank line; a file's lines are kept.
    text = "Strong earthquake jolts southern Iran, felt in Oman\nAn earthquake measuring at least magnitude 5.9 shook Iran."
    assert tc.clean_article(make_article(text), config).article.text == text
