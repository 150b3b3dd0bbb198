"""Entity normalisation: from raw NER mentions to one `norm` name per entity.

Pure functions, no Beam and no spaCy: `transforms/entities.py` wraps them in
the `TagEntities` stage. Normalisation runs in two scopes.

Within one article (`normalise_article`)
----------------------------------------
Each raw mention `(text, label)` from the tagger goes through, in order:

1. Junk filter on the raw span: a span that crosses a line break (two
   fragments the model glued together, "Singh\\n\\nWelcoming"), a social
   handle or hashtag ("@SecWar", "#WATCH") or a URL is dropped.
2. Cleaning: Unicode NFKC, curly quotes and dashes to ASCII, whitespace
   collapsed; Markdown and quote marks stripped from both ends ("Donald
   Trump*"); a possessive stripped ("Rajnath Singh's" -> "Rajnath Singh"); a
   leading "the" stripped from non-person names ("the United States"). A
   non-person name is cut before a connecting word ("of", "and", "at", "in",
   "for", "on", ...) that only lower-case words follow: the model ran the
   span on into the sentence or stopped it short ("Police Service of" ->
   "Police Service", "University of North Carolina at" -> "University of
   North Carolina", "Gulf for days" -> "Gulf"); a name continues with a
   capitalised word ("Bureau of Alcohol, Tobacco, Firearms and Explosives"),
   and a capitalised connector is part of it ("Lean In"). On the 2,706
   ECB+ and reprint articles this changes 21 of the 6,533 distinct
   non-person names (52 of their 29,706 mentions).
3. Titles, for PERSON mentions: everything up to the last title word goes
   ("US Secretary of War Pete Hegseth" -> "Pete Hegseth", "Mr. Singh" ->
   "Singh"), including a portfolio after "of" ("Secretary of Homeland
   Security"). A title is only stripped when a name follows it. Royal and
   religious styles that are part of the usual name (King Charles, Pope Leo,
   Prince Harry, Sheikh Hasina) are not titles here. See `TITLE_WORDS`.
   Occupations written as false titles ("Comedian Ellen DeGeneres", "Lawyer
   Alexis Kougias", "Unemployed John Jenkin", `ROLE_WORDS`) go only from the
   front: "John Singer Sargent" is one name. Positions abbreviated in
   capitals (`ROLE_ABBREVIATIONS`: "Lions RB Joique Bell", "Red Sox GM Theo
   Epstein") are titles when a given name and a surname follow; before one
   word they are as often initials ("GM Siddeshwara"). With the positions
   and the posts added in this form ("Kicker", "Constable", "Clerk",
   "Referee", "Receptionist", "Freshman"), 57 more mentions of the 2,706
   ECB+ and reprint articles lose them, all rightly; on ECB+'s person
   coreference (`newsbeam eval entities`) pairwise F1 0.959 -> 0.961.
4. Junk filter on the cleaned name (`JUNK_REASONS`): no letters, fewer than
   two letters, a first token without any capital ("info sharing", which the
   small model tags PERSON on the seeds), a time zone alone ("GMT", "IST" of
   a time stamp, which the small model tags ORG: `TIME_ZONES`), and for
   PERSON a token without any capital letter (name particles such as "de",
   "van", "bin" excepted) or a last token that is an abbreviated title
   (`title_only`: "Bloomington Police Sgt", "Atty", the name cut off after the
   full stop; not a title written out, as John Major and Aaron Judge bear
   them). On the 2,706 ECB+ and reprint articles, with the occupations
   above and the generational suffixes below, 126 articles change, all
   for the better by reading.
4b. Storms and ships (`storm_or_vessel`): the small model tags named storms
   and ships as people, organisations or places ("Cyclone Debbie" PERSON,
   "INS Mysore" PERSON, "Sukanya" of INS Sukanya GPE, and "Camille" PERSON
   beside its own EVENT "Hurricane Camille"). A mention is a storm when it
   starts with, or directly follows, a capitalised storm word (Hurricane,
   Typhoon, Cyclone, Tropical Storm, ...; not a bare "Storm": "Storm Reid" is
   an actress) and the name is one capitalised word that is not an
   organisation's ("Hurricane Center", "Tropical Storm Risk"); a ship when it
   starts with, or directly follows, a navy prefix (INS, USS, HMS, ...), or a
   merchant one (MV, MT) in an article that speaks of ships ("MV Govindan" is a
   politician with initials). Within the article, a mention written as the
   bare name ("Camille", "Sukanya") is the same storm or ship, and so is a
   name the text writes after a ship prefix or a ship's type word
   (`ships_in_text`: "from the MV Gibe", "merchant vessel Gibe") where
   the tagger left the prefix out and tagged only the bare "Gibe" and
   "Mysore" as people (39 more of the 2,706 articles change). They take
   spaCy's own labels, EVENT and PRODUCT, and are dropped (`storm_name`,
   `vessel_name`) when those are not kept labels, as by default. The tagger's
   EVENT and PRODUCT mentions count as evidence even when not kept. On the
   2,706 ECB+ and reprint articles this drops 200 storm and 158 ship
   mentions; the PERSON, ORG and GPE names it removes are all storms (Rita,
   Camille, Cyclone Yasi, Typhoon Lan) or ships (MV Gibe, INS Tabar, USS
   Roosevelt).
5. Initials, for PERSON: initials before the surname are written with a full
   stop and adjacent initials are joined: "S Jaishankar" and "S. Jaishankar"
   -> "S. Jaishankar"; "B. N. Reddy" and "B.N. Reddy" -> "B.N. Reddy".
6. Aliases: a small editable table (`DEFAULT_ALIASES`, extended by
   `configs/entity_aliases.yaml`) maps known variants to one name and label,
   matched without case, full stops, hyphens or a leading "the": "US",
   "U.S.", "USA", "America", "United States of America" -> "United States"
   (GPE). The built-in table also fixes the label of platforms the small
   model tags as people or places ("Twitter" PERSON -> ORG), and names the
   US states AP style abbreviates ("Dover, Del."), those only when tagged as
   a place and with the full stop as written (`US_STATE_ABBREVIATIONS`:
   "Mo" is a first name, "LA" Los Angeles, "Miss." a title).
7. Headline run-ons: on a mostly capitalised line (a Title Case headline
   repeated as the text's first line, a byline; see
   `text_cleaning.mostly_capitalised`) the model runs a name on into the
   capitalised words after it: "Ellen DeGeneres Returns to Host the Oscars"
   gives PERSON "Ellen DeGeneres Returns", "Lindsay Lohan Checks Into Rehab"
   a PERSON of five words. Such a PERSON whose leading words are a PERSON
   name of the article's other lines takes that name; a trailing generational
   suffix ("Jr.", "III") is part of a name, not a run-on. So does one whose
   trailing words are a name of two words or more of the other lines, run
   on from the headline's words before it ("Hire Maurice Cheeks", "Colts QB
   Andrew Luck"); a one-word rest would make "Laura Bush" George W. Bush. Without such a name
   elsewhere (a headline-only item) the mention is kept as tagged. The tagger
   says which mentions lie on such lines (`RawMention.headline_case`, from
   `headline_flags`).
   Headline phrases: the model also tags a stretch of a Title Case headline
   as ORG, PERSON or a place: "Lindsay Lohan Checks Into Court-Ordered Rehab"
   (ORG), "Colts Top Jags To Make Playoffs" (PERSON), "Police Release ID Of
   Woman Killed In" (ORG). Such a mention is dropped (`headline_phrase`) when
   the article's prose, its lines that are not mostly capitalised, holds at
   least 20 words (so there is prose to judge by; a headline-only item keeps
   its mentions) and the mention lies on a headline line (mostly capitalised
   and not ending in a full stop: a prose sentence dense with names does),
   is not written in the prose itself (case aside), has at least two words
   besides name particles and "the", and either more than half of those
   words are written in lower case in the prose (the article uses them as
   common words: "checks", "rehab", "offer"; a name's words it writes
   capitalised) or it spans the whole line (at least five words and 90% of
   the line: the headline itself). A run-on that the rule above resolved to
   a name keeps that name. On the 723 ECB+ and 1,983 reprint articles of
   ../shared/data (small model) this drops 130 of the 2,799 mentions on
   mostly capitalised lines (not counting spans across a line break, junk
   by rule 1): stretches of headlines and bylines ("The
   Oakmont Gazette News Desk"), all but one product name read off a
   headline ("Stadia Game Streaming Service").
   The tagger marks them (`headline_flags`).
8. Surnames: a mention whose tokens are the last tokens of a longer PERSON
   name in the same article takes that name and the PERSON label, whatever
   label the model gave it ("Singh" tagged GPE -> PERSON "Rajnath Singh";
   "Jaishankar" -> "S. Jaishankar"). When several full names end that way,
   it resolves only if they are one person by `same_person` (then to the
   most mentioned); "Singh" beside Rajnath and Manmohan Singh stays "Singh".
9. First names: a one-token PERSON mention that rule 8 left alone and that
   is the first token of a longer PERSON name in the same article takes that
   name ("Wladimir" -> "Wladimir Klitschko", "Lindsay" -> "Lindsay Lohan"),
   under the same guard: "Tony" beside Tony Thompson and Tony Blair stays
   "Tony". Only PERSON mentions: a place or organisation named like a first
   name (Jordan, Florence, Chelsea) keeps its label and name. And only to a
   full name the article also calls by its surname alone, as news writes
   people: the small model's PERSON slips are not ("Obama" stays beside
   "Obama White House", "Surrey" beside "Surrey Police"). On the 723 ECB+
   articles (small model) the rule resolves 83 of 732 one-token PERSON names
   without that guard, at least 8 of them to such slips; with it 58, all
   of which read right ("Hugh" -> "Hugh Jackman", "Kimani" -> "Kimani Gray").
   A one-token PERSON mention written in quotes inside a full name of the
   article is that person's nickname: "Chin" in "Vincent 'Chin' Gigante"
   (`_quoted_nickname_of`; 4 of the 2,706 articles).
10. Common words: a one-token PERSON mention still unresolved, no word of the
   article's full PERSON names, that the article writes in lower case at
   least as often as capitalised (links and handles aside) is dropped
   (`common_word`): the small model tags capitalised headline and sentence-
   start words as people ("Riot", "Arson", "Shooter", "Meth", "Malware",
   "Law" of "Law enforcement") and the prose then uses them as common words.
   A surname that is also a word is named more often than the word is
   written ("Young said ... young fans ... Young"). The window's rules come
   later, so a name dropped here is not offered to them: on the 2,706 ECB+
   and reprint articles this drops 102 mentions, all rightly by reading
   ("Law" and "Il" of an Italian "Il black Friday" had been resolved across
   articles to David Law and Kim Jong Il); counting any lower-case use,
   it also dropped "Young" (Neil Young) and "Ahmadinejad", and without the
   handle rule "Dele" of "@dele_official". On ECB+'s person coreference
   pairwise F1 0.961 (recall 0.929 -> 0.931), found 0.934 -> 0.933 (the
   unit lost is a headline's "Killer", a description ECB+ annotates).
11. Plurals (`_singulars`: -s, or -ies for -y): a one-token PERSON mention,
   no word of the article's full PERSON names, that is a surname of the
   article's people or a name it writes alone plus an s stands for that
   person: a possessive whose apostrophe the source lost ("Mr Bloombergs
   gun control group", "Mr Assads comments", "Trumps executive orders") or
   a family ("the Obamas"); rules 8 and 9 then resolve it. Still unresolved,
   the plural of a capitalised word the article writes ("Greeks" beside
   "Greek", "Bentleys" beside "Bentley", "Realtors") is dropped
   (`plural_name`): a people or things, not one person; not when that word
   is the given name of one of the article's people ("Roberts" beside Robert
   Smith may be a surname). On the 2,706 ECB+ and reprint articles 58
   mentions change: 36 dropped (Greeks 18, Turkmens 3, Realtors, Globes,
   Delhiites, the "Lakes" of Mammoth Lakes, ...), none of them a person by
   reading; 13 possessives and families
   resolved to their person (Michael Bloomberg 7, Slobodan Milosevic 2, Bashar
   Assad, Donald Trump, Barack Obama, Clinton; before, "Bloombergs" stood
   alone and "Trumps" became a "Donald Trumps" of the window); the model's
   slips "Bentleys", "Euros", "Pros" became "Bentley", "Euro", "MacBook Pro",
   no worse; and "the Coens" (two brothers) became Ethan Coen, half right.
   On ECB+'s person coreference (`newsbeam eval
   entities`) pairwise F1 stays 0.961; found goes from 0.933 to 0.931
   because ECB+ annotates groups as people too: its "Greeks" are
   demonstrators, its "Turkmens" voters.

The article keeps each distinct (text, label, norm) once, in order of first
appearance; `text` is the span as written (whitespace collapsed).

Across the articles of one window (`build_window_names`)
---------------------------------------------------------
From per-window name statistics (in how many articles each (label, norm)
occurs, and which of its tokens the tagger's vocabulary knows):

1. Spelling variants that differ only in case, punctuation or spacing merge,
   for every label ("Indo-Pacific Region" / "Indo-Pacific region").
2. PERSON names of two or more tokens merge when `same_person` holds:
   surnames equal (or one edit apart, both at least 6 letters, one of them
   unknown to the vocabulary: a typo), and given names equal, initial-
   compatible ("S." ~ "Subrahmanyam"), or one edit apart with the shorter at
   least 4 letters, and then: if the tagger's vocabulary knows one and not
   the other, the unknown one is a slip ("Marcon"/"Marco"); if it knows both,
   they merge only as a short form dropping a final consonant ("Pete"/
   "Peter"), not as different names ("Mark"/"Mary", "Paul"/"Paula"); if it
   knows neither, only a letter lost or added at the end, or any one edit in
   names of 7 letters or more ("Ivana"/"Ivanka" stay apart). Given names of
   5 letters or more with one Metaphone key (jellyfish), not both known to
   the vocabulary, are one name however far apart in letters: transliterations
   ("Gurbanguli"/"Kurbanguly" Berdymukhamedov, "Alexei"/"Alexey") and typos
   ("Corols"/"Carlos"); "Susan"/"Suzanne" Collins, both known, stay apart, and
   names in other scripts, which have no key, are never merged so.
   "Marcon Rubio" -> "Marco Rubio" and "Peter Hegseth" -> "Pete Hegseth";
   "Rajnath Singh" and "Manmohan Singh" never merge. The given name is the
   first token, or after a leading initial either ("W. Mark Felt" ~ "Mark
   Felt", "J. Edgar Hoover" ~ "Edgar Hoover"): on the 2,706 ECB+ and reprint
   articles this merges 9 more names (C. Ray Nagin, L. Patrick Gray, ...), all
   right; so is a one-word nickname in quotes ('Luis Gerardo "Jerry" Ortiz'
   ~ "Jerry Ortiz"). A short form of a given name that the `nicknames` table
   lists and that, a diminutive ending aside, is its first three letters or
   more ("Fred"/"Frederick", "Katie"/"Kathryn", "Rob"/"Robert";
   `_short_form_of`) is that name; the table's names in their own right
   ("Emma" of Emily, "Kay" of Kate) and forms sharing no first letters
   ("Bill"/"William", "Jon"/"John") are not taken. On ECB+'s person
   coreference (`newsbeam eval entities`) pairwise F1 0.935 -> 0.944, precision
   unchanged. When both names write middle names, their initials must agree
   ("Frederick Cheney LaRue" ~ "Frederick C. LaRue"; "George H.W. Bush" is
   not "George W. Bush", whom it joined before, in 4 articles; "George Bush"
   then matches both and stays). A generational suffix ("Jr.", "III") is not
   the surname: "Arcade Joseph Comeaux Jr." ~ "Arcade Joseph Comeaux", and a
   bare "Comeaux" or "Roberts" finds "John G. Roberts Jr."; two different
   suffixes are two people (King Jr. and Sr.), and a name without one only
   matches the very same name with one ("W. Mark Felt" is the father of Mark
   Felt Jr.). "Ike III" has no surname to strip: it is compared as written.
   Merging is greedy in
   preference order; a name that matches two different people stays apart.
3. The spelling that names a group is the preferred one: the larger share of
   tokens known to the tagger's vocabulary first (a misspelt name such as
   "Marcon" is rarely in an 85k-word vocabulary learned from edited text,
   while "Marco" is), then the higher article count, then lexicographic order.
4. A bare one-token PERSON mention left unresolved in its article ("Trump")
   takes the window's full PERSON name with that surname when exactly one
   exists. When several do, it takes the one the window calls by the surname
   alone (articles that write the full name and the bare surname, tagged
   PERSON) in at least 10 articles and at least `SURNAME_DOMINANCE` (5) times
   as often as all the others together: "Obama" beside Barack Obama (called
   "Obama" in 45 articles), "Neither Obama" (3, a sentence start the model
   took for a name) and Michelle Obama (0); "Bush" stays, George W. Bush (32)
   and Reggie Bush (38) are both called so. On the 2,706 ECB+ and reprint
   articles this resolves "Obama" (85 mentions), "Trump" (112, with the ORG
   ones) and 13 smaller names ("Cheeks" -> Maurice Cheeks, "Jackman" -> Hugh
   Jackman, "McDermott" -> Doug McDermott), one of them wrong ("Steele" of the
   Trump dossier to a James Steele, 2 mentions) and one junk for junk (the
   console "Switch", tagged PERSON, to "Nintendo Switch", tagged so too); with a
   floor of 3 articles instead of 10 it also made Ford the carmaker "Phil
   Ford", Lennox Lewis "Ray Lewis" and Snyder Ave "Ed Snyder".
   An ORG one-token mention does too (the small model tags "Trump" as
   ORG in "the Trump administration") when at least as many articles of the
   window use the token as a person's surname as tag it ORG. GPE, LOC and NORP
   mentions are not relabelled across articles: places named like people
   (Jordan, Washington, Georgia) are too common.
5. First names (`apply_merge_map`, with the window's `surnamed_people`): a
   one-token PERSON mention left unresolved in its article takes a longer
   PERSON name of the same article that it starts, as rule 9 within the
   article does, when some article of the window calls that person by the
   surname alone, the bare surname tagged PERSON by the model. Rule 9 asks
   that of the article itself, and a celebrity piece that writes "Tara Reid"
   and then "Tara" never writes "Reid" alone. On the 2,706 ECB+ and reprint
   articles (one window, small model) this resolves 10 more first names
   ("Tara" -> "Tara Reid", "Reggie" -> "Reggie Wayne", "Craig" -> "Craig
   Zadan"), all right. Accepting a bare surname of any label, or one that
   only rule 4 resolved, would have added "Snyder" -> "Snyder Ave", "Drake"
   -> "Drake Bulldogs" and "Bloomington" -> "Bloomington Police Sgt".

6. Labels of one-word slips: a one-word PERSON name that the window writes
   under one other label (case and punctuation aside) in more articles than
   as PERSON takes that label, unless it is a word of a longer PERSON name
   whose bearer some article calls by the surname alone (rule 4's count):
   "Jordan" beside Michael Jordan, whom articles call "Jordan", stays; so
   does a tie. The small model tags "Honshu", "Wasilla" and "Biloxi" as GPE
   in most articles and PERSON in some, "SEACOM", "Marvel" and "Greenpeace"
   as ORG. This is rule 4's vote the other way round, and only for one-word
   names: for longer ones the model's other label wins too often for real
   people (Peyton Manning, Bettie Page and CC Sabathia would become ORG, in
   132 more articles; rule 7 makes them PERSON instead). On the 2,706 ECB+
   and reprint articles (one window, small model) it relabels 35 names in 116
   articles with every longer PERSON name as a guard. One is wrong: "his
   wife, Kimberly" (6 copies of one story) becomes ORG, because the model
   tags "Kimberly" as ORG in 7 Power Rangers articles. That guard also kept
   the words of the model's headline stretches, which nobody is called by
   ("Colts Beat Chiefs", "Creighton Returns", "Bloomington Sam's Club");
   narrowed to people called by their surname, 84 more mentions change:
   "Colts", "Duke", "Drake" (the university), "Xbox" and "Tesla" become ORG,
   "Bloomington", "Creighton" and Egypt's "Alexandria" GPE, all right but
   "Letterman's" and "O'Connor" (one mention each, now ORG).

7. Labels of full names: a name of two words or more under another label
   (ORG, GPE, LOC, NORP, FAC) that the window also tags PERSON, for a person
   some article calls by the surname alone (rule 4's count), is that person.
   The small model tags Bettie Page ORG in 14 ECB+ articles and PERSON in 3,
   Peyton Manning ORG in 8, Wladimir Klitschko GPE in 3; a bank tagged PERSON
   once ("Morgan Stanley") is never called "Stanley" alone. On ECB+'s person
   coreference (`newsbeam eval entities`) the share of people found as
   PERSON goes from 0.923 to 0.934 and pairwise F1 from 0.948 to 0.959. On
   the 2,706 ECB+ and reprint articles 214 mentions change; 13 are wrong:
   "Nintendo Switch" and "Magic Keyboard", products the model tags PERSON in
   some articles and calls by their last word ("Switch"), become people
   where it tagged them ORG (rule 4 already made the bare "Switch" one).

The result only depends on the window's multiset of articles, never on their
order, so a batch re-run gives the same names.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterable, Mapping, NamedTuple, Optional, Sequence

import jellyfish
import yaml
from nicknames import NickNamer
from rapidfuzz.distance import OSA

from transforms.schema import Entity
from transforms.text_cleaning import WORD, mostly_capitalised

PERSON = "PERSON"
DEFAULT_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP")

# Reason codes a mention is dropped for (counted as metrics, never dead letters).
JUNK_REASONS = (
    "line_break",  # the span crosses a line break
    "handle",  # a social handle or hashtag: "@SecWar", "#WATCH"
    "url",  # a link or embed address
    "no_letters",  # only digits and punctuation
    "too_short",  # fewer than two letters
    "lowercase",  # the first token has no capital: "info sharing"
    "lowercase_token",  # a PERSON with an uncapitalised token: "Hegseth posted"
    "headline_phrase",  # a stretch of a Title Case headline: "Lindsay Lohan Checks Into Court-Ordered Rehab"
    "time_zone",  # a time zone of a time stamp: "GMT", "IST" (the small model tags them ORG)
    "title_only",  # a PERSON that ends in a title, no name after it: "Bloomington Police Sgt", "Atty"
    "storm_name",  # a named storm, when EVENT is not a kept label: "Cyclone Debbie" tagged PERSON
    "vessel_name",  # a ship, when PRODUCT is not a kept label: "INS Mysore" tagged PERSON
    "common_word",  # a one-word PERSON the article also writes in lower case: "Riot", "Arson", "Meth"
    "plural_name",  # a one-word PERSON that is the plural of a word the article writes: "Greeks", "Bentleys"
)
# Time zones that time stamps and datelines write after a time ("13:59 GMT"); not WET and WEST,
# which are also words of headlines in capitals.
TIME_ZONES = frozenset(
    """
    UTC GMT BST IST CET CEST EET EEST MSK EST EDT CST CDT MST MDT PST PDT AKST AKDT HST
    AEST AEDT ACST ACDT AWST NZST NZDT JST KST HKT SGT PKT WIB
    """.split()
)

KnownWord = Callable[[str], bool]


def no_known_words(word: str) -> bool:
    """The vocabulary of a tagger that has none: every preference falls to counts."""
    return False


class RawMention(NamedTuple):
    """One entity span as the tagger gave it."""

    text: str
    label: str
    # On a mostly capitalised line (a Title Case headline, a byline): see rule 7.
    headline_case: bool = False
    # A stretch of a headline rather than a name (`headline_flags`, rule 7).
    headline_phrase: bool = False
    # Up to two words written right before the span on its line ("Hurricane" before "Rita", rule 4b).
    preceding: str = ""


# --- Cleaning ------------------------------------------------------------

_CHARACTER_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
# Full stops are not stripped from the right: they end "U.S." and "Jr.".
_LEFT_EDGE = "*_\"'#()[]{}<>,;:|-.!?/\\ "
_RIGHT_EDGE = "*_\"'#()[]{}<>,;:|-!?/\\ "
_POSSESSIVE = re.compile(r"(?:'s|')$", re.IGNORECASE)
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_URL = re.compile(r"https?:|www\.|pic\.twitter|\bt\.co/|\.com/", re.IGNORECASE)

# Title words (matched without case or a final full stop). Everything up to
# the last title word in a PERSON mention is dropped, if a name follows.
TITLE_WORDS = frozenset(
    """
    mr mrs ms miss mx dr prof professor sir dame rev revd reverend fr hon
    honourable honorable shri sri smt shrimati kumari
    president vice-president vp chairman chairwoman chairperson chair ceo cfo
    minister secretary senator sen rep representative congressman
    congresswoman governor gov mayor judge justice general gen lt lieutenant
    colonel col major maj captain capt admiral adm commander cmdr sgt sergeant
    marshal ambassador envoy commissioner chancellor premier speaker deputy
    chief mp mla mep pm spokesperson spokesman spokeswoman coach qb director
    attorney-general attorney atty supt superintendent insp inspector det
    detective cpl corporal pvt private ofc officer trooper agent sheriff coroner
    """.split()
)
# Abbreviated titles: a PERSON mention that ends in one names nobody ("Bloomington Police Sgt",
# the name cut off after the full stop). Written in full, some are surnames (John Major, Judge).
# Not "Sen" (Amartya Sen) nor "Gen".
TITLE_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof rev revd rep gov lt col maj capt adm cmdr sgt atty supt insp det cpl pvt ofc".split()
)
# Occupations news writes before a name as a false title ("comedian Ellen DeGeneres", "rapper
# Drake"). Stripped only from the start of a PERSON mention: "John Singer Sargent" is one name,
# and "Gary Player" a golfer.
ROLE_WORDS = frozenset(
    """
    actor actress comedian comedienne singer rapper songwriter singer-songwriter musician
    guitarist drummer pianist composer author writer novelist poet playwright journalist
    reporter columnist anchor broadcaster filmmaker producer screenwriter designer chef
    model photographer artist painter sculptor businessman businesswoman entrepreneur
    billionaire tycoon activist lawyer quarterback pitcher striker goalkeeper boxer
    kicker punter fullback halfback linebacker receiver referee umpire constable clerk
    receptionist nurse teacher student freshman sophomore unemployed pastor
    """.split()
)
# Positions and posts abbreviated in capitals before a name ("Lions RB Joique Bell", "Red Sox GM
# Theo Epstein"): titles, but only when a given name and a surname follow; before one word they
# are as often initials ("GM Siddeshwara", "RB Sreekumar").
ROLE_ABBREVIATIONS = frozenset("gm rb wr te dt lb cb".split())
# Portfolio words that follow "of"/"for" in a title: "Secretary of War",
# "Minister for External Affairs". Stripped with the title.
PORTFOLIO_WORDS = frozenset(
    """
    the state war defense defence homeland security treasury commerce health
    energy labor labour agriculture education transportation transport interior
    justice external home foreign affairs finance trade industry environment
    housing veterans human services development urban information broadcasting
    railways culture tourism sports science technology women child welfare
    """.split()
)
# Lower-case particles allowed inside a PERSON name.
NAME_PARTICLES = frozenset(
    "de da di del della dos das du van von der den ter la le bin binti ibn al el y af".split()
)
_INITIAL = re.compile(r"^(?:[A-Z]\.?)$|^(?:[A-Z]\.){2,}$|^(?:[A-Z]\.)+[A-Z]$")


def _collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def _strip_edges(text: str) -> str:
    return text.lstrip(_LEFT_EDGE).rstrip(_RIGHT_EDGE)


def _title_key(token: str) -> str:
    return token.casefold().rstrip(".")


def strip_titles(name: str) -> str:
    """Drop everything up to the last title word, and occupations in front, when a name follows."""
    tokens = name.split(" ")
    cut = 0
    while cut < len(tokens) - 1 and _title_key(tokens[cut]) in ROLE_WORDS:
        cut += 1
    for index, token in enumerate(tokens[:-1]):
        if _title_key(token) in TITLE_WORDS or (
            index < len(tokens) - 2 and token.isupper() and _title_key(token) in ROLE_ABBREVIATIONS
        ):
            cut = index + 1
    if cut == 0:
        return name
    if tokens[cut].casefold() in ("of", "for"):
        after = cut + 1
        while after < len(tokens) - 1 and tokens[after].casefold() in PORTFOLIO_WORDS:
            after += 1
        cut = after
    return " ".join(tokens[cut:])


def format_initials(name: str) -> str:
    """Initials before the surname as "S." and joined "B.N."; the surname untouched."""
    tokens = name.split(" ")
    out: list[str] = []
    pending: list[str] = []
    for token in tokens[:-1]:
        if _INITIAL.match(token):
            pending.extend(letter for letter in token if letter.isalpha())
            continue
        if pending:
            out.append("".join(f"{letter}." for letter in pending))
            pending = []
        out.append(token)
    if pending:
        out.append("".join(f"{letter}." for letter in pending))
    out.append(tokens[-1])
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class CleanedMention:
    """A mention after cleaning: its name and label, or the reason it was dropped."""

    name: Optional[str]
    label: str
    dropped_because: Optional[str] = None


# Words that join the parts of a name ("Bank of America") but never end one.
_CONNECTORS = frozenset("of and & at in for on to with from by re".split())


def _without_trailing_connector(name: str) -> str:
    """A name cut before a connecting word that only lower-case words follow (see rule 2)."""
    tokens = name.split(" ")
    for index in range(1, len(tokens)):
        if tokens[index] in _CONNECTORS and not any(
            char.isupper() or char.isdigit() for token in tokens[index + 1:] for char in token
        ):
            return _strip_edges(" ".join(tokens[:index]))
    return name


def clean_mention(text: str, label: str) -> CleanedMention:
    """Clean one raw mention, or say why it is junk (see the module rules 1-5)."""
    if "\n" in text or "\r" in text:
        return CleanedMention(None, label, "line_break")
    name = _collapse_whitespace(unicodedata.normalize("NFKC", text).translate(_CHARACTER_MAP))
    if "@" in name or name.startswith("#"):
        return CleanedMention(None, label, "handle")
    if _URL.search(name):
        return CleanedMention(None, label, "url")
    name = _strip_edges(name)
    name = _strip_edges(_POSSESSIVE.sub("", name))
    if label != PERSON:
        name = _without_trailing_connector(_LEADING_THE.sub("", name))
    elif name:
        name = strip_titles(name)
    letters = sum(1 for char in name if char.isalpha())
    if letters == 0:
        return CleanedMention(None, label, "no_letters")
    if letters < 2:
        return CleanedMention(None, label, "too_short")
    tokens = name.split(" ")
    if not any(char.isupper() or char.isdigit() for char in tokens[0]):
        return CleanedMention(None, label, "lowercase")
    if name.replace(".", "") in TIME_ZONES:
        return CleanedMention(None, label, "time_zone")
    if label == PERSON and _title_key(tokens[-1]) in TITLE_ABBREVIATIONS:
        return CleanedMention(None, label, "title_only")
    if label == PERSON:
        for token in tokens:
            if token.casefold() not in NAME_PARTICLES and not any(c.isupper() for c in token):
                return CleanedMention(None, label, "lowercase_token")
        name = format_initials(name)
    return CleanedMention(name, label)


# --- Aliases -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alias:
    name: str
    label: Optional[str]  # the label every variant takes; None keeps the tagger's


def alias_key(text: str) -> str:
    """Case, full stops, hyphens, spacing and a leading "the" do not distinguish variants."""
    return _LEADING_THE.sub("", " ".join(text.casefold().replace(".", "").replace("-", " ").split()))


def written_alias_key(label: str, text: str) -> tuple[str, str]:
    """A variant that counts only under one tagger label, full stops kept: "La." is not "LA"."""
    return (label, " ".join(text.casefold().split()))


# alias_key -> Alias for variants of any label; written_alias_key -> Alias for the others.
AliasTable = Mapping[str | tuple[str, str], Alias]
# canonical name -> (label, variants) or (label, variants, labels the variants count under)
AliasEntries = Mapping[str, tuple]


def find_alias(aliases: AliasTable, name: str, label: str) -> Optional[Alias]:
    return aliases.get(written_alias_key(label, name)) or aliases.get(alias_key(name))

# canonical name -> (label, variants). Edit here or extend through the YAML
# file named by EntitiesConfig.aliases_path (configs/entity_aliases.yaml).
DEFAULT_ALIASES: dict[str, tuple] = {
    "United States": (
        "GPE",
        ("US", "U.S.", "U.S.A.", "USA", "United States", "United States of America", "America"),
    ),
    "United Kingdom": (
        "GPE",
        ("UK", "U.K.", "United Kingdom", "Britain", "Great Britain"),
    ),
    "European Union": ("ORG", ("EU", "E.U.", "European Union")),
    "United Nations": ("ORG", ("UN", "U.N.", "United Nations")),
    "United Arab Emirates": ("GPE", ("UAE", "U.A.E.", "United Arab Emirates")),
    "Russia": ("GPE", ("Russia", "Russian Federation")),
    "China": ("GPE", ("China", "PRC", "People's Republic of China")),
    "South Korea": ("GPE", ("South Korea", "Republic of Korea", "ROK")),
    "North Korea": ("GPE", ("North Korea", "DPRK")),
    "NATO": ("ORG", ("NATO", "North Atlantic Treaty Organization")),
    "ASEAN": ("ORG", ("ASEAN", "Association of Southeast Asian Nations")),
    # Platforms news cites as sources ("said on Twitter"), which the small model tags as a
    # person, place or group (on 1,983 reprint-set articles: Twitter PERSON in 80, Netflix
    # GPE in 30, Reddit NORP in 5): the name is right, the label is fixed.
    "Twitter": ("ORG", ()),
    "Facebook": ("ORG", ()),
    "Instagram": ("ORG", ()),
    "YouTube": ("ORG", ()),
    "WhatsApp": ("ORG", ()),
    "TikTok": ("ORG", ()),
    "Snapchat": ("ORG", ()),
    "Reddit": ("ORG", ()),
    "LinkedIn": ("ORG", ()),
    "Netflix": ("ORG", ()),
}

# US states as AP style abbreviates them in datelines and after a town ("Dover, Del.",
# which the small model tags GPE: 300 such mentions in 2,706 ECB+ and reprint articles).
# Only when tagged as a place, and with the full stop as written: "Mo" is a first name,
# "Miss." a title, "LA" Los Angeles, "Ill." a word at a sentence end.
_PLACE_LABELS = frozenset({"GPE", "LOC"})
US_STATE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "Alabama": ("Ala.", "Ala"),
    "Arizona": ("Ariz.", "Ariz"),
    "Arkansas": ("Ark.",),
    "California": ("Calif.", "Calif", "Cal."),
    "Colorado": ("Colo.", "Colo"),
    "Connecticut": ("Conn.", "Conn"),
    "Delaware": ("Del.",),
    "Florida": ("Fla.", "Fla"),
    "Georgia": ("Ga.",),
    "Illinois": ("Ill.",),
    "Indiana": ("Ind.",),
    "Kansas": ("Kan.", "Kans."),
    "Kentucky": ("Ky.",),
    "Louisiana": ("La.",),
    "Maryland": ("Md.",),
    "Massachusetts": ("Mass.",),
    "Michigan": ("Mich.", "Mich"),
    "Minnesota": ("Minn.", "Minn"),
    "Mississippi": ("Miss.",),
    "Missouri": ("Mo.",),
    "Montana": ("Mont.",),
    "Nebraska": ("Neb.", "Nebr."),
    "Nevada": ("Nev.", "Nev"),
    "New Hampshire": ("N.H.",),
    "New Jersey": ("N.J.",),
    "New Mexico": ("N.M.", "N.Mex."),
    "New York": ("N.Y.",),
    "North Carolina": ("N.C.",),
    "North Dakota": ("N.D.", "N.Dak."),
    "Oklahoma": ("Okla.", "Okla"),
    "Oregon": ("Ore.", "Oreg."),
    "Pennsylvania": ("Pa.", "Penn.", "Penna."),
    "Rhode Island": ("R.I.",),
    "South Carolina": ("S.C.",),
    "South Dakota": ("S.D.", "S.Dak."),
    "Tennessee": ("Tenn.", "Tenn"),
    "Vermont": ("Vt.",),
    "Virginia": ("Va.",),
    "Washington": ("Wash.",),
    "West Virginia": ("W.Va.", "W. Va."),
    "Wisconsin": ("Wis.", "Wisc."),
    "Wyoming": ("Wyo.", "Wyo"),
}
DEFAULT_ALIASES.update(
    {state: ("GPE", variants, _PLACE_LABELS) for state, variants in US_STATE_ABBREVIATIONS.items()}
)


def build_alias_table(entries: AliasEntries) -> dict:
    table: dict = {}
    for name, (label, variants, *scope) in entries.items():
        when_tagged = scope[0] if scope else ()
        for variant in (name, *variants):
            keys = [written_alias_key(tagged_as, variant) for tagged_as in when_tagged] or [alias_key(variant)]
            for key in keys:
                table[key] = Alias(name, label)
    return table


class AliasFileError(ValueError):
    """The alias file cannot be read or is not in the documented format; the message names the file."""


def _check_alias_labels(path: Path, name: object, key: str, given: Sequence[str], allowed: Sequence[str]) -> None:
    """Only mentions of kept labels reach the table: a variant under another label would never match,
    and an alias giving another label would put a label the stage does not keep in the output."""
    unknown = [label for label in given if label not in allowed]
    if unknown:
        raise AliasFileError(
            f"{path}: entry {name!r}: unknown {'' if key == 'label' else key + ' '}label "
            f"{', '.join(unknown)} (allowed: {', '.join(allowed)}, the labels entities.labels keeps)"
        )


def one_line_yaml_error(error: yaml.YAMLError) -> str:
    """PyYAML's complaint on one line: what is wrong and where ("... at line 2, column 3")."""
    problem = getattr(error, "problem", None)
    if problem is None:
        return " ".join(str(error).split())
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def load_alias_table(path: Optional[str | Path] = None, labels: Collection[str] = DEFAULT_LABELS) -> dict:
    """The built-in table, extended (and overridden per name) by a YAML file.

    The file maps each canonical name to `{label: GPE, variants: [...]}`;
    `label` may be omitted or null to keep the tagger's label. With
    `when_tagged: [GPE, LOC]` the variants count only for mentions the tagger
    gave one of those labels, and their full stops count ("Mo." but not "Mo").

    `labels` are the labels the stage keeps (`EntitiesConfig.labels`): only
    mentions so tagged reach the table, so an entry's `label` and
    `when_tagged` labels must be among them. Every problem (a file that
    cannot be read, is not YAML, or has a bad entry) is an AliasFileError
    naming the file and, for an entry, the entry.
    """
    entries: dict[str, tuple] = dict(DEFAULT_ALIASES)
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AliasFileError(f"cannot read the alias file {path}: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise AliasFileError(f"the alias file {path} is not UTF-8 text: {error.reason} at byte {error.start}") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise AliasFileError(f"the alias file {path} is not valid YAML: {one_line_yaml_error(error)}") from None
        if not isinstance(loaded, dict):
            raise AliasFileError(f"{path}: expected a mapping of canonical names")
        allowed = tuple(labels)
        for name, spec in loaded.items():
            if not isinstance(spec, dict) or set(spec) - {"label", "variants", "when_tagged"}:
                raise AliasFileError(f"{path}: entry {name!r}: takes only 'label', 'variants' and 'when_tagged'")
            label = spec.get("label")
            if label is not None:
                if not isinstance(label, str):
                    raise AliasFileError(f"{path}: entry {name!r}: label must be one label, e.g. GPE, or null")
                _check_alias_labels(path, name, "label", (label,), allowed)
            variants = spec.get("variants") or []
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise AliasFileError(f"{path}: entry {name!r}: variants must be a list of strings")
            when_tagged = spec.get("when_tagged")
            if when_tagged is not None:
                if not isinstance(when_tagged, list) or not when_tagged or not all(isinstance(v, str) for v in when_tagged):
                    raise AliasFileError(f"{path}: entry {name!r}: when_tagged must be a non-empty list of labels")
                _check_alias_labels(path, name, "when_tagged", when_tagged, allowed)
            entries[str(name)] = (label, tuple(variants), frozenset(when_tagged or ()))
    return build_alias_table(entries)


# --- Person identity -------------------------------------------------------


def name_key(token: str) -> str:
    """A token compared without case or full stops."""
    return token.casefold().replace(".", "")


def name_tokens(name: str) -> list[str]:
    return [key for key in (name_key(token) for token in name.split(" ")) if key]


# Generational suffixes belong to the name they follow ("Arcade Joseph Comeaux Jr."), but news
# drops them after the first mention: they are not the surname.
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def _split_suffix(tokens: list[str]) -> tuple[list[str], list[str]]:
    """A name's tokens and its generational suffix ("Jr.", "III", also after a comma)."""
    end = len(tokens)
    while end > 1 and tokens[end - 1].casefold().rstrip(",") in _NAME_SUFFIXES:
        end -= 1
    return [token.rstrip(",") if index == end - 1 else token for index, token in enumerate(tokens[:end])], tokens[end:]


def _keys(tokens: Sequence[str]) -> list[str]:
    return [name_key(token) for token in tokens]


def surname_key(name: str) -> str:
    """The surname of a full PERSON name, compared as `name_key` does; a suffix is not it.

    Of "Ike III" or "LaRue Sr." nobody can say which part is the surname: their last token is.
    """
    written = name.split(" ")
    tokens = _split_suffix(written)[0]
    return name_key((tokens if len(tokens) >= 2 else written)[-1])


def loose_key(name: str) -> str:
    """Case, punctuation and spacing do not distinguish spellings."""
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold().replace(".", "")).split())


_MIN_FUZZY_GIVEN = 4  # shorter given names ("Jon"/"Jan") are never fuzzy-merged
_MIN_FUZZY_LONG_GIVEN = 7  # two unknown given names this long may differ anywhere by one edit
_MIN_FUZZY_SURNAME = 6  # shorter surnames ("Singh"/"Sing") are never fuzzy-merged
_MIN_PHONETIC_GIVEN = 5  # given names this long may be spelt apart by transliteration
_VOWELS = frozenset("aeiouy")


def _given_names_compatible(a: str, b: str, a_known: bool, b_known: bool) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    shorter, longer = sorted((a, b), key=lambda token: (len(token), token))
    if _short_form_of(shorter, longer):
        return True  # "Fred"/"Frederick", "Katie"/"Kathryn", "Pete"/"Peter"
    if len(shorter) >= _MIN_PHONETIC_GIVEN and not (a_known and b_known) and _sounds_alike(a, b):
        # One name written two ways ("Gurbanguli"/"Kurbanguly", "Alexei"/"Alexey", a typo
        # "Corols" for "Carlos"); two names the vocabulary knows are two names ("Susan"/"Suzanne").
        return True
    if len(shorter) < _MIN_FUZZY_GIVEN or OSA.distance(a, b) > 1:
        return False
    if a_known != b_known:
        return True  # the unknown one is a slip of a real name: "Marcon"
    if not a_known:
        # Neither is known: only a letter lost or added at the end, or a slip
        # in a long name; "Ivana"/"Ivanka" stay apart.
        return longer.startswith(shorter) or len(shorter) >= _MIN_FUZZY_LONG_GIVEN
    # Two real names one edit apart: only a short form dropping a final
    # consonant ("Pete"/"Peter"), not "Mark"/"Mary" or "Paul"/"Paula".
    return (
        len(longer) == len(shorter) + 1
        and longer.startswith(shorter)
        and longer[-1] not in _VOWELS
    )


_DIMINUTIVE_ENDINGS = ("ie", "ey", "y", "i")
_MIN_SHORT_FORM_STEM = 3


@functools.cache
def _nickname_table() -> NickNamer:
    return NickNamer()


def _short_form_of(short: str, full: str) -> bool:
    """Whether a given name is a short form of another: listed as one of its nicknames in the
    `nicknames` table, and, a diminutive ending aside, its first three letters or more.

    The table is a genealogist's, generous with names in their own right ("Emma" of Emily,
    "Kay" of Kate, "Bryant" of Brian), and with forms that share no letters ("Bill" of
    William): the prefix keeps the truncations news writes ("Fred" Frederick, "Katie"
    Kathryn, "Rob" Robert), and loses "Jon"/"John" and "Bill"/"William".
    """
    if len(short) >= len(full) or full not in _nickname_table().canonicals_of(short):
        return False
    stems = [short] + [short[: -len(ending)] for ending in _DIMINUTIVE_ENDINGS if short.endswith(ending)]
    return any(len(stem) >= _MIN_SHORT_FORM_STEM and full.startswith(stem) for stem in stems)


_MIN_PHONETIC_KEY = 3  # Metaphone skips letters outside English spelling: "владимир" has key ""


def _sounds_alike(a: str, b: str) -> bool:
    """Same Metaphone key (Philips 1990): spellings of one pronunciation."""
    key = jellyfish.metaphone(a)
    return len(key) >= _MIN_PHONETIC_KEY and key == jellyfish.metaphone(b)


def _surnames_compatible(a: str, b: str, a_known: bool, b_known: bool) -> bool:
    if a == b:
        return True
    return (
        min(len(a), len(b)) >= _MIN_FUZZY_SURNAME
        and not (a_known and b_known)
        and OSA.distance(a, b) <= 1
    )


def surname_blocks(name: str) -> set[str]:
    """Keys shared by any two names whose surnames `same_person` may accept.

    The surname itself and, for surnames long enough to be fuzzy-matched, each
    spelling with one letter deleted: two strings one edit (insertion,
    deletion, substitution or adjacent transposition) apart always share one.
    Comparing only names that share a key keeps the merge near-linear.
    """
    surname = surname_key(name)
    # The last token as written too: "Ike III" and "Ike LaRue III" are compared.
    blocks = {surname, name_key(name.split(" ")[-1])}
    if len(surname) < _MIN_FUZZY_SURNAME:
        return blocks
    return blocks | {surname[:i] + surname[i + 1:] for i in range(len(surname))}


def same_person(a: str, b: str, is_known: KnownWord = no_known_words) -> bool:
    """Whether two full PERSON names (two or more tokens) are spellings of one person.

    The given name and the surname are compared, so a middle name or initial on one
    side does not separate them; when both write middle names, their initials must
    agree ("George H.W. Bush" is not "George W. Bush"; nicknames in quotes do not
    count). The given name is the first token, or after a leading initial the next
    one ("W. Mark Felt" and "Mark Felt").
    """
    (a_tokens, a_suffix), (b_tokens, b_suffix) = _split_suffix(a.split(" ")), _split_suffix(b.split(" "))
    if len(a_tokens) < 2 or len(b_tokens) < 2:
        # "Donald Jr.": a given name and a suffix, compared as written
        (a_tokens, a_suffix), (b_tokens, b_suffix) = (a.split(" "), []), (b.split(" "), [])
    if a_suffix and b_suffix:
        if _keys(a_suffix) != _keys(b_suffix):
            return False  # Martin Luther King Jr. and Sr.
    elif (a_suffix or b_suffix) and _keys(a_tokens) != _keys(b_tokens):
        # Only the very name without its suffix: "W. Mark Felt" is the father of Mark Felt Jr.
        return False
    a_last, b_last = name_key(a_tokens[-1]), name_key(b_tokens[-1])
    if not (a_last and b_last and name_key(a_tokens[0]) and name_key(b_tokens[0])):
        return False
    if not _surnames_compatible(a_last, b_last, is_known(a_tokens[-1]), is_known(b_tokens[-1])):
        return False
    a_middle, b_middle = _middle_initials(a_tokens), _middle_initials(b_tokens)
    if a_middle and b_middle and a_middle != b_middle:
        return False  # "George H.W. Bush" is not "George W. Bush"
    return any(
        _given_names_compatible(name_key(a_given), name_key(b_given), is_known(a_given), is_known(b_given))
        for a_given in _given_names(a_tokens)
        for b_given in _given_names(b_tokens)
    )


_QUOTES = "\"'“”‘’"


def _middle_initials(tokens: list[str]) -> str:
    """The initials of the names between given name and surname ("H.W." -> "HW", "Cheney" -> "C"),
    leaving out nicknames in quotes and name particles."""
    letters = []
    in_quotes = False
    for token in filter(None, tokens[1:-1]):
        if len(token) == 1 and token in _QUOTES:
            in_quotes = not in_quotes
            continue
        if token[0] in _QUOTES:
            in_quotes = True
        if in_quotes:
            in_quotes = token[-1] not in _QUOTES
            continue
        if token.casefold() in NAME_PARTICLES:
            continue
        if _INITIAL.match(token):
            letters.extend(char for char in token if char.isalpha())
        elif token[:1].isalpha():
            letters.append(token[0].upper())
    return "".join(letters)


def _given_names(tokens: list[str]) -> list[str]:
    """The tokens a name may be called by first: its first, after a leading initial the name it
    is known by ("W. Mark Felt" is Mark Felt, "J. Edgar Hoover" Edgar Hoover), and a one-word
    nickname in quotes ('Luis Gerardo "Jerry" Ortiz' is Jerry Ortiz)."""
    given = [tokens[0]]
    if len(tokens) >= 3 and _INITIAL.match(tokens[0]) and not _INITIAL.match(tokens[1]):
        given.append(tokens[1])
    given.extend(
        token.strip(_QUOTES)
        for token in tokens[1:-1]
        if len(token) > 2 and token[0] in _QUOTES and token[-1] in _QUOTES and token.strip(_QUOTES)
    )
    return given


# --- Storms and vessels (rule 4b) ---------------------------------------------

STORM_LABEL = "EVENT"  # spaCy's (OntoNotes) label for named hurricanes
VESSEL_LABEL = "PRODUCT"  # and for vehicles, ships included
# Capitalised as written ("Hurricane", "HURRICANE"); a bare "Storm" is left out: "Storm Reid" is a person.
STORM_PHRASES = tuple(
    tuple(phrase.split())
    for phrase in (
        "super typhoon", "tropical cyclone", "tropical storm", "tropical depression", "winter storm",
        "hurricane", "typhoon", "cyclone", "superstorm",
    )
)
# Ship prefixes that name nothing else before a capitalised name (Indian, US, British, ... navies).
VESSEL_PREFIXES = frozenset("INS USS USNS USCGC HMS HMAS HMCS HMNZS RMS ICGS PNS HNLMS".split())
# Merchant prefixes that are also a person's initials ("MV Govindan"): a ship only when the
# article speaks of ships. Written forms -> the one kept.
MERCHANT_PREFIXES = {"MV": "MV", "M/V": "MV", "M.V.": "MV", "MT": "MT", "M/T": "MT"}
_SHIP_WORDS = re.compile(
    r"\b(?:vessel|ship|tanker|freighter|cargo|trawler|ferry|liner|warship|frigate|destroyer|boat)s?\b",
    re.IGNORECASE,
)


def speaks_of_ships(text: str) -> bool:
    """Whether a text writes a ship word, which makes "MV"/"MT" before a name a ship's prefix."""
    return bool(_SHIP_WORDS.search(text))


# Ships the text names that the tagger did not tag with their prefix ("from the MV Gibe", "the
# Indian warship Mysore", "merchant vessel Gibe"): a prefix, or a ship's type word, then
# capitalised words. Not "ship" or "carrier" alone, which are also a verb and an airline or telecom;
# "naval ship Mysore" (5 reprint-set copies of one story) cannot be the verb.
_SHIP_TYPE_WORDS = (
    "warship|frigate|destroyer|corvette|submarine|tanker|freighter|trawler|vessel"
    "|(?:naval|navy|merchant|cargo|patrol|research|container|cruise)\\s+ship"
)
_SHIP_IN_TEXT = re.compile(
    r"\b(?:(?P<prefix>" + "|".join(re.escape(p) for p in sorted({*VESSEL_PREFIXES, *MERCHANT_PREFIXES}, key=len, reverse=True))
    + r")|(?:" + _SHIP_TYPE_WORDS + r"))\s+(?P<name>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)"
)
# Capitalised words that follow a ship's name without being part of it ("the tanker Saturday").
_NOT_SHIP_NAME_WORDS = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december
    """.split()
)


class NamedThing(NamedTuple):
    """A storm or a ship an entity mention names (rule 4b)."""

    label: str  # STORM_LABEL or VESSEL_LABEL
    name: str  # "Cyclone Debbie", "INS Mysore"
    bare: str  # the name without its storm word or prefix: "Debbie", "Mysore"


# Words that follow a storm word in the names of things that are not a storm ("Hurricane Center").
_NOT_STORM_NAMES = frozenset(
    """
    center centre season seasons relief fund warning warnings watch watches hunter hunters tracker
    survivors victims recovery damage preparedness response aid appeal category alley risk
    forecast forecasts forecasting prediction research institute committee programme program
    names network shelter shelters insurance
    """.split()
)


def _is_storm_phrase(words: Sequence[str]) -> bool:
    """Whether `words` are exactly a storm phrase, capitalised as written."""
    return tuple(word.casefold() for word in words) in STORM_PHRASES and words[0][:1].isupper()


def _named_storm(phrase: Sequence[str], storm: str) -> Optional[NamedThing]:
    if not (storm[:1].isupper() and storm.isalpha()) or storm.casefold() in _NOT_STORM_NAMES:
        return None
    return NamedThing(STORM_LABEL, " ".join([*(word.capitalize() for word in phrase), storm]), storm)


def _vessel_prefix(word: str, ship_context: bool) -> Optional[str]:
    if word in VESSEL_PREFIXES:
        return word
    return MERCHANT_PREFIXES.get(word) if ship_context else None


def storm_or_vessel(name: str, preceding: str, ship_context: bool) -> Optional[NamedThing]:
    """The storm or ship a cleaned mention names, by its own first words or the words before it.

    A storm's name is the one word after its storm word ("Typhoon Lan LIVE" of a headline is
    "Typhoon Lan"); a ship's is all that follows its prefix ("USS Donald Cook").
    """
    tokens = name.split(" ")
    before = preceding.split()
    for length in (2, 1):
        if len(tokens) > length and _is_storm_phrase(tokens[:length]):
            return _named_storm(tokens[:length], tokens[length])
        if len(before) >= length and _is_storm_phrase(before[-length:]):
            return _named_storm(before[-length:], tokens[0])
    prefix = _vessel_prefix(tokens[0], ship_context)
    if prefix is not None and len(tokens) > 1:
        bare = " ".join(tokens[1:])
        return NamedThing(VESSEL_LABEL, f"{prefix} {bare}", bare)
    prefix = _vessel_prefix(before[-1], ship_context) if before else None
    if prefix is not None:
        return NamedThing(VESSEL_LABEL, f"{prefix} {name}", name)
    return None


# --- Within one article ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleEntities:
    """The normalised entities of one article and the mentions dropped as junk."""

    entities: tuple[Entity, ...]
    dropped: Counter  # reason -> count
    # Full PERSON names the article also calls by the surname alone, tagged PERSON
    # (the evidence across-articles rule 5 trusts).
    surnamed: frozenset[str] = frozenset()


def _quoted_nickname_of(word: str, text: str, full_names: Collection[str]) -> Optional[str]:
    """The article's full name that `word` is the quoted nickname in: "Chin" of Vincent 'Chin' Gigante."""
    pattern = rf"(\w[\w.]*)\s+[{_QUOTES}]{re.escape(word)}[{_QUOTES}]\s+(\w[\w'\u2019-]*)"
    for match in re.finditer(pattern, text):
        given, surname = match.group(1), match.group(2)
        for full in full_names:
            tokens = name_tokens(full)
            if len(tokens) >= 2 and name_key(given) in tokens[:-1] and tokens[-1] == name_key(surname):
                return full
    return None


_LINKS_AND_HANDLES = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+|[@#][\w.]+")


class _LazyCommonWords:
    """Whether a text writes a word in lower case at least as often as capitalised, and
    whether it writes a word at all.

    The words are counted on first use (most articles never ask).
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._counts: Optional[Counter] = None

    def _counted(self) -> Counter:
        if self._counts is None:
            prose = _LINKS_AND_HANDLES.sub(" ", self._text)  # "@dele_official" does not write "dele"
            self._counts = Counter(match.group() for match in WORD.finditer(prose))
        return self._counts

    def __contains__(self, word: str) -> bool:
        counts = self._counted()
        lower = word.lower()
        return lower != word and counts[lower] >= max(1, counts[word])

    def writes(self, word: str) -> bool:
        """Whether the text writes `word` as given (case and all) at least once."""
        return self._counted()[word] > 0


def _singulars(name: str) -> list[str]:
    """What a capitalised one-word name ending in -s would be without it ("Greeks" -> "Greek",
    "Bentleys" -> "Bentley", "Trumps" -> "Trump"; -ies also -> -y); none for other names."""
    if len(name) <= 3 or not name.endswith("s") or name.endswith("ss") or not name[0].isupper():
        return []
    return [name[:-1]] + ([name[:-3] + "y"] if name.endswith("ies") else [])


def _without_lost_apostrophe(name: str, person_words: Collection[str]) -> str:
    """A one-word name that is a person of the article with an s: a possessive whose apostrophe
    the source lost ("Trumps executive orders", "Clintons campaign" beside Trump and Clinton), or
    a family ("the Obamas"). It stands for that person (rules 8 and 9 then resolve it)."""
    for singular in _singulars(name):
        if name_key(singular) in person_words:
            return singular
    return name


def _plural_of_a_written_word(name: str, words: _LazyCommonWords, given_names: Collection[str]) -> bool:
    """A one-word name that is the plural of a capitalised word the text writes ("Greeks" beside
    "Greek", "Bentleys" beside "Bentley", "the Obamas" beside "Obama"): a group or things, not one
    person. Not when the singular is a given name of the article's people ("Roberts" beside
    Robert Smith could be a surname)."""
    return any(words.writes(singular) and name_key(singular) not in given_names for singular in _singulars(name))


def _suffix_of(short_tokens: list[str], full_tokens: list[str]) -> bool:
    """Whether short_tokens are the last tokens of the full name, with or without its "Jr."."""
    return any(
        len(short_tokens) < len(full) and full[-len(short_tokens):] == short_tokens
        for full in (full_tokens, _split_suffix(full_tokens)[0])
    )


def _first_name_of(short_tokens: list[str], full_tokens: list[str]) -> bool:
    return len(short_tokens) == 1 and len(full_tokens) > 1 and full_tokens[0] == short_tokens[0]


def _resolve_partial(
    name: str,
    full_names: Mapping[str, int],
    is_known: KnownWord,
    part_of: Callable[[list[str], list[str]], bool] = _suffix_of,
) -> Optional[str]:
    """The one full PERSON name this partial mention stands for, if unambiguous.

    `part_of` says which part: the last tokens (a surname, rule 8) or the first name (rule 9).
    """
    tokens = name_tokens(name)
    if not tokens:
        return None
    candidates = sorted(
        (full for full in full_names if part_of(tokens, name_tokens(full))),
        key=lambda full: (-full_names[full], full),
    )
    if not candidates:
        return None
    chosen = candidates[0]
    if all(same_person(chosen, other, is_known) for other in candidates[1:]):
        return chosen
    return None


def _trim_headline_run_ons(
    cleaned: list[tuple[str, str, str, bool]], on_headline_lines: list[bool]
) -> list[tuple[str, str, str, bool]]:
    """Rule 7: a PERSON run on into a headline's words takes the name the other lines give."""
    people_elsewhere = {
        name for (_, label, name, _), headline in zip(cleaned, on_headline_lines) if label == PERSON and not headline
    }
    if not people_elsewhere:
        return cleaned
    trimmed = []
    for (text, label, name, aliased), headline in zip(cleaned, on_headline_lines):
        if headline and label == PERSON and not aliased and name not in people_elsewhere:
            name = _name_within_run_on(name.split(" "), people_elsewhere) or name
        trimmed.append((text, label, name, aliased))
    return trimmed


def _name_within_run_on(tokens: list[str], people_elsewhere: set[str]) -> Optional[str]:
    """The person of the other lines a headline mention runs on from ("Ellen DeGeneres Returns"),
    else the full name of the other lines it runs on into ("Hire Maurice Cheeks", "Colts QB
    Andrew Luck"), else None. Leading words only give way to a name of two words or more: of
    "Laura Bush" beside George W. Bush, "Bush" is not the rest of the headline's words."""
    for cut in range(len(tokens) - 1, 0, -1):
        rest = tokens[cut:]
        if " ".join(tokens[:cut]) in people_elsewhere and not all(t.lower() in _NAME_SUFFIXES for t in rest):
            return " ".join(tokens[:cut])
    for cut in range(1, len(tokens) - 1):
        rest = " ".join(tokens[cut:])
        if rest in people_elsewhere:
            return rest
    return None


# Headline phrases (rule 7): how much prose an article needs before its headlines are judged by it,
# and when a mention is the whole headline line.
_PROSE_MIN_WORDS = 20
_WHOLE_LINE_MIN_WORDS = 5
_WHOLE_LINE_SHARE = 0.9
# A line ending in one full stop (not an ellipsis) is a sentence, however many names it holds.
_SENTENCE_FINAL = re.compile(r"(?<![.…])\.[\s\"'”’)\]]*$")


def headline_flags(text: str, spans: Iterable[tuple[int, int]]) -> tuple[list[bool], list[bool]]:
    """For each (start, end) span of text: whether its line is mostly capitalised, and whether it is a
    stretch of a headline, not a name (both rule 7). Each line is read once, however many spans it holds.
    """
    spans = list(spans)
    line_starts, line_words, capitalised_lines, headline_lines = [], [], [], []
    prose_words = 0
    prose_lower: set[str] = set()
    prose_parts = []
    offset = 0
    for line in text.split("\n"):
        words = WORD.findall(line)
        capitalised = mostly_capitalised(words)
        line_starts.append(offset)
        line_words.append(words)
        capitalised_lines.append(capitalised)
        headline_lines.append(capitalised and not _SENTENCE_FINAL.search(line))
        offset += len(line) + 1
        if not capitalised:
            prose_words += len(words)
            prose_lower.update(word for word in words if word.islower())
            prose_parts.append(" ".join(line.split()).lower())
    lines_of_spans = [bisect.bisect_right(line_starts, start) - 1 for start, _ in spans]
    on_capitalised_lines = [capitalised_lines[index] for index in lines_of_spans]
    if prose_words < _PROSE_MIN_WORDS:
        return on_capitalised_lines, [False] * len(spans)
    prose = " \n ".join(prose_parts)
    phrases = []
    for (start, end), index in zip(spans, lines_of_spans):
        mention = text[start:end]
        if "\n" in mention or not headline_lines[index]:
            phrases.append(False)
            continue
        words = WORD.findall(mention)
        content = [word for word in words if word.lower() not in NAME_PARTICLES and word.lower() != "the"]
        if len(content) < 2 or " ".join(mention.split()).lower() in prose:
            phrases.append(False)
            continue
        common = sum(word.lower() in prose_lower for word in content)
        whole_line = len(words) >= max(_WHOLE_LINE_MIN_WORDS, _WHOLE_LINE_SHARE * len(line_words[index]))
        phrases.append(common > len(content) / 2 or whole_line)
    return on_capitalised_lines, phrases


def doc_mentions(doc) -> list[RawMention]:
    """The entity mentions of a spaCy `Doc` (its `text` and `ents`), each with its headline flags (rule 7)."""
    headline_case, headline_phrase = headline_flags(doc.text, ((ent.start_char, ent.end_char) for ent in doc.ents))
    return [
        RawMention(ent.text, ent.label_, case, phrase, _words_before(doc, ent.start))
        for ent, case, phrase in zip(doc.ents, headline_case, headline_phrase)
    ]


def _words_before(doc, start: int, count: int = 2) -> str:
    """Up to `count` tokens right before token `start`, on the same line."""
    words: list[str] = []
    index = start - 1
    while index >= 0 and len(words) < count and not doc[index].is_space:
        words.append(doc[index].text)
        index -= 1
    return " ".join(reversed(words))


_THING_DROPPED_BECAUSE = {STORM_LABEL: "storm_name", VESSEL_LABEL: "vessel_name"}


def ships_in_text(text: str, ship_context: bool) -> list[NamedThing]:
    """The ships a text names after a prefix or a ship's type word, whether tagged or not."""
    ships = []
    for match in _SHIP_IN_TEXT.finditer(text):
        words = match.group("name").split()
        while words and words[-1].casefold() in _NOT_SHIP_NAME_WORDS:
            words.pop()
        written = match.group("prefix")
        if written is None and words and (words[0] in VESSEL_PREFIXES or words[0] in MERCHANT_PREFIXES):
            written, words = words[0], words[1:]  # "the destroyer USS Cole"
        if not words:
            continue
        words[-1] = _POSSESSIVE.sub("", words[-1])
        bare = " ".join(words)
        if written is None:
            if words[0].isupper():
                continue  # a headline in capitals: "SUBMARINE SMASHES RECORD"
            ships.append(NamedThing(VESSEL_LABEL, bare, bare))
        elif (prefix := _vessel_prefix(written, ship_context)) is not None:
            ships.append(NamedThing(VESSEL_LABEL, f"{prefix} {bare}", bare))
    return ships


def _named_things(
    mentions: Sequence[tuple[RawMention, CleanedMention]], ship_context: bool, text: str = ""
) -> list[Optional[NamedThing]]:
    """Rule 4b: the storm or ship each mention stands for, by its own words or, within the
    article, by being the name of one found so ("Debbie" beside "Cyclone Debbie"), or of a
    ship the text names after a prefix or type word that the tagger left out ("the MV Gibe")."""
    own = [storm_or_vessel(result.name, mention.preceding, ship_context) for mention, result in mentions]
    by_name: dict[str, NamedThing] = {}
    # Prefixed names first: "INS Mysore" names the ship that "the warship Mysore" also is.
    in_text = sorted(ships_in_text(text, ship_context), key=lambda ship: ship.name == ship.bare)
    for thing in [*own, *in_text]:
        if thing is not None:
            by_name.setdefault(thing.name, thing)
            by_name.setdefault(thing.bare, thing)
    return [thing or by_name.get(result.name) for thing, (_, result) in zip(own, mentions)]


def normalise_article(
    mentions: Sequence[RawMention],
    aliases: AliasTable,
    is_known: KnownWord = no_known_words,
    labels: Optional[Collection[str]] = None,
    text: str = "",
) -> ArticleEntities:
    """Clean, filter, alias and resolve one article's mentions (module rules 1-11).

    `labels`: the labels kept (None: all). Mentions of other labels are left out, but the
    tagger's storms and ships (EVENT "Hurricane Camille") still name the bare "Camille" it tags
    PERSON (rule 4b). `text`: what was tagged, for the ship words that let "MV" be a ship's prefix.
    """
    dropped: Counter = Counter()
    cleaned: list[tuple[str, str, str, bool]] = []  # (text, label, name, aliased)
    on_headline_lines: list[bool] = []
    headline_phrases: list[bool] = []

    def kept(label: str) -> bool:
        return labels is None or label in labels

    usable: list[tuple[RawMention, CleanedMention]] = []
    for mention in mentions:
        if not kept(mention.label) and mention.label not in _THING_DROPPED_BECAUSE:
            continue
        result = clean_mention(mention.text, mention.label)
        if result.name is not None:
            usable.append((mention, result))
        elif kept(mention.label):
            dropped[result.dropped_because] += 1
    things = _named_things(usable, speaks_of_ships(text), text)
    for (mention, result), thing in zip(usable, things):
        if thing is not None:
            if not kept(thing.label):
                if kept(result.label):
                    dropped[_THING_DROPPED_BECAUSE[thing.label]] += 1
                continue
            cleaned.append((mention.text, thing.label, thing.name, True))
        elif not kept(result.label):
            continue
        elif (alias := find_alias(aliases, result.name, result.label)) is not None:
            cleaned.append((mention.text, alias.label or result.label, alias.name, True))
        else:
            cleaned.append((mention.text, result.label, result.name, False))
        on_headline_lines.append(mention.headline_case)
        headline_phrases.append(mention.headline_phrase)
    trimmed = _trim_headline_run_ons(cleaned, on_headline_lines)
    without_phrases = []
    for (_, _, name, aliased), resolved, phrase in zip(cleaned, trimmed, headline_phrases):
        # A headline phrase goes, unless it is an alias or the run-on rule found a name in it.
        if phrase and not aliased and resolved[2] == name:
            dropped["headline_phrase"] += 1
            continue
        without_phrases.append(resolved)
    cleaned = without_phrases

    full_person_names: Counter = Counter(
        name
        for _, label, name, aliased in cleaned
        if label == PERSON and not aliased and len(name.split(" ")) >= 2
    )
    # Rule 9 only trusts a full name the article also calls by its surname alone: the
    # model's PERSON slips ("Obama White House", "Surrey Police") never are.
    # Rule 5 across articles trusts less: only a bare surname the model tagged PERSON.
    bare_tokens: set[str] = set()
    person_bare_tokens: set[str] = set()
    for _, label, name, _ in cleaned:
        tokens = name_tokens(name)
        if len(tokens) == 1:
            bare_tokens.add(tokens[0])
            if label == PERSON:
                person_bare_tokens.add(tokens[0])
    surnamed_people = Counter(
        {full: count for full, count in full_person_names.items() if surname_key(full) in bare_tokens}
    )
    surnamed = frozenset(full for full in surnamed_people if surname_key(full) in person_bare_tokens)
    words_of_people = {token for full in full_person_names for token in name_tokens(full)}
    given_names = {name_tokens(full)[0] for full in full_person_names}
    common_words = _LazyCommonWords(text)
    entities: list[Entity] = []
    seen: set[Entity] = set()
    # A lost apostrophe follows a surname or a name written alone, hardly a given name
    # ("Roberts" beside Robert Smith may be another person).
    person_words = {surname_key(full) for full in full_person_names} | person_bare_tokens
    for written, label, name, aliased in cleaned:
        if not aliased:
            if label == PERSON and " " not in name and name_key(name) not in words_of_people:
                name = _without_lost_apostrophe(name, person_words)
            full = _resolve_partial(name, full_person_names, is_known)
            if full is None and label == PERSON:
                full = _resolve_partial(name, surnamed_people, is_known, _first_name_of)
            if full is None and label == PERSON and " " not in name:
                full = _quoted_nickname_of(name, text, full_person_names)
            if full is not None:
                label, name = PERSON, full
            elif label == PERSON and " " not in name and name_key(name) not in words_of_people:
                if name in common_words:
                    dropped["common_word"] += 1
                    continue
                if _plural_of_a_written_word(name, common_words, given_names):
                    dropped["plural_name"] += 1
                    continue
        entity = Entity(text=_collapse_whitespace(written), label=label, norm=name)
        if entity not in seen:
            seen.add(entity)
            entities.append(entity)
    return ArticleEntities(tuple(entities), dropped, surnamed)


# --- Across the articles of a window --------------------------------------------


class NameObservation(NamedTuple):
    """One (label, norm) seen in one article, with which of its tokens are known words."""

    label: str
    norm: str
    known: tuple[bool, ...]  # one flag per space-separated token of norm
    surnamed: bool = False  # the article also calls this person by the surname alone


def observe_names(
    entities: Iterable[Entity], is_known: KnownWord, surnamed: Iterable[str] = ()
) -> list[NameObservation]:
    """Each distinct (label, norm) of one article, once; `surnamed` from its ArticleEntities."""
    distinct = sorted({(entity.label, entity.norm) for entity in entities})
    surnamed = set(surnamed)
    return [
        NameObservation(
            label,
            norm,
            tuple(is_known(token) for token in norm.split(" ")),
            label == PERSON and norm in surnamed,
        )
        for label, norm in distinct
    ]


@dataclass(frozen=True, slots=True)
class NameStats:
    articles: int  # in how many articles of the window the name occurs
    known: tuple[bool, ...]
    surnamed_articles: int = 0  # in how many of them the person is also called by the surname alone

    @property
    def known_share(self) -> float:
        return sum(self.known) / len(self.known) if self.known else 0.0


NameKey = tuple[str, str]  # (label, norm)
MergeMap = dict[NameKey, NameKey]


def _add_counts(stats: dict[NameKey, NameStats], key: NameKey, counts: NameStats) -> None:
    seen = stats.get(key)
    if seen is not None:
        counts = NameStats(
            seen.articles + counts.articles, counts.known, seen.surnamed_articles + counts.surnamed_articles
        )
    stats[key] = counts


def add_observation(stats: dict[NameKey, NameStats], observation: NameObservation) -> None:
    """Count one article's observation of a name into `stats` (in place)."""
    _add_counts(
        stats,
        (observation.label, observation.norm),
        NameStats(1, observation.known, int(observation.surnamed)),
    )


def merge_name_stats(into: dict[NameKey, NameStats], other: Mapping[NameKey, NameStats]) -> None:
    """Add the counts of `other` to `into` (in place)."""
    for key, name_stats in other.items():
        _add_counts(into, key, name_stats)


def count_observations(observations: Iterable[NameObservation]) -> dict[NameKey, NameStats]:
    stats: dict[NameKey, NameStats] = {}
    for observation in observations:
        add_observation(stats, observation)
    return stats


def _preference(name: str, stats: NameStats) -> tuple:
    return (-stats.known_share, -stats.articles, name)


# A bare surname shared by several people of the window stands for the one the window calls by it
# this many times as often as all the others together, in at least so many articles (rule 4).
SURNAME_DOMINANCE = 5
_SURNAME_DOMINANCE_MIN_ARTICLES = 10


def _the_one_called_by_surname(candidates: set[str], called_by_surname: Mapping[str, int]) -> set[str]:
    """Rule 4's choice among several people with one surname: the dominant one, or none."""
    ranked = sorted(candidates, key=lambda person: (-called_by_surname.get(person, 0), person))
    top = called_by_surname.get(ranked[0], 0)
    others = sum(called_by_surname.get(person, 0) for person in ranked[1:])
    if top >= _SURNAME_DOMINANCE_MIN_ARTICLES and top >= SURNAME_DOMINANCE * others:
        return {ranked[0]}
    return candidates


# Labels the small model gives people's full names in some articles (rule 7).
_PERSON_SLIP_LABELS = frozenset({"ORG", "GPE", "LOC", "NORP", "FAC"})


def build_merge_map(stats: Mapping[NameKey, NameStats]) -> MergeMap:
    """(label, norm) -> (label, norm) for every name that merges into another.

    Names absent from the map keep their own (label, norm). Rules 1-4, 6 and 7 of
    the "Across the articles" section of the module docstring.
    """
    mapping: MergeMap = {}

    # 1. spellings differing only in case, punctuation or spacing
    by_loose_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for label, norm in stats:
        by_loose_key[(label, loose_key(norm))].append(norm)
    representatives: dict[NameKey, NameStats] = {}
    for (label, _), norms in by_loose_key.items():
        norms.sort(key=lambda norm: _preference(norm, stats[(label, norm)]))
        chosen = norms[0]
        total = sum(stats[(label, norm)].articles for norm in norms)
        representatives[(label, chosen)] = NameStats(total, stats[(label, chosen)].known)
        for norm in norms[1:]:
            mapping[(label, norm)] = (label, chosen)

    # 2. PERSON spellings of one person
    known_tokens: dict[str, bool] = {}
    for (_, norm), name_stats in representatives.items():
        for token, known in zip(norm.split(" "), name_stats.known):
            known_tokens[token] = known_tokens.get(token, False) or known

    def is_known(token: str) -> bool:
        return known_tokens.get(token, False)

    full_names = sorted(
        (
            norm
            for label, norm in representatives
            if label == PERSON and len(norm.split(" ")) >= 2
        ),
        key=lambda norm: _preference(norm, representatives[(PERSON, norm)]),
    )
    people: list[str] = []
    people_by_block: dict[str, list[str]] = defaultdict(list)
    for name in full_names:
        blocks = surname_blocks(name)
        candidates = {person for block in blocks for person in people_by_block[block]}
        matches = sorted(person for person in candidates if same_person(name, person, is_known))
        if len(matches) == 1:
            mapping[(PERSON, name)] = (PERSON, matches[0])
        else:
            people.append(name)
            for block in blocks:
                people_by_block[block].append(name)

    # 3. bare surnames: PERSON always, ORG by the window's vote
    people_by_surname: dict[str, set[str]] = defaultdict(set)
    for person in people:
        people_by_surname[surname_key(person)].add(person)
    called_by_surname: Counter = Counter()  # person -> articles that call them by the surname alone
    for (label, norm), name_stats in stats.items():
        if label == PERSON and name_stats.surnamed_articles:
            called_by_surname[_final_name(mapping, (label, norm))[1]] += name_stats.surnamed_articles
    surname_articles: Counter = Counter()
    for (label, norm), name_stats in representatives.items():
        if label == PERSON:
            surname_articles[surname_key(norm)] += name_stats.articles
    for (label, norm), name_stats in representatives.items():
        if label not in (PERSON, "ORG") or len(norm.split(" ")) != 1:
            continue
        surname = name_key(norm)
        candidates = people_by_surname.get(surname, set())
        if len(candidates) > 1:
            candidates = _the_one_called_by_surname(candidates, called_by_surname)
        if len(candidates) != 1:
            continue
        if label == "ORG" and surname_articles[surname] < name_stats.articles:
            continue
        mapping[(label, norm)] = (PERSON, next(iter(candidates)))

    # The full names of people some article calls by the surname alone (rules 6 and 7), each
    # with the person it names; rule 6 maps one-word names only, so rule 7 sees the same.
    surnamed_full_names: dict[str, str] = {}
    for norm in full_names:
        person = _final_name(mapping, (PERSON, norm))[1]
        if called_by_surname.get(person):
            surnamed_full_names[norm] = person

    # 6. a one-word PERSON takes the label the window gives the same word in more articles
    # (ties stay PERSON), unless it is a word of the name of someone called by the surname
    # alone: a headline stretch tagged PERSON ("Colts Beat Chiefs") is nobody's name
    name_parts = {key for norm in surnamed_full_names for key in _keys(_split_suffix(norm.split(" "))[0])}
    other_labels: dict[str, Counter] = defaultdict(Counter)
    for (label, norm), name_stats in representatives.items():
        if label != PERSON and len(norm.split(" ")) == 1:
            other_labels[loose_key(norm)][(label, norm)] += name_stats.articles
    for (label, norm), name_stats in representatives.items():
        if label != PERSON or len(norm.split(" ")) != 1 or (label, norm) in mapping:
            continue
        if name_key(norm) in name_parts:
            continue
        votes = other_labels.get(loose_key(norm))
        if not votes:
            continue
        other, articles = min(votes.items(), key=lambda item: (-item[1], item[0]))
        if articles > name_stats.articles:
            mapping[(label, norm)] = other

    # 7. a name of two words or more under another label that the window also tags PERSON,
    # for a person it calls by the surname alone, is that person
    called_people_by_loose_key = {loose_key(norm): person for norm, person in surnamed_full_names.items()}
    for label, norm in representatives:
        if label in _PERSON_SLIP_LABELS and len(norm.split(" ")) >= 2 and (label, norm) not in mapping:
            person = called_people_by_loose_key.get(loose_key(norm))
            if person is not None:
                mapping[(label, norm)] = (PERSON, person)

    # Point every variant at its final name. No cycles: rules 1 and 2 map within a label to
    # the names they keep; rules 3 and 7 map one-word names and other labels to PERSON names of two words or more,
    # which only rule 2 maps, within PERSON; rule 6 maps one-word PERSON names, no rule's target.
    for key in list(mapping):
        mapping[key] = _final_name(mapping, key)
    return mapping


def _final_name(mapping: MergeMap, key: NameKey) -> NameKey:
    """Where a chain of merges ends: the name itself when nothing maps it."""
    while key in mapping:
        key = mapping[key]
    return key


@dataclass(frozen=True, slots=True)
class WindowNames:
    """What the window's articles tell each other about names (the side input of ApplyMergeMap)."""

    merge_map: MergeMap
    surnamed_people: frozenset[str]  # full PERSON names (final) some article calls by the surname alone

    def __bool__(self) -> bool:
        return bool(self.merge_map or self.surnamed_people)

    def rename(self, entities: Iterable[Entity]) -> tuple[Entity, ...]:
        """An article's entities under the window's names (`apply_merge_map`)."""
        return apply_merge_map(entities, self.merge_map, self.surnamed_people)


def build_window_names(stats: Mapping[NameKey, NameStats]) -> WindowNames:
    """The merge map (rules 1-4, 6 and 7) and the people rule 5 may resolve first names to."""
    mapping = build_merge_map(stats)
    surnamed = frozenset(
        mapping.get(key, key)[1]
        for key, name_stats in stats.items()
        if key[0] == PERSON and name_stats.surnamed_articles > 0
    )
    return WindowNames(mapping, surnamed)


def apply_merge_map(
    entities: Iterable[Entity],
    mapping: Mapping[NameKey, NameKey],
    surnamed_people: frozenset[str] | set[str] = frozenset(),
) -> tuple[Entity, ...]:
    """Rename an article's entities by the window's map, then first names by rule 5.

    Distinct mentions are kept once, in order.
    """
    renamed_all = [
        (entity.text, *mapping.get((entity.label, entity.norm), (entity.label, entity.norm)))
        for entity in entities
    ]
    full_names = Counter(
        {
            norm: 1
            for _, label, norm in renamed_all
            if label == PERSON and norm in surnamed_people and len(name_tokens(norm)) >= 2
        }
    )
    out: list[Entity] = []
    seen: set[Entity] = set()
    for text, label, norm in renamed_all:
        if full_names and label == PERSON and len(name_tokens(norm)) == 1:
            norm = _resolve_partial(norm, full_names, no_known_words, _first_name_of) or norm
        renamed = Entity(text=text, label=label, norm=norm)
        if renamed not in seen:
            seen.add(renamed)
            out.append(renamed)
    return tuple(out)


# --- The text the tagger sees ------------------------------------------------

_EMPHASIS = re.compile(r"(?:\*{1,3}|_{2,3})(?=\S)|(?<=\S)(?:\*{1,3}|_{2,3})")


def tagging_view(text: str, max_chars: Optional[int]) -> tuple[str, bool]:
    """The text handed to the tagger, and whether it was cut.

    Markdown emphasis marks are removed (CleanArticles removes them too, but an
    article may reach this stage by another route, and the small model misses
    names wrapped in them: "**Piyush Goyal**" on seed 003).

    Length cap: a text longer than `max_chars` is cut to its first
    `max_chars` characters, moved back to the last paragraph break in the
    second half of that prefix, else the last line break, sentence end or
    space there, else cut hard. Entities are those of the kept part; the
    article itself is not shortened. `None` means no cap.
    """
    view = _EMPHASIS.sub("", text)
    if max_chars is None or len(view) <= max_chars:
        return view, False
    prefix = view[:max_chars]
    floor = max_chars // 2
    for boundary in ("\n\n", "\n", ". ", " "):
        position = prefix.rfind(boundary)
        if position >= floor:
            return prefix[: position + (1 if boundary == ". " else 0)], True
    return prefix, True
