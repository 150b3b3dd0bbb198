"""IPTC ninjs records (1.x, 2.x, 3.x), from IPTC's own examples and agency-shaped records,
through the pure parser and through ReadFileDumps."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tests.conftest import FIXTURES
from tests.test_read_files import keyed, kind_outlet_title, letter_key, run_read
from transforms.decoding import RefusedInput
from transforms.ninjs import is_ninjs, parse_news_json

UTC = dt.timezone.utc
WINDOW = 1500
NINJS = FIXTURES / "ninjs"


def example(name: str) -> dict:
    return json.loads((NINJS / name).read_text(encoding="utf-8"))


def test_ninjs_1_text_item_reads_its_plain_body_headline_and_version_time():
    record = parse_news_json(example("ninjs1.4_ninjsExSimpleText1.json"), WINDOW)
    assert record.title == "Captain of wrecked cruise ship on trial in Italy"
    assert record.text.startswith("GROSSETO, Italy (AP) -- The trial of the captain")
    assert record.text.endswith("Schettino has denied wrongdoing.")
    assert record.published_at == dt.datetime(2013, 7, 9, 10, 37, tzinfo=UTC)
    assert record.date_source == "record"
    assert record.record_id == "http://ninjs.example.com/newsitems/20130709simp123"
    assert record.url is None  # a ninjs uri names the item; it is no link to a page


def test_ninjs_2_html_body_becomes_paragraphs_with_headline_holder_and_language():
    record = parse_news_json(example("ninjs2.1_dpa_text.json"), WINDOW)
    assert record.title == "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?"
    paragraphs = record.text.split("\n\n")
    assert paragraphs[0].startswith("Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren».")
    assert paragraphs[2].startswith("BEHAUPTUNG: Referee Zwayer aus Berlin")
    assert "<p>" not in record.text and "section" not in record.text
    assert record.outlet == "dpa"
    assert record.language == "de"
    assert record.published_at == dt.datetime(2019, 5, 10, 14, 2, 28, tzinfo=UTC)


def test_ninjs_2_item_without_bodies_reads_its_description_and_first_created_time():
    record = parse_news_json(example("ninjs2.1_ntb_text.json"), WINDOW)
    assert record.title == "Google har kjøpt giganttomt i Skien"
    assert record.text.startswith("IT-giganten Google har kjøpt en tomt på nærmere 2.000 mål i Skien")
    assert record.outlet == "NTB"
    assert record.language == "nb"
    # firstcreated (09:30:04), not the later versioncreated (09:46:53)
    assert record.published_at == dt.datetime(2019, 8, 9, 9, 30, 4, tzinfo=UTC)


def test_ninjs_3_camel_case_properties_are_read_like_lower_case_ones():
    record = parse_news_json(example("ninjs3.0_tt_text_image_3.json"), WINDOW)
    assert record.title == "Militärövning i jätteformat hålls 2023"
    assert "Pandemin satte stopp för den stora internationella militärövningen Aurora 2020" in record.text
    assert record.outlet == "TT"
    assert record.language == "sv"
    assert record.published_at == dt.datetime(2021, 5, 26, 11, 40, 18, tzinfo=UTC)


def test_ninjs_3_composite_press_release_reads_its_xhtml_body_without_source_line_breaks():
    record = parse_news_json(example("ninjs3.0_businesswire-newsml-20130731006140.json"), WINDOW)
    assert record.title.startswith("Lunch Taking a Toll? Let Applebee")
    first = record.text.split("\n\n")[0]
    # The markup wraps its source lines; a reader sees one paragraph, one line.
    assert "\n" not in first
    assert first.startswith("With more Applebee’s® Lunch Combos than ever – enough to try a new combination")


def test_ninjs_picture_is_not_a_story_whatever_caption_it_carries():
    with pytest.raises(RefusedInput) as refused:
        parse_news_json(example("ninjs3.0_ap_image.json"), WINDOW)
    assert refused.value.reason == "not_text_item"
    assert "picture" in refused.value.detail


def test_the_story_body_is_chosen_over_a_summary_and_plain_text_over_markup():
    record = parse_news_json(
        {
            "uri": "urn:wire:1",
            "headlines": [{"role": "sub", "value": "Second deck"}, {"role": "main", "value": "Main head"}],
            "bodies": [
                {"role": "summary", "contenttype": "text/plain", "value": "One-line summary."},
                {"role": "html", "contenttype": "text/html", "value": "<p>Marked up story.</p>"},
                {"role": "text", "contenttype": "text/plain", "value": "Plain story.\nSecond line."},
            ],
        },
        WINDOW,
    )
    assert record.title == "Main head"
    assert record.text == "Plain story.\nSecond line."


def test_a_records_own_plain_fields_win_over_the_ninjs_mapping():
    record = parse_news_json(
        {
            "uri": "urn:wire:2",
            "text": "The record's own text.",
            "bodies": [{"value": "The ninjs body."}],
            "outlet": "Own Outlet",
            "copyrightholder": "Holder",
            "date": "2024-01-02T03:04:05Z",
            "firstcreated": "2020-01-01T00:00:00Z",
        },
        WINDOW,
    )
    assert (record.text, record.outlet) == ("The record's own text.", "Own Outlet")
    assert record.published_at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_ninjs_1_html_body_and_an_unparseable_first_time_fall_back_in_order():
    record = parse_news_json(
        {
            "uri": "urn:wire:3",
            "headline": "Head",
            "title": "slug-name",
            "body_html": "<p>First\n paragraph.</p><p>Second.</p>",
            "firstcreated": "not a time",
            "versioncreated": "2022-06-01T12:00:00+02:00",
            "infosource": [{"role": "originfo"}, {"name": "Agency X"}],  # 1.x's name for infosources
        },
        WINDOW,
    )
    assert record.title == "Head"  # ninjs's title is a short name for the item, not its headline
    assert record.text == "First paragraph.\n\nSecond."
    assert record.published_at == dt.datetime(2022, 6, 1, 10, 0, tzinfo=UTC)
    assert record.outlet == "Agency X"


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"uri": "urn:wire:4", "type": "text", "headlines": [{"value": "Head only"}]}, "missing_text"),
        ({"uri": "urn:wire:5", "bodies": [{"role": "summary", "value": "A summary only."}]}, "missing_text"),
        ({"uri": "urn:wire:6", "bodies": [{"value": "   "}], "versioncreated": "2020-01-01"}, "missing_text"),
        ({"uri": "urn:wire:7", "type": "Video", "bodies": [{"value": "A script."}]}, "not_text_item"),
    ],
)
def test_ninjs_items_without_a_story_are_refused_with_a_reason(record, reason):
    with pytest.raises(RefusedInput) as refused:
        parse_news_json(record, WINDOW)
    assert refused.value.reason == reason
    assert record["uri"] in refused.value.detail


def test_only_records_with_a_uri_and_a_ninjs_property_are_read_as_ninjs():
    assert is_ninjs({"uri": "urn:x", "versionCreated": "2020-01-01"})
    assert is_ninjs({"uri": "urn:x", "body_text": "text"})
    assert not is_ninjs({"uri": "urn:x", "text": "text", "title": "t"})
    assert not is_ninjs({"bodies": [{"value": "text"}]})
    # A plain record keeps the plain rules: its `title` is its title.
    plain = parse_news_json({"uri": "urn:x", "title": "Title", "headline": "Headline", "text": "Text."}, WINDOW)
    assert plain.title == "Title"


def test_a_folder_of_ninjs_files_and_a_jsonl_of_ninjs_lines_are_read_with_every_item_counted(tmp_path):
    for name in ("ninjs2.1_dpa_text.json", "ninjs3.0_ap_image.json", "ninjs3.0_tt_text_image_3.json"):
        shutil.copy(NINJS / name, tmp_path / name)
    lines = [
        {"uri": "urn:wire:a", "headlines": [{"value": "A"}], "bodies": [{"value": "Story A text here."}]},
        {"uri": "urn:wire:b", "type": "audio", "headlines": [{"value": "B"}]},
    ]
    (tmp_path / "wire.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")

    records = run_read(
        [tmp_path / "*"],
        keyed(
            kind_outlet_title,
            [
                ("ninjs2.1_dpa_text.json", "jsonl", "dpa", "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?"),
                ("ninjs3.0_tt_text_image_3.json", "jsonl", "TT", "Militärövning i jätteformat hålls 2023"),
                ("wire.jsonl:1", "jsonl", tmp_path.name, "A"),
            ],
        ),
        keyed(letter_key, [("ninjs3.0_ap_image.json", "read.jsonl", "not_text_item"), ("wire.jsonl:2", "read.jsonl", "not_text_item")]),
    )
    assert records == 5
