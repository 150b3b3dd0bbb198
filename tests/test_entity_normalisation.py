"""Pure entity normalisation rules on hand-made mentions (no Beam, no spaCy)."""

from __future__ import annotations

import random

import pytest

from transforms.entity_normalisation import (
    DEFAULT_ALIASES,
    AliasFileError,
    NameStats,
    RawMention,
    apply_merge_map,
    build_alias_table,
    build_merge_map,
    build_window_names,
    clean_mention,
    count_observations,
    headline_flags,
    load_alias_table,
    merge_name_stats,
    normalise_article,
    observe_names,
    same_person,
    ships_in_text,
    speaks_of_ships,
    storm_or_vessel,
    surname_blocks,
    tagging_view,
)
from transforms.schema import Entity

ALIASES = build_alias_table(DEFAULT_ALIASES)
# A stand-in vocabulary: the real one is the tagger's (spaCy's trained strings).
KNOWN_WORDS = frozenset(
    {"Marco", "Pete", "Peter", "Mark", "Mary", "Paul", "Paula", "Donald", "Trump", "Singh", "Susan", "Suzanne"}
)


def known(word: str) -> bool:
    return word in KNOWN_WORDS


@pytest.mark.parametrize(
    ("text", "label", "name"),
    [
        ("Rajnath Singh's", "PERSON", "Rajnath Singh"),
        ("Reuters'", "ORG", "Reuters"),
        ("Donald Trump*", "PERSON", "Donald Trump"),
        ("Marco Rubio**", "PERSON", "Marco Rubio"),
        ("the United States", "GPE", "United States"),
        ("India\u2019s External Affairs", "ORG", "India's External Affairs"),
        ("US Secretary of War Pete Hegseth", "PERSON", "Pete Hegseth"),
        ("Secretary of State Marco Rubio", "PERSON", "Marco Rubio"),
        ("Secretary of Homeland Security Kristi Noem", "PERSON", "Kristi Noem"),
        ("External Affairs Minister S Jaishankar", "PERSON", "S. Jaishankar"),
        ("Mr. Singh", "PERSON", "Singh"),
        ("Dr Jane  Goodall", "PERSON", "Jane Goodall"),
        ("President Donald Trump", "PERSON", "Donald Trump"),
        ("Colts QB Andrew Luck", "PERSON", "Andrew Luck"),  # a team's role, as "Colts coach Chuck Pagano"
        ("Stephen King", "PERSON", "Stephen King"),
        ("King Charles", "PERSON", "King Charles"),
        ("Prince Harry", "PERSON", "Prince Harry"),
        ("S Jaishankar", "PERSON", "S. Jaishankar"),
        ("S. Jaishankar", "PERSON", "S. Jaishankar"),
        ("B.N. Reddy", "PERSON", "B.N. Reddy"),
        ("B. N. Reddy", "PERSON", "B.N. Reddy"),
        ("George W Bush", "PERSON", "George W. Bush"),
        ("Malcolm X", "PERSON", "Malcolm X"),
        ("Bashar al-Assad", "PERSON", "Bashar al-Assad"),
        ("Ursula von der Leyen", "PERSON", "Ursula von der Leyen"),
        ("eBay", "ORG", "eBay"),
        ("U.S.", "GPE", "U.S."),
        # Occupations written as false titles go from the front of a name, and only from there.
        ("Comedian Ellen DeGeneres", "PERSON", "Ellen DeGeneres"),
        ("Lawyer Alexis Kougias", "PERSON", "Alexis Kougias"),
        ("Trooper William Hakim", "PERSON", "William Hakim"),
        ("Police Detective Dawn Retzlaff", "PERSON", "Dawn Retzlaff"),
        ("John Singer Sargent", "PERSON", "John Singer Sargent"),
        ("Gary Player", "PERSON", "Gary Player"),
        ("Singer", "PERSON", "Singer"),  # no name follows: a surname
        ("Unemployed John Jenkin", "PERSON", "John Jenkin"),
        ("Receptionist Madeline Kafoury", "PERSON", "Madeline Kafoury"),
        ("Paul Nurse", "PERSON", "Paul Nurse"),
        ("James Clerk Maxwell", "PERSON", "James Clerk Maxwell"),
        # Positions in capitals are titles before a given name and a surname, and only there:
        # before one word they are as often initials.
        ("Lions RB Joique Bell", "PERSON", "Joique Bell"),
        ("Red Sox GM Theo Epstein", "PERSON", "Theo Epstein"),
        ("GM Siddeshwara", "PERSON", "GM Siddeshwara"),
        ("TE Lawrence", "PERSON", "TE Lawrence"),
        ("Te Rauparaha", "PERSON", "Te Rauparaha"),
        # A written-out title at the end may be a surname; "Sen" is one.
        ("John Major", "PERSON", "John Major"),
        ("Amartya Sen", "PERSON", "Amartya Sen"),
        ("Arcade Joseph Comeaux Jr.", "PERSON", "Arcade Joseph Comeaux Jr."),
    ],
)
def test_clean_mention_keeps_the_name(text, label, name):
    result = clean_mention(text, label)
    assert (result.name, result.dropped_because) == (name, None)


@pytest.mark.parametrize(
    ("text", "label", "name"),
    [
        # Spans of ../shared/data's articles as the small model tagged them.
        ("Police Service of", "ORG", "Police Service"),
        ("University of North Carolina at", "ORG", "University of North Carolina"),
        ("Gulf for days", "LOC", "Gulf"),
        ("Overwatch on multiple platforms", "ORG", "Overwatch"),
        ("iPad Pro and", "ORG", "iPad Pro"),
        # A name goes on with a capitalised word.
        ("Bureau of Alcohol, Tobacco, Firearms and Explosives", "ORG", "Bureau of Alcohol, Tobacco, Firearms and Explosives"),
        ("Department of the Interior", "ORG", "Department of the Interior"),
        ("Bosnia and Herzegovina", "GPE", "Bosnia and Herzegovina"),
        ("Lean In", "ORG", "Lean In"),  # a capitalised connector is part of the name
        # Not a connector: a descriptor stays.
        ("Kandahar province", "GPE", "Kandahar province"),
    ],
)
def test_a_name_is_cut_before_a_connector_that_only_lower_case_words_follow(text, label, name):
    assert clean_mention(text, label).name == name


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ("info sharing", "PERSON", "lowercase"),  # the small model's slip on the seeds
        ("states & India", "ORG", "lowercase"),
        ("Hegseth posted", "PERSON", "lowercase_token"),
        ("@SecWar", "PERSON", "handle"),
        ("@SecWar Pete Hegseth", "PERSON", "handle"),
        ("#WATCH", "ORG", "handle"),
        ("Singh\n\nWelcoming", "ORG", "line_break"),
        ("pic.twitter.com/YUJN0kyMPq", "ORG", "url"),
        ("2025", "ORG", "no_letters"),
        ("*--*", "PERSON", "no_letters"),
        ("X", "PERSON", "too_short"),
        ("GMT", "ORG", "time_zone"),  # "13:59 GMT" of a time stamp, tagged ORG by the small model
        ("IST", "ORG", "time_zone"),
        # Spans the small model cut after an abbreviated title, before the name.
        ("Bloomington Police Sgt", "PERSON", "title_only"),
        ("Bloomington Police Sgt.", "PERSON", "title_only"),
        ("Atty", "PERSON", "title_only"),
        ("Assoc Prof", "PERSON", "title_only"),
    ],
)
def test_clean_mention_drops_junk_with_its_reason(text, label, reason):
    result = clean_mention(text, label)
    assert (result.name, result.dropped_because) == (None, reason)


@pytest.mark.parametrize("variant", ["US", "U.S.", "USA", "U.S.A.", "United States", "United States of America", "America"])
def test_united_states_aliases(variant):
    result = normalise_article([RawMention(variant, "GPE")], ALIASES)
    assert [(e.label, e.norm) for e in result.entities] == [("GPE", "United States")]


def test_alias_sets_the_label():
    result = normalise_article([RawMention("U.S.", "ORG"), RawMention("Britain", "GPE")], ALIASES)
    assert [(e.label, e.norm) for e in result.entities] == [("GPE", "United States"), ("GPE", "United Kingdom")]


def test_platforms_the_model_tags_as_people_or_places_become_organisations():
    mentions = [RawMention("Twitter", "PERSON"), RawMention("Netflix", "GPE"), RawMention("Reddit", "NORP")]
    result = normalise_article(mentions, ALIASES)
    assert [(e.label, e.norm) for e in result.entities] == [("ORG", "Twitter"), ("ORG", "Netflix"), ("ORG", "Reddit")]


@pytest.mark.parametrize(
    "text, label, norm",
    [
        ("Calif.", "GPE", "California"),
        ("Mo.", "GPE", "Missouri"),
        ("N.Y.", "GPE", "New York"),
        ("W. Va.", "LOC", "West Virginia"),
        ("La.", "GPE", "Louisiana"),
        ("LA", "GPE", "LA"),  # Los Angeles, not La.
        ("Mo", "PERSON", "Mo"),  # a first name
        ("Miss.", "PERSON", "Miss."),  # a title the model left in the span
    ],
)
def test_state_abbreviations_are_aliased_only_as_written_places(text, label, norm):
    entities = normalise_article([RawMention(text, label)], ALIASES).entities
    assert [e.norm for e in entities] == [norm]


@pytest.mark.parametrize(
    "name, preceding, ship_context, thing",
    [
        ("Cyclone Debbie", "", False, ("EVENT", "Cyclone Debbie", "Debbie")),
        ("Typhoon Lan LIVE", "", False, ("EVENT", "Typhoon Lan", "Lan")),  # a headline run-on
        ("Rita", "than did Hurricane", False, ("EVENT", "Hurricane Rita", "Rita")),
        ("Lan", "Tropical Storm", False, ("EVENT", "Tropical Storm Lan", "Lan")),
        ("HURRICANE SANDY", "", False, ("EVENT", "Hurricane SANDY", "SANDY")),
        ("Hurricane Center", "National", False, None),
        ("Relief Fund", "Hurricane", False, None),
        ("Storm Reid", "", False, None),  # an actress: a bare "Storm" is no storm word
        ("Reid", "actress Storm", False, None),
        ("Katrina", "hurricane", False, None),  # written in lower case: a word, not a name's part
        ("INS Mysore", "", False, ("PRODUCT", "INS Mysore", "Mysore")),
        ("Donald Cook", "the USS", False, ("PRODUCT", "USS Donald Cook", "Donald Cook")),
        ("MV Gibe", "", True, ("PRODUCT", "MV Gibe", "Gibe")),
        ("Gibe", "hijacked M/V", True, ("PRODUCT", "MV Gibe", "Gibe")),
        ("MV Govindan", "", False, None),  # initials, in an article that speaks of no ship
        ("Mysore", "city of", False, None),
    ],
)
def test_storms_and_ships_are_told_by_their_storm_word_or_prefix(name, preceding, ship_context, thing):
    found = storm_or_vessel(name, preceding, ship_context)
    assert (tuple(found) if found else None) == thing


def test_a_storm_or_ship_names_its_bare_mentions_and_is_dropped_unless_its_label_is_kept():
    mentions = [
        RawMention("Hurricane Camille", "EVENT", preceding="than did"),
        RawMention("Camille", "PERSON", preceding="that survived"),
        RawMention("Mary Landrieu", "PERSON", preceding="Senator"),
        RawMention("Sukanya", "GPE", preceding="vessel"),
        RawMention("INS Sukanya", "PERSON"),
        RawMention("Mysore", "GPE", preceding="in"),
    ]
    default = normalise_article(mentions, ALIASES, labels={"PERSON", "ORG", "GPE", "LOC", "NORP"})
    assert [(e.label, e.norm) for e in default.entities] == [("PERSON", "Mary Landrieu"), ("GPE", "Mysore")]
    # The EVENT mention was never a kept one: only the PERSON "Camille" counts as dropped.
    assert default.dropped == {"storm_name": 1, "vessel_name": 2}
    wider = normalise_article(mentions, ALIASES, labels={"PERSON", "GPE", "EVENT", "PRODUCT"})
    assert [(e.text, e.label, e.norm) for e in wider.entities] == [
        ("Hurricane Camille", "EVENT", "Hurricane Camille"),
        ("Camille", "EVENT", "Hurricane Camille"),
        ("Mary Landrieu", "PERSON", "Mary Landrieu"),
        ("Sukanya", "PRODUCT", "INS Sukanya"),
        ("INS Sukanya", "PRODUCT", "INS Sukanya"),
        ("Mysore", "GPE", "Mysore"),
    ]
    assert not wider.dropped


def test_merchant_prefixes_name_ships_only_where_the_article_speaks_of_ships():
    mentions = [RawMention("MV Gibe", "PERSON")]
    assert [e.label for e in normalise_article(mentions, ALIASES, text="The MV Gibe was hijacked.").entities] == ["PERSON"]
    on_ship = normalise_article(mentions, ALIASES, text="Pirates boarded the vessel MV Gibe.").entities
    assert [(e.label, e.norm) for e in on_ship] == [("PRODUCT", "MV Gibe")]


@pytest.mark.parametrize(
    ("text", "ships"),
    [
        ("The Mysore answered a distress call from the MV Gibe, a merchant vessel.", [("MV Gibe", "Gibe")]),
        ("The Indian warship Mysore is on patrol.", [("Mysore", "Mysore")]),
        ("Indian naval ship Mysore, a destroyer, picked up a distress call.", [("Mysore", "Mysore")]),
        ("They ship Mysore silk abroad.", []),  # the verb
        ("Pirates hijacked the tanker Sirius Star on Saturday.", [("Sirius Star", "Sirius Star")]),
        ("A call came from merchant vessel Gibe.", [("Gibe", "Gibe")]),
        ("The pirates in INS Mysore's custody.", [("INS Mysore", "Mysore")]),
        ("The navy sent the destroyer USS Cole Monday.", [("USS Cole", "Cole")]),
        ("Pirates hijacked the tanker Saturday.", []),  # a weekday is no ship's name
        ("RUSSIAN SUBMARINE SMASHES RECORD", []),  # a headline in capitals
        ("MV Govindan addressed the party.", []),  # initials, in a text that speaks of no ship
        ("Wireless carrier Verizon cut prices.", []),  # "carrier" is not a ship's type word here
    ],
)
def test_ships_the_text_names_after_a_prefix_or_a_warship_type_word(text, ships):
    found = ships_in_text(text, speaks_of_ships(text))
    assert [(ship.name, ship.bare) for ship in found] == ships


def test_a_ship_the_tagger_missed_with_its_prefix_still_names_its_bare_mentions():
    text = (
        "The Indian warship Mysore received a distress call from the MV Gibe, a merchant vessel.\n"
        "The Mysore changed course toward the Gibe."
    )
    # As the small model tags that article: the bare names only, as people.
    mentions = [RawMention("Mysore", "PERSON", preceding="the"), RawMention("Gibe", "PERSON", preceding="toward the")]
    result = normalise_article(mentions, ALIASES, labels={"PERSON", "ORG", "GPE"}, text=text)
    assert result.entities == ()
    assert result.dropped == {"vessel_name": 2}
    wider = normalise_article(mentions, ALIASES, labels={"PERSON", "PRODUCT"}, text=text)
    assert [(e.label, e.norm) for e in wider.entities] == [("PRODUCT", "Mysore"), ("PRODUCT", "MV Gibe")]


def test_alias_file_extends_and_overrides(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "India:\n  label: GPE\n  variants: [Bharat, Republic of India]\n"
        "United States:\n  label: GPE\n  variants: [US, the States]\n",
        encoding="utf-8",
    )
    table = load_alias_table(path)
    result = normalise_article(
        [RawMention("Bharat", "GPE"), RawMention("States", "GPE"), RawMention("UK", "GPE")], table
    )
    assert [e.norm for e in result.entities] == ["India", "United States", "United Kingdom"]


def test_alias_file_variants_can_count_only_under_some_labels(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "Saskatchewan:\n  label: GPE\n  variants: [Sask.]\n  when_tagged: [GPE]\n", encoding="utf-8"
    )
    table = load_alias_table(path)
    mentions = [RawMention("Sask.", "GPE"), RawMention("Sask.", "ORG"), RawMention("Sask", "GPE")]
    assert [e.norm for e in normalise_article(mentions, table).entities] == ["Saskatchewan", "Sask.", "Sask"]
    path.write_text("Saskatchewan:\n  variants: [Sask.]\n  when_tagged: GPE\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="when_tagged"):
        load_alias_table(path)


def test_alias_file_in_configs_loads():
    from tests.conftest import REPO

    table = load_alias_table(REPO / "configs" / "entity_aliases.yaml")
    assert normalise_article([RawMention("U.S.A.", "GPE")], table).entities[0].norm == "United States"


def test_alias_file_with_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("India: [Bharat]\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="India"):
        load_alias_table(path)


def test_alias_file_that_cannot_be_read_is_an_alias_file_error(tmp_path):
    with pytest.raises(AliasFileError, match=r"cannot read the alias file .*missing\.yaml: No such file or directory"):
        load_alias_table(tmp_path / "missing.yaml")
    with pytest.raises(AliasFileError, match="Is a directory"):
        load_alias_table(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("India: [unclosed\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match=r"broken\.yaml is not valid YAML: .* at line 2, column 1"):
        load_alias_table(broken)


def test_alias_labels_must_be_kept_labels(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("Foo:\n  label: BOGUS\n  variants: [F]\n", encoding="utf-8")
    with pytest.raises(AliasFileError) as refused:
        load_alias_table(path)
    assert str(refused.value) == (
        f"{path}: entry 'Foo': unknown label BOGUS (allowed: PERSON, ORG, GPE, LOC, NORP, "
        "the labels entities.labels keeps)"
    )
    path.write_text("Sask:\n  variants: [Sask.]\n  when_tagged: [GPE, PLACE, gpe]\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match=r"entry 'Sask': unknown when_tagged label PLACE, gpe \(allowed"):
        load_alias_table(path)
    path.write_text("Foo:\n  label: [GPE]\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match="entry 'Foo': label must be one label"):
        load_alias_table(path)
    # Labels the stage is configured to keep are allowed.
    path.write_text("Louvre:\n  label: FAC\n  variants: [Musée du Louvre]\n", encoding="utf-8")
    table = load_alias_table(path, labels=("PERSON", "FAC"))
    result = normalise_article([RawMention("Musée du Louvre", "FAC")], table, labels={"PERSON", "FAC"})
    assert [(e.label, e.norm) for e in result.entities] == [("FAC", "Louvre")]


def test_bare_surname_resolves_to_full_name_and_person_label():
    mentions = [
        RawMention("Rajnath Singh", "PERSON"),
        RawMention("Singh", "GPE"),  # the small model's slip on the seeds
        RawMention("Hegseth", "PERSON"),
        RawMention("Secretary of War Pete Hegseth", "PERSON"),
        RawMention("Jaishankar", "PERSON"),
        RawMention("S Jaishankar", "PERSON"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.text, e.label, e.norm) for e in result.entities] == [
        ("Rajnath Singh", "PERSON", "Rajnath Singh"),
        ("Singh", "PERSON", "Rajnath Singh"),
        ("Hegseth", "PERSON", "Pete Hegseth"),
        ("Secretary of War Pete Hegseth", "PERSON", "Pete Hegseth"),
        ("Jaishankar", "PERSON", "S. Jaishankar"),
        ("S Jaishankar", "PERSON", "S. Jaishankar"),
    ]


def test_bare_surname_resolves_past_a_generational_suffix():
    mentions = [
        RawMention("Arcade Joseph Comeaux Jr.", "PERSON"),
        RawMention("Comeaux", "PERSON"),
        RawMention("Harry Connick, Jr.", "PERSON"),
        RawMention("Connick", "ORG"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.label, e.norm) for e in result.entities] == [
        ("PERSON", "Arcade Joseph Comeaux Jr."),
        ("PERSON", "Arcade Joseph Comeaux Jr."),
        ("PERSON", "Harry Connick, Jr."),
        ("PERSON", "Harry Connick, Jr."),
    ]


def test_bare_surname_across_articles_past_a_generational_suffix():
    stats = _stats(("PERSON", "John G. Roberts Jr.", 2), ("PERSON", "Roberts", 1))
    assert build_merge_map(stats) == {("PERSON", "Roberts"): ("PERSON", "John G. Roberts Jr.")}


def test_surname_of_two_different_people_stays_unresolved():
    mentions = [
        RawMention("Rajnath Singh", "PERSON"),
        RawMention("Manmohan Singh", "PERSON"),
        RawMention("Singh", "PERSON"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [e.norm for e in result.entities] == ["Rajnath Singh", "Manmohan Singh", "Singh"]


def test_bare_first_name_resolves_to_the_one_full_name_it_starts():
    mentions = [
        RawMention("Wladimir Klitschko", "PERSON"),
        RawMention("Wladimir", "PERSON"),
        RawMention("Vitali", "PERSON"),  # no full name in the article: kept as written
        RawMention("Klitschko", "PERSON"),  # the surname rule still comes first
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.text, e.norm) for e in result.entities] == [
        ("Wladimir Klitschko", "Wladimir Klitschko"),
        ("Wladimir", "Wladimir Klitschko"),
        ("Vitali", "Vitali"),
        ("Klitschko", "Wladimir Klitschko"),
    ]


def test_first_name_of_two_people_or_of_a_place_stays():
    mentions = [
        RawMention("Tony Thompson", "PERSON"),
        RawMention("Thompson", "PERSON"),
        RawMention("Tony Blair", "PERSON"),
        RawMention("Blair", "PERSON"),
        RawMention("Tony", "PERSON"),
        RawMention("Jordan Peterson", "PERSON"),
        RawMention("Peterson", "PERSON"),
        RawMention("Jordan", "GPE"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.text, e.label, e.norm) for e in result.entities] == [
        ("Tony Thompson", "PERSON", "Tony Thompson"),
        ("Thompson", "PERSON", "Tony Thompson"),
        ("Tony Blair", "PERSON", "Tony Blair"),
        ("Blair", "PERSON", "Tony Blair"),
        ("Tony", "PERSON", "Tony"),
        ("Jordan Peterson", "PERSON", "Jordan Peterson"),
        ("Peterson", "PERSON", "Jordan Peterson"),
        ("Jordan", "GPE", "Jordan"),
    ]


def test_first_name_only_resolves_to_a_full_name_the_article_also_calls_by_its_surname():
    # The small model's slip "Obama White House" (PERSON) is never written as "House" alone.
    slip = [RawMention("Obama White House", "PERSON"), RawMention("Obama", "PERSON")]
    assert [e.norm for e in normalise_article(slip, ALIASES).entities] == ["Obama White House", "Obama"]
    person = [RawMention("Hugh Jackman", "PERSON"), RawMention("Hugh", "PERSON"), RawMention("Jackman", "ORG")]
    assert [e.norm for e in normalise_article(person, ALIASES).entities] == ["Hugh Jackman"] * 3


def test_surname_of_two_spellings_of_one_person_resolves_to_the_more_mentioned():
    mentions = [
        RawMention("Pete Hegseth", "PERSON"),
        RawMention("Peter Hegseth", "PERSON"),
        RawMention("Pete Hegseth", "PERSON"),
        RawMention("Hegseth", "PERSON"),
    ]
    result = normalise_article(mentions, ALIASES, known)
    assert result.entities[-1] == Entity("Hegseth", "PERSON", "Pete Hegseth")


def test_a_name_run_on_into_a_headline_takes_the_name_the_text_gives():
    mentions = [
        RawMention("Lindsay Lohan Checks Into Rehab", "PERSON", headline_case=True),
        RawMention("Lindsay Lohan", "PERSON"),
        RawMention("Lohan", "PERSON"),
        RawMention("Arcade Joseph Comeaux Jr.", "PERSON", headline_case=True),
        RawMention("Arcade Joseph Comeaux", "PERSON"),
        RawMention("Esther Williams Dies", "PERSON", headline_case=True),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.text, e.norm) for e in result.entities] == [
        ("Lindsay Lohan Checks Into Rehab", "Lindsay Lohan"),
        ("Lindsay Lohan", "Lindsay Lohan"),
        ("Lohan", "Lindsay Lohan"),
        # A generational suffix is part of the name, not a run-on.
        ("Arcade Joseph Comeaux Jr.", "Arcade Joseph Comeaux Jr."),
        ("Arcade Joseph Comeaux", "Arcade Joseph Comeaux"),
        # No shorter name of the other lines: kept as tagged.
        ("Esther Williams Dies", "Esther Williams Dies"),
    ]


def test_a_full_name_run_on_from_the_headline_words_before_it_takes_that_name():
    # ECB+ titles: "76ers Hire Maurice Cheeks ..." and "Colts QB Andrew Luck ..." tagged as one PERSON.
    mentions = [
        RawMention("Hire Maurice Cheeks", "PERSON", headline_case=True),
        RawMention("Colts QB Andrew Luck", "PERSON", headline_case=True),
        RawMention("Laura Bush", "PERSON", headline_case=True),
        RawMention("Maurice Cheeks", "PERSON"),
        RawMention("Andrew Luck", "PERSON"),
        RawMention("Bush", "PERSON"),
    ]
    assert [e.norm for e in normalise_article(mentions, ALIASES).entities] == [
        "Maurice Cheeks", "Andrew Luck",
        "Laura Bush",  # a one-word rest is not taken: Laura Bush is not the "Bush" of the text
        "Maurice Cheeks", "Andrew Luck", "Laura Bush",
    ]


def test_run_ons_are_only_trimmed_on_headline_lines_and_with_a_name_elsewhere():
    in_prose = normalise_article(
        [RawMention("Ellen DeGeneres Returns", "PERSON"), RawMention("Ellen DeGeneres", "PERSON")], ALIASES
    )
    assert [e.norm for e in in_prose.entities] == ["Ellen DeGeneres Returns", "Ellen DeGeneres"]
    headline_only = normalise_article([RawMention("Ellen DeGeneres Returns", "PERSON", headline_case=True)], ALIASES)
    assert [e.norm for e in headline_only.entities] == ["Ellen DeGeneres Returns"]
    other_label = normalise_article(
        [RawMention("Hennepin County Medical Center", "ORG", headline_case=True), RawMention("Hennepin County", "GPE")],
        ALIASES,
    )
    assert [e.norm for e in other_label.entities] == ["Hennepin County Medical Center", "Hennepin County"]


# Real texts from ../shared/data/reprints (a headline line, then the prose).
COLTS = (
    "Colts Top Jags To Make Playoffs\n"
    "The Indianapolis Colts will be making their seventh straight playoff appearance after securing that spot "
    "with a 31-24 win over the Jacksonville Jaguars last night in Jacksonville.\n"
    "The Jags had no timeouts left and by injury rule at that time a 10 second clock runoff was instituted."
)
LOHAN = (
    "Lindsay Lohan Checks Into Court-Ordered Rehab\n"
    "Lindsay Lohan has checked into rehab at the Betty Ford Center, her lawyer told a court on Friday, "
    "meeting the deadline of the court-ordered treatment with hours to spare.\n"
    "Johnson died at Hennepin County Medical Center in Minneapolis."
)


def spans_of(text: str, *mentions: str) -> list[tuple[int, int]]:
    return [(text.index(mention), text.index(mention) + len(mention)) for mention in mentions]


@pytest.mark.parametrize(
    "text, mention, is_phrase",
    [
        # More than half of its words are common words in the prose ("checks", "into", "court", "ordered", "rehab").
        (LOHAN, "Lindsay Lohan Checks Into Court-Ordered Rehab", True),
        # The whole headline line, though the prose writes none of its words in lower case.
        (COLTS, "Colts Top Jags To Make Playoffs", True),
        # A name: the prose writes it too (the first line's "Lindsay Lohan").
        (LOHAN, "Lindsay Lohan", False),
        # In prose, not on a headline line.
        (COLTS, "Indianapolis Colts", False),
        # A sentence dense with names is mostly capitalised, but it ends in a full stop.
        (LOHAN, "Hennepin County Medical Center", False),
        # A single word is never judged a phrase.
        (COLTS, "Jags", False),
    ],
)
def test_headline_phrases_are_told_from_names_by_the_articles_own_prose(text, mention, is_phrase):
    assert headline_flags(text, spans_of(text, mention))[1] == [is_phrase]


def test_a_headline_without_prose_keeps_its_mentions():
    headline_only = "Colts Top Jags To Make Playoffs\nBy Staff"
    assert headline_flags(headline_only, spans_of(headline_only, "Colts Top Jags To Make Playoffs"))[1] == [False]
    short_prose = COLTS.split("\n")[0] + "\nThe Colts won on Sunday."
    assert headline_flags(short_prose, spans_of(short_prose, "Colts Top Jags To Make Playoffs"))[1] == [False]


def test_a_headline_phrase_is_dropped_unless_a_name_was_found_in_it():
    mentions = [
        RawMention("Lindsay Lohan Checks Into Court-Ordered Rehab", "ORG", headline_case=True, headline_phrase=True),
        RawMention("Lindsay Lohan Checks Into Rehab", "PERSON", headline_case=True, headline_phrase=True),
        RawMention("Lindsay Lohan", "PERSON"),
        RawMention("Betty Ford Center", "ORG"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [(e.text, e.label, e.norm) for e in result.entities] == [
        # The run-on rule resolved this one to the name of the prose: kept as that name.
        ("Lindsay Lohan Checks Into Rehab", "PERSON", "Lindsay Lohan"),
        ("Lindsay Lohan", "PERSON", "Lindsay Lohan"),
        ("Betty Ford Center", "ORG", "Betty Ford Center"),
    ]
    assert result.dropped["headline_phrase"] == 1


def test_distinct_mentions_kept_once_in_order_and_junk_counted():
    mentions = [
        RawMention("info sharing", "PERSON"),
        RawMention("Rajnath Singh", "PERSON"),
        RawMention("@SecWar", "PERSON"),
        RawMention("Rajnath Singh", "PERSON"),
        RawMention("Rajnath Singh's", "PERSON"),
        RawMention("info sharing", "PERSON"),
    ]
    result = normalise_article(mentions, ALIASES)
    assert [e.text for e in result.entities] == ["Rajnath Singh", "Rajnath Singh's"]
    assert {e.norm for e in result.entities} == {"Rajnath Singh"}
    assert dict(result.dropped) == {"lowercase": 2, "handle": 1}


@pytest.mark.parametrize(
    ("text", "word", "kept"),
    [
        # Headline words the small model tags PERSON, which the prose writes as common words.
        ("Riot Erupts In Athens\nA riot broke out after police shot a boy. The riot spread.", "Riot", False),
        ("Arson Suspect Held\nPolice suspect arson in the fire.", "Arson", False),
        ("Ricochet killed the teenager, police said. A bullet ricochet hit him.", "Ricochet", False),
        # A surname that is also a word: named more often than the word is written.
        ("Young played two songs. Young said the young fans sang along. Young left.", "Young", True),
        # A handle's letters are not the word written in lower case.
        ("Thanks, my friend. — Dele (@dele_official) November 19, 2019", "Dele", True),
        # Never written in lower case.
        ("Bush said the war was over. Bush left for Texas.", "Bush", True),
    ],
)
def test_a_one_word_person_the_article_writes_as_a_common_word_is_dropped(text, word, kept):
    result = normalise_article([RawMention(word, "PERSON")], ALIASES, text=text)
    if kept:
        assert result.entities == (Entity(word, "PERSON", word),)
        assert not result.dropped
    else:
        assert result.entities == ()
        assert dict(result.dropped) == {"common_word": 1}


@pytest.mark.parametrize(
    ("full_name", "word", "text", "norm"),
    [
        # "Law" starts a sentence of law enforcement, but the article resolves it to David Law.
        ("David Law", "Law", "David Law said law enforcement changed. Law added that crime fell.", "David Law"),
        # "Rose" neither starts nor ends Mary Rose Byrne's name, so nothing resolves it, and the
        # prose writes "rose" more often than "Rose"; it is still a word of a person's name.
        ("Mary Rose Byrne", "Rose", "Mary Rose Byrne spoke. Rose thanked fans for a rose, a rose and a rose.", "Rose"),
    ],
)
def test_a_word_of_one_of_the_articles_full_names_is_no_common_word(full_name, word, text, norm):
    result = normalise_article([RawMention(full_name, "PERSON"), RawMention(word, "PERSON")], ALIASES, text=text)
    assert {(e.text, e.norm) for e in result.entities} == {(full_name, full_name), (word, norm)}
    assert not result.dropped


@pytest.mark.parametrize(
    ("mentions", "text", "expected", "dropped"),
    [
        # A people, things and a family: plurals of a capitalised word the article writes.
        (["Greeks"], "Greek police fired tear gas. Greeks marched on parliament.", set(), {"plural_name": 1}),
        (["Bentleys"], "A Bentley was stolen. Thieves took three Bentleys in all.", set(), {"plural_name": 1}),
        (["Bloombergs"], "The Bloomberg foundation gave. The Bloombergs gave more.", set(), {"plural_name": 1}),
        # No singular written: a surname ending in -s stays ("Jones" writes no "Jone").
        (["Jones"], "Jones scored twice.", {("Jones", "Jones")}, {}),
        # The singular is a given name of the article's people: "Roberts" may be another person.
        (["Robert Smith", "Roberts"], "Robert Smith spoke. Roberts replied.", {("Robert Smith", "Robert Smith"), ("Roberts", "Roberts")}, {}),
        # A possessive whose apostrophe the source lost stands for the person.
        (
            ["Donald Trump", "Trumps"],
            "Donald Trump signed. Trumps executive orders ensure it, Trump said.",
            {("Donald Trump", "Donald Trump"), ("Trumps", "Donald Trump")},
            {},
        ),
        (["Clinton", "Clintons"], "Clinton spoke. Clintons campaign chairman resigned.", {("Clinton", "Clinton"), ("Clintons", "Clinton")}, {}),
    ],
)
def test_a_one_word_person_that_is_a_plural_is_no_person_unless_an_apostrophe_was_lost(mentions, text, expected, dropped):
    result = normalise_article([RawMention(m, "PERSON") for m in mentions], ALIASES, text=text)
    assert {(e.text, e.norm) for e in result.entities} == expected
    assert dict(result.dropped) == dropped


def test_a_quoted_nickname_is_the_person_whose_name_it_stands_in():
    text = "Vincent 'Chin' Gigante, 77, Crime Boss\nVincent Gigante ruled the Mafia with a hand-to-chin gesture."
    result = normalise_article(
        [RawMention("Chin", "PERSON"), RawMention("Vincent Gigante", "PERSON")], ALIASES, text=text
    )
    assert {(e.text, e.norm) for e in result.entities} == {
        ("Chin", "Vincent Gigante"),
        ("Vincent Gigante", "Vincent Gigante"),
    }
    # Quoted, but in no one's name: a fish dubbed "Dracula" stays as tagged (and is no common word here).
    fish = normalise_article([RawMention("Dracula", "PERSON")], ALIASES, text='Dubbed the "Dracula" fish.')
    assert [e.norm for e in fish.entities] == ["Dracula"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Marcon Rubio", "Marco Rubio"),  # a typo: "Marcon" unknown
        ("Peter Hegseth", "Pete Hegseth"),  # a short form dropping a final consonant
        ("S. Jaishankar", "Subrahmanyam Jaishankar"),  # an initial
        ("Pete Hegseht", "Pete Hegseth"),  # a long surname one transposition apart
        ("Donald J. Trump", "Donald Trump"),  # a middle initial
        ("W. Mark Felt", "Mark Felt"),  # a leading initial before the name he went by
        ("J. Edgar Hoover", "Edgar Hoover"),
        ("J. Edgar Hoover", "John Hoover"),  # the initial still stands for a first name
        ("Frederick Cheney LaRue", "Frederick C. LaRue"),  # a middle name and its initial
        ('Vincent "The Chin" Gigante', "Vincent L. Gigante"),  # a nickname is no middle name
        ("George Herbert Walker Bush", "George H.W. Bush"),
        # A generational suffix is not the surname, and later mentions drop it.
        ("Arcade Joseph Comeaux Jr.", "Arcade Joseph Comeaux"),
        ("L. Patrick Gray III", "L. Patrick Gray"),
        ("Harry Connick Jr.", "Harry Connick, Jr."),
        ("Ike LaRue III", "Ike III"),  # no surname to strip the suffix from: compared as written
        ("Donald Jr.", "Donald Trump Jr."),
        # One pronunciation spelt two ways (same Metaphone key), not both known to the vocabulary.
        ("Gurbanguli Berdymukhamedov", "Kurbanguly Berdymukhamedov"),  # transliterations
        ("Alexei Navalny", "Alexey Navalny"),
        ("Carlos Correa", "Corols Correa"),  # a typo two edits away
        # A short form the nicknames table lists, a truncation of the name.
        ("Fred LaRue", "Frederick C. LaRue"),
        ("Katie Jenkin", "Kathryn Jenkin"),
        ("Rob Jones", "Robert Jones"),
        ('Luis Gerardo "Jerry" Ortiz', "Jerry Ortiz"),  # the nickname in quotes is a given name
    ],
)
def test_same_person_merges_spellings(a, b):
    assert same_person(a, b, known)
    assert same_person(b, a, known)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Rajnath Singh", "Manmohan Singh"),
        ("Mark Smith", "Mary Smith"),  # two real names one edit apart
        ("Paul Smith", "Paula Smith"),  # a feminine form, not a short form
        ("Ivana Trump", "Ivanka Trump"),  # one edit, but not a dropped final letter
        ("Jon Smith", "Jan Smith"),  # too short to fuzz
        ("Donald Trump", "Donald Tusk"),
        ("Rajnath Singh", "Rajnath Sing"),  # short surnames are never fuzzed
        ("M. Singh", "R. Singh"),
        ("Singh", "Rajnath Singh"),  # one-token names are never fuzzy-merged
        ("A. B. Smith", "Bob Smith"),  # two initials: the first is the given name
        ("W. Mark Felt", "Joan Felt"),
        ("George H.W. Bush", "George W. Bush"),  # both write middle initials, and they differ
        ("Mary Jane Smith", "Mary Ann Smith"),
        ("Martin Luther King Jr.", "Martin Luther King Sr."),  # son and father
        ("W. Mark Felt", "Mark Felt Jr."),  # a suffix dropped only from the very same name
        ("Ken Griffey Sr.", "Ken Griffey Jr."),
        ("LaRue Sr.", "Fred LaRue"),
        ("Susan Collins", "Suzanne Collins"),  # alike in sound, but two names the vocabulary knows
        ("Владимир Путин", "Дмитрий Путин"),  # no Metaphone key outside the Latin alphabet
        # The nicknames table's names in their own right, and forms that are no truncation.
        ("Emma Smith", "Emily Smith"),
        ("Kay Smith", "Kate Smith"),
        ("Aaron Smith", "Erin Smith"),
        ("Fred Smith", "Alfred Smith"),
    ],
)
def test_same_person_guards_different_people(a, b):
    assert not same_person(a, b, known)
    assert not same_person(b, a, known)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Pete Hegseht", "Pete Hegseth"),  # transposition
        ("Anna Kowalsky", "Anna Kowalski"),  # substitution
        ("Anna Kowalsk", "Anna Kowalski"),  # deletion
        ("Anna Kowalskii", "Anna Kowalski"),  # insertion
    ],
)
def test_fuzzy_surnames_share_a_block(a, b):
    assert same_person(a, b, known)
    assert surname_blocks(a) & surname_blocks(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Arcade Joseph Comeaux Jr.", "Arcade Joseph Comeaux"),
        ("Ike LaRue III", "Ike III"),
        ("Donald Jr.", "Donald Trump Jr."),
    ],
)
def test_names_with_a_generational_suffix_share_a_block(a, b):
    assert surname_blocks(a) & surname_blocks(b)


def _stats(*rows: tuple[str, str, int]) -> dict:
    return {
        (label, norm): NameStats(articles, tuple(known(token) for token in norm.split(" ")))
        for label, norm, articles in rows
    }


def test_merge_map_prefers_known_spelling_then_frequency():
    stats = _stats(
        ("PERSON", "Marcon Rubio", 2),  # more frequent, but "Marcon" is no known word
        ("PERSON", "Marco Rubio", 1),
        ("PERSON", "Pete Hegseth", 5),
        ("PERSON", "Peter Hegseth", 1),
    )
    mapping = build_merge_map(stats)
    assert mapping == {
        ("PERSON", "Marcon Rubio"): ("PERSON", "Marco Rubio"),
        ("PERSON", "Peter Hegseth"): ("PERSON", "Pete Hegseth"),
    }


def test_merge_map_never_merges_different_people():
    stats = _stats(
        ("PERSON", "Rajnath Singh", 3),
        ("PERSON", "Manmohan Singh", 1),
        ("PERSON", "Singh", 2),
        ("PERSON", "Mark Smith", 1),
        ("PERSON", "Mary Smith", 1),
    )
    assert build_merge_map(stats) == {}


def test_merge_map_merges_case_and_punctuation_variants_of_any_label():
    stats = _stats(
        ("ORG", "Indo-Pacific Region", 2),
        ("ORG", "Indo-Pacific region", 1),
        ("ORG", "U.S.-India Defence Framework", 1),
        ("ORG", "US-India Defence Framework", 3),
        ("GPE", "Austria", 1),
        ("GPE", "Australia", 1),
    )
    assert build_merge_map(stats) == {
        ("ORG", "Indo-Pacific region"): ("ORG", "Indo-Pacific Region"),
        ("ORG", "U.S.-India Defence Framework"): ("ORG", "US-India Defence Framework"),
    }


def test_bare_surname_across_articles():
    stats = _stats(
        ("PERSON", "Donald Trump", 1),
        ("ORG", "Trump", 1),  # "the Trump administration": ORG, outvoted by the person
        ("PERSON", "Rubio", 1),
        ("PERSON", "Marcon Rubio", 1),
        ("PERSON", "Marco Rubio", 1),
        ("GPE", "Jordan", 2),  # places are never relabelled across articles
        ("PERSON", "Michael Jordan", 1),
        ("ORG", "Ford", 3),  # mostly the company in this window
        ("PERSON", "Doug Ford", 1),
    )
    mapping = build_merge_map(stats)
    assert mapping == {
        ("ORG", "Trump"): ("PERSON", "Donald Trump"),
        ("PERSON", "Rubio"): ("PERSON", "Marco Rubio"),
        ("PERSON", "Marcon Rubio"): ("PERSON", "Marco Rubio"),
    }


def test_bare_surname_of_two_people_across_articles_stays():
    stats = _stats(("PERSON", "Singh", 4), ("PERSON", "Rajnath Singh", 2), ("PERSON", "Manmohan Singh", 2))
    assert build_merge_map(stats) == {}


def _surnamed_stats(*rows: tuple[str, str, int, int]) -> dict:
    """(label, norm, articles, articles that also call the person by the surname alone)."""
    return {
        (label, norm): NameStats(articles, tuple(known(token) for token in norm.split(" ")), surnamed)
        for label, norm, articles, surnamed in rows
    }


def test_a_bare_surname_of_several_people_takes_the_one_the_window_calls_by_it():
    stats = _surnamed_stats(
        ("PERSON", "Obama", 80, 0),
        ("ORG", "Obama", 5, 0),
        ("PERSON", "Barack Obama", 66, 45),
        ("PERSON", "Neither Obama", 3, 3),  # a sentence start taken for a name
        ("PERSON", "Michelle Obama", 1, 0),
        ("PERSON", "Bush", 80, 0),
        ("PERSON", "George W. Bush", 41, 32),
        ("PERSON", "Reggie Bush", 48, 38),
    )
    mapping = build_merge_map(stats)
    assert mapping == {("PERSON", "Obama"): ("PERSON", "Barack Obama"), ("ORG", "Obama"): ("PERSON", "Barack Obama")}


@pytest.mark.parametrize(
    "called_by_surname",
    [
        (9, 0),  # too few articles to tell
        (20, 5),  # not five times as often as the other
    ],
)
def test_a_bare_surname_stays_when_no_one_dominates(called_by_surname):
    top, other = called_by_surname
    stats = _surnamed_stats(
        ("PERSON", "Steele", 3, 0),
        ("PERSON", "James Steele", top + 2, top),
        ("PERSON", "Michael Steele", other + 1, other),
    )
    assert build_merge_map(stats) == {}


def test_merge_map_does_not_depend_on_order():
    rows = [
        ("PERSON", "Marcon Rubio", 2),
        ("PERSON", "Marco Rubio", 2),
        ("PERSON", "Pete Hegseth", 1),
        ("PERSON", "Peter Hegseth", 1),
        ("PERSON", "Pete Hegseht", 1),
        ("ORG", "Trump", 1),
        ("PERSON", "Donald Trump", 1),
        ("ORG", "Indo-Pacific region", 1),
        ("ORG", "Indo-Pacific Region", 1),
        ("PERSON", "Honshu", 1),
        ("GPE", "Honshu", 1),
        ("LOC", "honshu", 1),
        ("GPE", "HONSHU", 1),
    ]
    expected = build_merge_map(_stats(*rows))
    shuffler = random.Random(7)
    for _ in range(20):
        shuffler.shuffle(rows)
        assert build_merge_map(_stats(*rows)) == expected


def test_name_counting_and_merging_agree():
    entities_by_article = [
        [Entity("Marco Rubio", "PERSON", "Marco Rubio"), Entity("Rubio", "PERSON", "Marco Rubio")],
        [Entity("Marcon Rubio", "PERSON", "Marcon Rubio")],
        [Entity("Marcon Rubio", "PERSON", "Marcon Rubio"), Entity("US", "GPE", "United States")],
    ]
    observations = [obs for entities in entities_by_article for obs in observe_names(entities, known)]
    whole = count_observations(observations)
    assert whole[("PERSON", "Marcon Rubio")].articles == 2
    assert whole[("PERSON", "Marco Rubio")].articles == 1  # counted once per article
    left, right = count_observations(observations[:2]), count_observations(observations[2:])
    merge_name_stats(left, right)
    assert left == whole


def test_apply_merge_map_renames_and_dedupes():
    entities = [
        Entity("Marcon Rubio", "PERSON", "Marcon Rubio"),
        Entity("Rubio", "PERSON", "Marcon Rubio"),
        Entity("Rubio", "PERSON", "Marco Rubio"),
    ]
    mapping = {("PERSON", "Marcon Rubio"): ("PERSON", "Marco Rubio")}
    assert apply_merge_map(entities, mapping) == (
        Entity("Marcon Rubio", "PERSON", "Marco Rubio"),
        Entity("Rubio", "PERSON", "Marco Rubio"),
    )


def test_an_article_reports_the_people_it_calls_by_surname_alone_when_tagged_person():
    mentions = [
        RawMention("Tara Reid", "PERSON"),
        RawMention("Reid", "PERSON"),
        RawMention("Snyder Ave", "PERSON"),  # the small model's slip for a street
        RawMention("Ave", "ORG"),
        RawMention("Tony Blair", "PERSON"),  # never written "Blair" alone here
    ]
    assert normalise_article(mentions, ALIASES).surnamed == frozenset({"Tara Reid"})


def test_surname_evidence_is_counted_per_article_and_merges():
    by_article = [
        ([Entity("Tara Reid", "PERSON", "Tara Reid"), Entity("Reid", "PERSON", "Tara Reid")], {"Tara Reid"}),
        ([Entity("Tara Reid", "PERSON", "Tara Reid"), Entity("Tara", "PERSON", "Tara")], set()),
        ([Entity("Reid", "ORG", "Reid")], {"Reid"}),  # only PERSON names carry the flag
    ]
    observations = [obs for entities, surnamed in by_article for obs in observe_names(entities, known, surnamed)]
    whole = count_observations(observations)
    assert whole[("PERSON", "Tara Reid")] == NameStats(2, (False, False), surnamed_articles=1)
    assert whole[("ORG", "Reid")].surnamed_articles == 0
    left, right = count_observations(observations[:2]), count_observations(observations[2:])
    merge_name_stats(left, right)
    assert left == whole


def test_window_names_name_surnamed_people_by_their_final_spelling():
    stats = _stats(("PERSON", "Pete Hegseth", 3), ("PERSON", "Peter Hegseth", 1), ("PERSON", "Tara Reid", 2))
    stats[("PERSON", "Peter Hegseth")] = NameStats(1, stats[("PERSON", "Peter Hegseth")].known, 1)
    window = build_window_names(stats)
    assert window.merge_map == build_merge_map(stats)
    assert window.surnamed_people == frozenset({"Pete Hegseth"})
    assert not build_window_names(_stats(("GPE", "Austria", 1)))


def test_first_name_resolves_to_a_person_the_window_calls_by_surname():
    entities = [
        Entity("Tara Reid", "PERSON", "Tara Reid"),
        Entity("Tara", "PERSON", "Tara"),
        Entity("Chelsea", "GPE", "Chelsea"),
        Entity("Chelsea Handler", "PERSON", "Chelsea Handler"),
    ]
    surnamed = frozenset({"Tara Reid", "Chelsea Handler"})
    assert apply_merge_map(entities, {}, surnamed) == (
        Entity("Tara Reid", "PERSON", "Tara Reid"),
        Entity("Tara", "PERSON", "Tara Reid"),
        Entity("Chelsea", "GPE", "Chelsea"),  # a place keeps its name
        Entity("Chelsea Handler", "PERSON", "Chelsea Handler"),
    )
    assert apply_merge_map(entities, {}, frozenset()) == tuple(entities)  # no evidence: kept


def test_first_name_of_two_surnamed_people_stays():
    entities = [
        Entity("Tony Thompson", "PERSON", "Tony Thompson"),
        Entity("Tony Blair", "PERSON", "Tony Blair"),
        Entity("Tony", "PERSON", "Tony"),
    ]
    assert apply_merge_map(entities, {}, frozenset({"Tony Thompson", "Tony Blair"}))[-1].norm == "Tony"


def test_first_name_rule_sees_the_merged_spelling():
    entities = [Entity("Peter Hegseth", "PERSON", "Peter Hegseth"), Entity("Pete", "PERSON", "Pete")]
    mapping = {("PERSON", "Peter Hegseth"): ("PERSON", "Pete Hegseth")}
    assert [e.norm for e in apply_merge_map(entities, mapping, frozenset({"Pete Hegseth"}))] == [
        "Pete Hegseth",
        "Pete Hegseth",
    ]


def test_tagging_view_removes_emphasis():
    view, truncated = tagging_view("Commerce Minister **Piyush Goyal** said *no*.", 1000)
    assert (view, truncated) == ("Commerce Minister Piyush Goyal said no.", False)


def test_tagging_view_caps_at_a_paragraph_boundary():
    first = "First paragraph names Rajnath Singh. " * 10
    second = "Second paragraph names Pete Hegseth. " * 10
    text = first + "\n\n" + second
    view, truncated = tagging_view(text, len(first) + 40)
    assert truncated
    assert view == first


def test_tagging_view_caps_at_a_sentence_without_paragraphs():
    text = "A sentence about Rajnath Singh. " * 100
    view, truncated = tagging_view(text, 1000)
    assert truncated and view.endswith("Singh.") and len(view) <= 1000


def test_tagging_view_without_cap():
    text = "word " * 100_000
    assert tagging_view(text, None) == (text, False)


def test_a_one_word_person_takes_the_label_the_window_mostly_gives_it():
    stats = _surnamed_stats(
        ("PERSON", "Honshu", 2, 0),
        ("GPE", "Honshu", 3, 0),
        ("PERSON", "SEACOM", 1, 0),
        ("ORG", "Seacom", 2, 0),  # case aside
        ("PERSON", "Biloxi", 2, 0),  # a tie stays
        ("GPE", "Biloxi", 2, 0),
        ("PERSON", "Alexandria", 1, 0),  # a word of the name of a person called by the surname stays
        ("GPE", "Alexandria", 5, 0),
        ("PERSON", "Alexandria Ocasio-Cortez", 1, 1),
        ("PERSON", "Bettie Page", 1, 0),  # longer names stay (rule 7 needs a person called by the surname)
        ("ORG", "Bettie Page", 2, 0),
    )
    assert build_merge_map(stats) == {
        ("PERSON", "Honshu"): ("GPE", "Honshu"),
        ("PERSON", "SEACOM"): ("ORG", "Seacom"),
    }


def test_a_headline_stretch_tagged_person_does_not_keep_its_words_people():
    # "Colts Beat Chiefs" (a headline the small model tags PERSON) is nobody called "Chiefs" alone,
    # so it no longer shields "Colts"; Egypt's Alexandria beside a name nobody shortens likewise.
    stats = _surnamed_stats(
        ("PERSON", "Colts", 7, 0),
        ("ORG", "Colts", 18, 0),
        ("PERSON", "Colts Beat Chiefs", 1, 0),
        ("PERSON", "Alexandria", 3, 0),
        ("GPE", "Alexandria", 5, 0),
        ("PERSON", "Alexandria Ocasio-Cortez", 4, 0),
    )
    assert build_merge_map(stats) == {
        ("PERSON", "Colts"): ("ORG", "Colts"),
        ("PERSON", "Alexandria"): ("GPE", "Alexandria"),
    }


def test_a_full_name_under_another_label_is_the_person_the_window_calls_by_the_surname():
    # The small model tags Bettie Page ORG in 14 ECB+ articles, PERSON in 3; Klitschko GPE in 3.
    stats = _surnamed_stats(
        ("ORG", "Bettie Page", 14, 0),
        ("PERSON", "Bettie Page", 3, 1),  # "Page" alone, tagged PERSON, in one of them
        ("GPE", "Wladimir Klitschko", 3, 0),
        ("PERSON", "Wladimir Klitschko", 18, 12),
        ("ORG", "Morgan Stanley", 9, 0),  # never called "Stanley" alone: stays a bank
        ("PERSON", "Morgan Stanley", 1, 0),
        ("ORG", "Goldman", 2, 0),  # one word: rule 4's business, not this rule's
        ("PERSON", "Goldman Sachs", 1, 0),
    )
    assert build_merge_map(stats) == {
        ("ORG", "Bettie Page"): ("PERSON", "Bettie Page"),
        ("GPE", "Wladimir Klitschko"): ("PERSON", "Wladimir Klitschko"),
    }


def test_a_one_word_person_that_rule_4_resolves_keeps_its_person():
    stats = _stats(("PERSON", "Trump", 1), ("ORG", "Trump", 3), ("PERSON", "Donald Trump", 4))
    assert build_merge_map(stats) == {
        ("PERSON", "Trump"): ("PERSON", "Donald Trump"),
        ("ORG", "Trump"): ("PERSON", "Donald Trump"),
    }
