"""IPTC wire formats: NITF documents and NewsML-G2 items, from IPTC's own examples and
agency-shaped documents, through the pure parser and through ReadFileDumps."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree

import pytest
from apache_beam.testing.util import equal_to

from tests.conftest import FIXTURES
from tests.test_read_files import keyed, kind_outlet_title, letter_key, run_read
from transforms.decoding import RefusedInput
from transforms.dump_parsing import ParsedRecord, sniff_format
from transforms.news_xml import parse_news_date, parse_news_xml

UTC = dt.timezone.utc
WINDOW = 1500
NEWS_XML = FIXTURES / "news_xml"
NITF_NS = "{http://iptc.org/std/NITF/2006-10-18/}"

# Shaped like an agency's NITF delivery: the 2006 namespace, a basic-format date, a photo with
# its caption and an editor's note at the end, neither of which is the story.
AGENCY_NITF = b"""<?xml version="1.0" encoding="utf-8"?>
<nitf xmlns="http://iptc.org/std/NITF/2006-10-18/" version="-//IPTC//DTD NITF 3.4//EN" xml:lang="en-US">
  <head>
    <title>Storm closes ports (title)</title>
    <docdata>
      <doc-id regsrc="AP" id-string="a1b2c3"/>
      <date.issue norm="20241129T170043Z"/>
      <doc.copyright holder="AP" year="2024"/>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1 id="headline">Storm closes ports along the coast</hl1></hedline>
      <byline>By The Associated Press</byline>
      <distributor>The Associated Press</distributor>
    </body.head>
    <body.content>
      <p>SEATTLE (AP) &#8212; A winter storm closed three ports on Friday.</p>
      <media media-type="image"><media-caption><p>Waves hit the harbour wall.</p></media-caption></media>
      <p>Officials said the ports would <em>reopen</em> on Monday.</p>
      <blockquote><p>We have never seen waves like these,</p><p>a harbour master said.</p></blockquote>
    </body.content>
    <body.end><tagline><p>Copyright 2024 The Associated Press.</p></tagline></body.end>
  </body>
</nitf>
"""

MESSAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/">
  <header><sent>2025-10-31T10:05:00Z</sent></header>
  <itemSet>
    <newsItem guid="urn:newsml:wire.example:20251031:story-1" xml:lang="en-GB">
      <itemMeta>
        <itemClass qcode="ninat:text"/>
        <provider qcode="nprov:WIRE"><name>Example Wire</name></provider>
        <versionCreated>2025-10-31T10:00:00Z</versionCreated>
        <firstCreated>2025-10-31T09:30:00+05:30</firstCreated>
      </itemMeta>
      <contentMeta><headline>Ministers meet in Kuala Lumpur</headline></contentMeta>
      <contentSet>
        <inlineXML contenttype="application/xhtml+xml">
          <html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>
            <body><p>Defence ministers met on Friday.</p><p>They signed a framework.</p></body></html>
        </inlineXML>
      </contentSet>
    </newsItem>
    <newsItem guid="urn:newsml:wire.example:20251031:photo-1">
      <itemMeta><itemClass qcode="ninat:picture"/><provider qcode="nprov:WIRE"/></itemMeta>
      <contentSet><remoteContent href="https://wire.example/photo-1.jpg"/></contentSet>
    </newsItem>
    <newsItem guid="urn:newsml:wire.example:20251031:brief-1">
      <itemMeta><itemClass qcode="ninat:text"/><provider literal="Example Wire Briefs"/>
        <versionCreated>20251031T1100Z</versionCreated></itemMeta>
      <contentSet><inlineData contenttype="text/plain">Markets closed higher.

Oil fell.</inlineData></contentSet>
    </newsItem>
  </itemSet>
</newsMessage>
"""


def test_iptcs_sports_story_example_gives_its_nitf_paragraphs_and_metadata():
    path = NEWS_XML / "iptc_listing22_sports_story.xml"
    (record,) = parse_news_xml(path.read_bytes(), WINDOW)
    content = next(ElementTree.parse(path).iter(f"{NITF_NS}body.content"))
    expected_paragraphs = [" ".join("".join(p.itertext()).split()) for p in content.iter(f"{NITF_NS}p")]
    assert record.text.split("\n\n") == expected_paragraphs and len(expected_paragraphs) == 6
    assert record.title == "Preview: Arizona Diamondbacks (29-23) at Philadelphia Phillies (26-24), 7:05 p.m."
    assert (record.record_id, record.language, record.outlet) == ("tag:xmlteam.com,2016:xt.5932656-preview", "en", "www.xmlteam.com")
    # No firstCreated: contentCreated, 2016-10-19T11:15:00-05:00.
    assert (record.published_at, record.date_source) == (dt.datetime(2016, 10, 19, 16, 15, tzinfo=UTC), "record")


def test_iptcs_news_item_example_without_text_is_refused_as_missing_text():
    (refused,) = parse_news_xml((NEWS_XML / "iptc_listing1_news_item.xml").read_bytes(), WINDOW)
    assert isinstance(refused, RefusedInput) and refused.reason == "missing_text"
    assert "urn:newsml:acmenews.com:20161018:US-FINANCE-FED" in refused.detail


def test_an_agency_nitf_document_is_one_story_without_its_captions_and_notes():
    (record,) = parse_news_xml(AGENCY_NITF, WINDOW)
    assert record == ParsedRecord(
        text=(
            "SEATTLE (AP) \u2014 A winter storm closed three ports on Friday.\n\n"
            "Officials said the ports would reopen on Monday.\n\n"
            "We have never seen waves like these,\n\n"
            "a harbour master said."
        ),
        title="Storm closes ports along the coast",
        url=None,
        outlet="AP",
        published_at=dt.datetime(2024, 11, 29, 17, 0, 43, tzinfo=UTC),
        date_source="record",
        language="en",
        record_id="a1b2c3",
    )


def test_a_news_message_gives_one_result_per_item_and_refuses_what_is_not_text():
    story, photo, brief = parse_news_xml(MESSAGE, WINDOW)
    assert (story.title, story.outlet, story.language, story.record_id) == (
        "Ministers meet in Kuala Lumpur", "Example Wire", "en", "urn:newsml:wire.example:20251031:story-1"
    )
    assert story.text == "Defence ministers met on Friday.\n\nThey signed a framework."
    assert story.published_at == dt.datetime(2025, 10, 31, 4, 0, tzinfo=UTC)  # firstCreated wins
    assert isinstance(photo, RefusedInput) and photo.reason == "not_text_item" and "ninat:picture" in photo.detail
    assert (brief.text, brief.outlet, brief.published_at) == ("Markets closed higher.\n\nOil fell.", "Example Wire Briefs", dt.datetime(2025, 10, 31, 11, 0, tzinfo=UTC))


# Shaped like an agency's NewsML 1.x delivery: a story whose main component carries NITF and a
# caption component beside it, and a photo item with no text at all.
NEWSML_1 = b"""<?xml version="1.0" encoding="UTF-8"?>
<NewsML Version="1.2">
  <NewsEnvelope><SentFrom><Party FormalName="Wire Desk Sender"/></SentFrom><DateAndTime>20240301T101500Z</DateAndTime></NewsEnvelope>
  <NewsItem>
    <Identification><NewsIdentifier>
      <ProviderId>wire.example</ProviderId><DateId>20240301</DateId><NewsItemId>story-9</NewsItemId>
      <PublicIdentifier>urn:newsml:wire.example:20240301:story-9:2</PublicIdentifier>
    </NewsIdentifier></Identification>
    <NewsManagement>
      <NewsItemType FormalName="News"/>
      <FirstCreated>20240301T093000+0100</FirstCreated>
      <ThisRevisionCreated>20240301T101500Z</ThisRevisionCreated>
    </NewsManagement>
    <NewsComponent>
      <NewsLines><HeadLine>Flood warnings lifted along the river</HeadLine><DateLine>KOBLENZ</DateLine></NewsLines>
      <AdministrativeMetadata><Provider><Party FormalName="Example Wire"/></Provider></AdministrativeMetadata>
      <DescriptiveMetadata><Language FormalName="de-DE"/></DescriptiveMetadata>
      <NewsComponent>
        <Role FormalName="Main"/>
        <ContentItem>
          <MediaType FormalName="Text"/><Format FormalName="NITF"/><MimeType FormalName="text/vnd.IPTC.NITF"/>
          <DataContent><nitf><body><body.head><hedline><hl1>Flood warnings lifted</hl1></hedline></body.head>
            <body.content><p>KOBLENZ (Wire) - Authorities lifted the flood warnings on Friday.</p>
            <p>The river fell below the alarm level overnight.</p></body.content></body></nitf></DataContent>
        </ContentItem>
      </NewsComponent>
      <NewsComponent>
        <Role FormalName="Caption"/>
        <ContentItem><MediaType FormalName="Text"/><MimeType FormalName="text/plain"/>
          <DataContent>A boat on the river bank.</DataContent></ContentItem>
      </NewsComponent>
    </NewsComponent>
  </NewsItem>
  <NewsItem>
    <Identification><NewsIdentifier><ProviderId>wire.example</ProviderId>
      <PublicIdentifier>urn:newsml:wire.example:20240301:photo-3:1</PublicIdentifier></NewsIdentifier></Identification>
    <NewsComponent>
      <ContentItem Href="photo-3.jpg"><MediaType FormalName="Photo"/><MimeType FormalName="image/jpeg"/></ContentItem>
    </NewsComponent>
  </NewsItem>
</NewsML>
"""


def test_iptcs_newsml_1_press_release_reads_its_body_component_only():
    (record,) = parse_news_xml((NEWS_XML / "iptc_newsml1_businesswire_20130731006140.xml").read_bytes(), WINDOW)
    assert record.title == "Lunch Taking a Toll? Let Applebee’s® Industrial Strength Lunch Decoy Stand In"
    paragraphs = record.text.split("\n\n")
    assert paragraphs[0].startswith("With more Applebee’s® Lunch Combos than ever – enough to try a new")
    assert paragraphs[-1].startswith("Applebee’s Neighborhood Grill and Bar® (")
    # The headline, sub-headline, contact and style-sheet components are not the story.
    assert "cwagner@crossroads.us" not in record.text and "bwuline" not in record.text
    assert "62-Inch" not in record.text
    assert (record.outlet, record.language) == ("Business Wire", "en")
    assert record.record_id == "urn:newsml:businesswire.com:20010714:20130731006140:1"
    assert (record.published_at, record.date_source) == (dt.datetime(2013, 7, 31, 15, 32, tzinfo=UTC), "record")


def test_a_newsml_1_document_gives_one_result_per_item_with_its_provider_and_first_created_time():
    story, photo = parse_news_xml(NEWSML_1, WINDOW)
    assert story.text == (
        "KOBLENZ (Wire) - Authorities lifted the flood warnings on Friday.\n\n"
        "The river fell below the alarm level overnight."
    )
    assert (story.title, story.outlet, story.language) == ("Flood warnings lifted along the river", "Example Wire", "de")
    assert story.published_at == dt.datetime(2024, 3, 1, 8, 30, tzinfo=UTC)  # FirstCreated, +0100
    assert story.record_id == "urn:newsml:wire.example:20240301:story-9:2"
    assert isinstance(photo, RefusedInput) and photo.reason == "not_text_item"
    assert "urn:newsml:wire.example:20240301:photo-3:1" in photo.detail


def test_a_newsml_1_item_without_a_provider_is_credited_to_its_sender_and_without_text_refused():
    no_provider = NEWSML_1.replace(b'<AdministrativeMetadata><Provider><Party FormalName="Example Wire"/></Provider></AdministrativeMetadata>', b"")
    story, _ = parse_news_xml(no_provider, WINDOW)
    assert story.outlet == "Wire Desk Sender"
    empty = b'<NewsML><NewsItem><NewsComponent><NewsLines><HeadLine>Only a head</HeadLine></NewsLines></NewsComponent></NewsItem></NewsML>'
    (refused,) = parse_news_xml(empty, WINDOW)
    assert isinstance(refused, RefusedInput) and refused.reason == "missing_text"


# Shaped like a Reuters Corpus (RCV1) file: ISO-8859-1, a slugged title, metadata codes and
# Dublin Core elements.
RCV1_ITEM = """<?xml version="1.0" encoding="iso-8859-1" ?>
<newsitem itemid="2286" id="root" date="1996-08-20" xml:lang="en">
<title>MEXICO: Recovery excitement brings Mexican markets to life.</title>
<headline>Recovery excitement brings Mexican markets to life.</headline>
<byline>A Correspondent</byline>
<dateline>MEXICO CITY 1996-08-20</dateline>
<text>
<p>Emerging evidence that Mexico's economy was back on the recovery track sent markets into a buzz.</p>
<p>The peso firmed against the dollar, traders said.</p>
</text>
<copyright>(c) Reuters Limited 1996</copyright>
<metadata>
<codes class="bip:countries:1.0"><code code="MEX"><editdetail attribution="Coding Group" action="confirmed" date="1996-08-20"/></code></codes>
<dc element="dc.date.created" value="1996-08-20"/>
<dc element="dc.publisher" value="Reuters Holdings Plc"/>
<dc element="dc.date.published" value="1996-08-20"/>
<dc element="dc.source" value="Reuters"/>
<dc element="dc.creator.location" value="MEXICO CITY"/>
</metadata>
</newsitem>
""".encode("iso-8859-1")


def test_a_reuters_corpus_item_reads_its_headline_paragraphs_date_and_source():
    (record,) = parse_news_xml(RCV1_ITEM, WINDOW)
    assert record == ParsedRecord(
        text=(
            "Emerging evidence that Mexico's economy was back on the recovery track sent markets into a buzz.\n\n"
            "The peso firmed against the dollar, traders said."
        ),
        title="Recovery excitement brings Mexican markets to life.",
        url=None,
        outlet="Reuters",
        published_at=dt.datetime(1996, 8, 20, tzinfo=UTC),
        date_source="record",
        language="en",
        record_id="2286",
    )
    with pytest.raises(RefusedInput) as refused:  # one story per file: the file is the record refused
        list(parse_news_xml(b'<newsitem itemid="9"><headline>Only a head</headline><text/></newsitem>', WINDOW))
    assert refused.value.reason == "missing_text" and "item 9" in refused.value.detail


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<nitf><body><body.content><p>cut off", "malformed_xml"),
        (b'<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header/></newsMessage>', "empty_file"),
        (b"<NewsML><NewsEnvelope/></NewsML>", "empty_file"),
    ],
)
def test_documents_that_hold_no_story_are_refused_with_a_reason(body, reason):
    with pytest.raises(RefusedInput) as refused:
        list(parse_news_xml(body, WINDOW))
    assert refused.value.reason == reason


def test_entities_that_would_expand_past_the_limit_are_refused_before_parsing():
    laughs = b'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9)
    ) + b"]><nitf><body><body.content><p>&j; and words</p></body.content></body></nitf>"
    with pytest.raises(RefusedInput) as refused:
        list(parse_news_xml(laughs, WINDOW))
    assert refused.value.reason == "xml_entity_expansion"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20241129T170043Z", dt.datetime(2024, 11, 29, 17, 0, 43, tzinfo=UTC)),
        ("20131026", dt.datetime(2013, 10, 26, tzinfo=UTC)),
        ("20131026T0930-0500", dt.datetime(2013, 10, 26, 14, 30, tzinfo=UTC)),
        ("2016-10-18T13:12:21-05:00", dt.datetime(2016, 10, 18, 18, 12, 21, tzinfo=UTC)),
        ("20131345", None),
        ("yesterday", None),
    ],
)
def test_iptc_dates_in_either_iso_form(value, expected):
    assert parse_news_date(value) == expected


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (AGENCY_NITF.decode(), "story.xml", "nitf"),
        ("<nitf><head><title>T</title></head>", "", "nitf"),  # undeclared, and its title is no HTML
        (MESSAGE.decode(), "wire.xml", "newsml"),
        ('<?xml version="1.0"?>\n<g2:newsItem xmlns:g2="http://iptc.org/std/nar/2006-10-01/">', "", "newsml"),
        (NEWSML_1.decode(), "wire.xml", "newsml"),
        ('\n<NewsML Version="1.2">\n   <Catalog Href="x"/>', "", "newsml"),
        (RCV1_ITEM.decode("iso-8859-1"), "2286newsML.xml", "rcv1"),
    ],
)
def test_iptc_documents_are_sniffed_by_their_root(head, name, expected):
    assert sniff_format(head, name) == expected


def test_a_wire_desks_folder_is_read_with_every_item_counted(tmp_path):
    (tmp_path / "story.xml").write_bytes(AGENCY_NITF)
    (tmp_path / "message.xml").write_bytes(MESSAGE)
    (tmp_path / "broken.nitf").write_bytes(b"<nitf><body>")
    (tmp_path / "old_wire.xml").write_bytes(NEWSML_1)
    (tmp_path / "2286newsML.xml").write_bytes(RCV1_ITEM)

    records = run_read(
        [tmp_path / "*"],
        keyed(
            kind_outlet_title,
            [
                ("story.xml", "nitf", "AP", "Storm closes ports along the coast"),
                ("message.xml[0]", "newsml", "Example Wire", "Ministers meet in Kuala Lumpur"),
                ("message.xml[2]", "newsml", "Example Wire Briefs", None),
                ("old_wire.xml[0]", "newsml", "Example Wire", "Flood warnings lifted along the river"),
                ("2286newsML.xml", "rcv1", "Reuters", "Recovery excitement brings Mexican markets to life."),
            ],
        ),
        keyed(
            letter_key,
            [
                ("message.xml[1]", "read.newsml", "not_text_item"),
                ("broken.nitf", "read.nitf", "malformed_xml"),
                ("old_wire.xml[1]", "read.newsml", "not_text_item"),
            ],
        ),
    )
    assert records == 8


def test_a_newsml_g2_package_refers_to_stories_and_is_refused_saying_so(tmp_path):
    (tmp_path / "package.xml").write_bytes(
        b'<?xml version="1.0"?>\n<packageItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:pkg:1">'
        b'<groupSet root="G1"><group id="G1" role="group:main"><itemRef residref="urn:story:1"/></group></groupSet>'
        b"</packageItem>"
    )

    def says_what_it_is(letters):
        assert [(letter.reason, "package" in letter.detail) for letter in letters] == [("unsupported_format", True)]

    records = run_read([tmp_path / "*"], equal_to([]), says_what_it_is)
    assert records == 1
