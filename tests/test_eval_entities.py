"""`newsbeam eval entities`: which mentions are names, how a person's predicted name is read, the
scores, and the real TagEntities over real ECB+ topics."""

from __future__ import annotations

import gzip
import json

import pytest

from pipeline import eval_entities
from pipeline.eval_entities import PersonInArticle, is_name_mention, name_scores, people_in_article, predicted_name
from tests.conftest import SHARED, require_shared

ECBPLUS = SHARED / "data" / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz"


def test_names_are_told_from_pronouns_descriptions_and_capitalised_sentence_openers():
    text = "Robbers fled. Lohan said she was fine. The actress Lohan left. Police came."
    assert is_name_mention("Lohan", text.index("Lohan said"), text)  # written inside a sentence too
    assert not is_name_mention("Robbers", 0, text)
    assert not is_name_mention("Police", text.index("Police"), text)
    assert not is_name_mention("she", text.index("she"), text)
    assert not is_name_mention("She", 0, "She left.")
    assert is_name_mention("attorney, Shawn Holley", 10, "He called attorney, Shawn Holley.")


def test_people_are_the_annotated_persons_an_article_names():
    text = "Lindsay Lohan entered rehab. She said actress Lohan was well. Police came."
    mention = lambda words, tag="HUMAN_PART_PER", instance="HUM1", relation="CROSS_DOC_COREF": {  # noqa: E731
        "text": words, "start": text.index(words), "tag": tag,
        "coref_instance_id": instance, "coref_relation": relation,
    }
    record = {"text": text, "mentions": [
        mention("Lindsay Lohan"), mention("She"), mention("Lohan"),
        mention("Police", instance="HUM2"), mention("rehab", tag="LOC_FAC", instance="LOC1"),
        mention("actress", relation="INTRA_DOC_COREF"),
    ]}
    assert people_in_article(record, "a1") == [PersonInArticle("a1", "HUM1", ("Lindsay Lohan", "Lohan"))]


def test_predicted_name_is_the_norm_of_the_longest_person_entity_within_a_mention_else_around_one():
    person = PersonInArticle("a1", "HUM1", ("attorney, Shawn Holley", "Holley's"))
    entities = [("Shawn Holley", "PERSON", "Shawn Holley"), ("Holley", "PERSON", "Shawn Holley"),
                ("Holley", "ORG", "Holley Inc"), ("Shawn", "PERSON", "Shawn Mendes")]
    assert predicted_name(person, entities) == "shawn holley"
    assert predicted_name(person, entities, as_written=True) == "shawn holley"
    assert predicted_name(PersonInArticle("a1", "HUM1", ("Holley",)), entities, as_written=True) == "holley"
    assert predicted_name(PersonInArticle("a1", "HUM1", ("Kimani Gray",)), entities) is None
    # Failing an entity inside a mention, one around it whose norm holds the mention too.
    coroner = PersonInArticle("a2", "HUM2", ("Gary Hargrove",))
    assert predicted_name(coroner, [("Coroner Gary Hargrove", "PERSON", "Gary Hargrove")]) == "gary hargrove"
    assert predicted_name(coroner, [("Gary Hargrove's office", "PERSON", "Hargroves")]) is None
    assert predicted_name(coroner, [("Coroner Gary Hargrove", "PERSON", "Gary Hargrove"),
                                    ("Hargrove", "PERSON", "Anthony Hargrove")]) == "anthony hargrove"


def test_split_people_cost_recall_and_merged_people_cost_precision():
    people = [PersonInArticle(f"a{i}", instance, (name,)) for i, (instance, name) in enumerate(
        [("fred", "Fred LaRue"), ("fred", "Frederick LaRue"), ("fred", "LaRue"), ("joyce", "Joyce LaRue")]
    )] + [PersonInArticle("a9", "nobody", ("Mafia boss",))]
    one_norm_each = {"a0": [("Fred LaRue", "PERSON", "Fred LaRue")],
                     "a1": [("Frederick LaRue", "PERSON", "Frederick LaRue")],
                     "a2": [("LaRue", "PERSON", "Fred LaRue")],
                     "a3": [("Joyce LaRue", "PERSON", "Joyce LaRue")]}
    scores = name_scores(people, one_norm_each)
    assert scores["found"] == pytest.approx(4 / 5)
    assert scores["pair_precision"] == 1.0 and scores["pair_recall"] == pytest.approx(1 / 3)
    assert (scores["names"], scores["people"]) == (3, 2)
    everyone_larue = {key: [(text, "PERSON", "LaRue") for text, _, _ in found] for key, found in one_norm_each.items()}
    merged = name_scores(people, everyone_larue)
    assert merged["pair_recall"] == 1.0 and merged["pair_precision"] == pytest.approx(3 / 6)


def test_real_topics_through_tag_entities(tmp_path, capsys):
    require_shared(ECBPLUS)
    subset = tmp_path / "ecbplus_subset.jsonl.gz"
    with gzip.open(ECBPLUS, "rt", encoding="utf-8") as lines, gzip.open(subset, "wt", encoding="utf-8") as out:
        kept = [line for line in lines if json.loads(line)["topic_id"] in (1, 3)]
        out.writelines(kept)
    assert eval_entities.main(["--data", str(subset)]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(line)
    assert figures["articles"] == len(kept) and figures["dead_letters"] == 0
    assert figures["person_mentions"] > 40 and figures["people"] >= 5
    # Normalisation must put a person's spellings together far more often than the texts as
    # written do (Lindsay Lohan / Lohan / Lindsay), without merging the topics' different people.
    assert figures["found"] > 0.8
    assert figures["pair_recall"] > figures["as_written"]["pair_recall"] + 0.1
    assert figures["pair_precision"] > 0.9 and figures["pair_f1"] > 0.85


def test_files_without_mention_annotation_are_refused(tmp_path):
    other = tmp_path / "stories.jsonl"
    other.write_text(json.dumps({"story_id": "s", "timestamp_ms": 1, "title": "t"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="ecbplus_events files"):
        eval_entities.main(["--data", str(other)])
    with pytest.raises(SystemExit, match="newsbeam eval entities"):
        eval_entities.main(["--data", str(tmp_path / "missing.jsonl")])
