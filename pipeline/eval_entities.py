"""People's names across articles: TagEntities measured on ECB+'s cross-document coreference.

The issue asks for one `norm` per person whatever the spelling ("Singh" for
"Rajnath Singh", "Pete"/"Peter Hegseth") and never one norm for two people.
ECB+ (../shared/data/ecbplus_events/, see its README) annotates the people of
its events with a cross-document instance id: "Lindsay Lohan", "Lohan",
"Lindsay" and "she" in any of the topic's articles are one instance. That is a
gold standard for exactly this, written by people who never saw newsbeam.

What is scored
--------------
* A **person in an article** (a unit): one instance in one article, with that
  article's name mentions of it. A mention is a name when it holds a
  capitalised word that is no pronoun (nor a long word in capitals, "MAN");
  a one-word mention that starts a sentence must also be written capitalised
  inside a sentence of prose somewhere in the article, not in a Title Case
  headline ("Lohan said" counts where "actress Lohan" also stands, "Robbers
  fled" does not).
* **Prediction**: the `norm` of the article's PERSON entities whose text is
  one of the unit's name mentions, or a word run inside one (the entity
  "Shawn Holley" in the mention "attorney, Shawn Holley"), compared without
  case, spacing or a possessive 's; several: the norm of the longest
  matching text (ties: of more matches). Failing those, an entity whose text
  holds a mention that its norm holds too: the tagger ran the name on into
  other words ("Coroner Gary Hargrove", "Lindsay Lohan Checks Into Rehab"),
  and its norm is what is judged. A unit none matches is *missed*: `found` is the share
  found, the tagger's recall of these names (loosely: a few annotated
  "names" are descriptions, "Mafia boss").
* **Scores** over the found units, gold = instance, predicted = norm:
  pairwise precision/recall/F1, BCubed and ARI (`eval_events.cluster_scores`).
  Two units of one instance with two norms are a split person ("Fred LaRue" /
  "Frederick C. LaRue"); two instances under one norm are two people merged
  (the guard's failure). Beside them `as_written`: the same scores with each
  entity's text as written in place of its norm, which is what the
  normalisation adds.

Only people: ECB+'s places are phrases ("near Houston", "in three Texas
counties"), not names, and its organisations are few. ECB+ annotates only the
participants of its events, in some of the sentences, so a name the tagger
finds elsewhere is not judged: there is no tagging precision here.

The articles go through the real TagEntities (the `entities:` section of
`--config`, else the defaults: a larger spaCy model is measured by naming it
there) in one batch window, so the cross-article merge sees the whole file.

Command line:
    newsbeam eval entities --data ../shared/data/ecbplus_events/ecbplus_events.dev.jsonl.gz
prints one JSON line (see `evaluate_entities` for its keys).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Optional, Sequence

from pipeline.eval_events import BATCH_RUNNER, ECBPLUS, cluster_scores, detect_format, ecbplus_item
from pipeline.eval_runs import print_figures, rounded, run_stages
from pipeline.jsonl_files import first_record, text_lines
from transforms.entities import EntitiesConfig, TagEntities
from transforms.schema import Article
from transforms.text_cleaning import mostly_capitalised

PERSON_TAG = "HUMAN_PART_PER"
CROSS_DOCUMENT = "CROSS_DOC_COREF"
PERSON = "PERSON"
_SCORES = ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall", "bcubed_f1", "ari")
_PRONOUNS = frozenset(
    "i me my mine myself we us our ours ourselves you your yours yourself he him his himself she her hers "
    "herself it its itself they them their theirs themselves who whom whose one".split()
)
_MAX_INITIALISM = 3
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“”]\s*|\n\s*)$")


@dataclass(frozen=True)
class PersonInArticle:
    """One annotated person (a cross-document instance) in one article, by the names it is called there."""

    article_id: str
    instance: str
    mentions: tuple[str, ...]


def _capitalised_words(mention: str) -> list[str]:
    """Its capitalised words, no pronoun; a word in capitals only when short (an initialism, not "MAN")."""
    return [
        word for word in _WORD.findall(mention)
        if word[0].isupper() and word.casefold() not in _PRONOUNS and (len(word) <= _MAX_INITIALISM or not word.isupper())
    ]


def _written_inside_a_sentence(word: str, text: str) -> bool:
    """Capitalised after a word or comma on a line of prose (a Title Case headline capitalises anything)."""
    inside = re.compile(r"(?<=[\w,;] )" + re.escape(word) + r"(?!\w)")
    return any(inside.search(line) and not mostly_capitalised(line.split()) for line in text.splitlines())


def is_name_mention(mention: str, start: int, text: str) -> bool:
    """Whether an annotated person mention is a name (not "she", "the actress" or "Robbers" opening a sentence)."""
    words = _capitalised_words(mention)
    if not words:
        return False
    if len(words) == 1 and mention.lstrip().startswith(words[0]) and _SENTENCE_START.search(text[:start]):
        return _written_inside_a_sentence(words[0], text)
    return True


def people_in_article(record: dict, article_id: str) -> list[PersonInArticle]:
    """The annotated people of one ECB+ record that the article calls by a name."""
    names: dict[str, list[str]] = {}
    text = record["text"]
    for mention in record.get("mentions") or ():
        instance = mention.get("coref_instance_id")
        if mention.get("tag") != PERSON_TAG or not instance or mention.get("coref_relation") != CROSS_DOCUMENT:
            continue
        if is_name_mention(mention["text"], mention["start"], text):
            names.setdefault(instance, []).append(mention["text"])
    return [PersonInArticle(article_id, instance, tuple(mentions)) for instance, mentions in names.items()]


def _match_key(name: str) -> str:
    key = " ".join(name.replace("’", "'").split()).casefold()
    return key[:-2] if key.endswith("'s") else key


def _words_within(short: str, long: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(short) + r"(?!\w)", long) is not None


def predicted_name(person: PersonInArticle, entities: Sequence[tuple[str, str, str]], as_written: bool = False) -> Optional[str]:
    """The norm (or, `as_written`, the text) the article's PERSON entities give this person; None when none matches.

    `entities`: (text, label, norm) of the article's entities. An entity whose text lies within a
    mention is preferred; failing that, one whose text holds a mention that its norm holds too.
    """
    mention_keys = [_match_key(mention) for mention in person.mentions]
    longest: Counter = Counter()
    matches: Counter = Counter()
    for prefer_inside in (True, False):
        for text, label, norm in entities:
            entity_key = _match_key(text)
            if label != PERSON or not entity_key:
                continue
            for mention_key in mention_keys:
                if prefer_inside:
                    found = _words_within(entity_key, mention_key)
                else:
                    found = _words_within(mention_key, entity_key) and _words_within(mention_key, _match_key(norm))
                if found:
                    name = _match_key(text if as_written else norm)
                    longest[name] = max(longest[name], len(entity_key))
                    matches[name] += 1
        if matches:
            return min(matches, key=lambda name: (-longest[name], -matches[name], name))
    return None


def name_scores(people: Sequence[PersonInArticle], entities: dict[str, Sequence[tuple[str, str, str]]], as_written: bool = False) -> dict:
    """`found` and the clustering scores of the found people's names against their instances."""
    gold, predicted = [], []
    for person in people:
        name = predicted_name(person, entities.get(person.article_id, ()), as_written)
        if name is not None:
            gold.append(person.instance)
            predicted.append(name)
    scores = cluster_scores(gold, predicted)
    return {
        "found": len(gold) / len(people) if people else 0.0,
        **{key: scores[key] for key in _SCORES},
        "names": scores["clusters"],
        "people": scores["gold_clusters"],
    }


# ---------------------------------------------------------------- the real transform


def _entities_row(article: Article) -> list:
    return [article.article_id, [[e.text, e.label, e.norm] for e in article.entities]]


def run_tagging(
    articles: Sequence[Article], config: EntitiesConfig, runner: str = BATCH_RUNNER
) -> tuple[dict[str, list[tuple[str, str, str]]], int, float]:
    """Run TagEntities: (article_id -> its (text, label, norm) entities, dead letters, seconds)."""
    rows, dead_letters, seconds = run_stages(articles, [("TagEntities", TagEntities(config))], _entities_row, runner)
    entities = {article_id: [tuple(entity) for entity in found] for article_id, found in rows}
    return entities, dead_letters, seconds


def load_people(data_path: str) -> tuple[list[Article], list[PersonInArticle]]:
    """The articles of an ECB+ file and the people each calls by a name."""
    articles: list[Article] = []
    people: list[PersonInArticle] = []
    for line in text_lines(data_path):
        if not line.strip():
            continue
        record = json.loads(line)
        article = ecbplus_item(record).article
        articles.append(article)
        people.extend(people_in_article(record, article.article_id))
    return articles, people


def evaluate_entities(data_path: str, config: Optional[EntitiesConfig] = None, runner: str = BATCH_RUNNER) -> dict:
    """Keys: the scores of `name_scores` (norms), `as_written` (the same with texts as written),
    `articles`, `person_mentions` (people in articles), `dead_letters`, `model`, `seconds`."""
    config = config or EntitiesConfig()
    articles, people = load_people(data_path)
    entities, dead_letters, seconds = run_tagging(articles, config, runner)
    as_written = name_scores(people, entities, as_written=True)
    return {
        **name_scores(people, entities),
        "as_written": {key: as_written[key] for key in ("pair_precision", "pair_recall", "pair_f1", "bcubed_f1", "names")},
        "articles": len(articles),
        "person_mentions": len(people),
        "dead_letters": dead_letters,
        "model": config.model,
        "seconds": seconds,
    }


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam eval entities",
        description="Run TagEntities over ECB+ articles and score people's normalised names against "
        "its cross-document coreference; prints one JSON line of figures.",
    )
    parser.add_argument("--data", required=True, help="ecbplus_events file (.jsonl[.gz]) with its `mentions`")
    parser.add_argument("--config", help="YAML configuration; its `entities:` section is used")
    parser.add_argument("--runner", default=BATCH_RUNNER, help=f"Beam runner (default {BATCH_RUNNER})")
    return parser


def check_input(data_path: str) -> None:
    """A clear error for a missing file or one without ECB+'s mention annotation, before any pipeline starts."""
    record = first_record(data_path)
    if detect_format(record) != ECBPLUS or "mentions" not in record:
        raise ValueError(f"{data_path}: entities are scored on ecbplus_events files (records with `mentions`)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_input(args.data)
    except (OSError, ValueError) as error:
        raise SystemExit(f"newsbeam eval entities: {error}") from None
    config = None
    if args.config:
        from pipeline.config import load_config

        config = load_config(args.config).entities
    figures = evaluate_entities(args.data, config, args.runner)
    print_figures(rounded(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
