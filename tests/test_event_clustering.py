"""The pure event-clustering rule: features, order, the online assignment, expiry, copies."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import pickle

import pytest

from tests.conftest import SHARED, require_shared
from transforms import event_clustering as clustering
from transforms.event_clustering import ClusteringParams, OnlineEventClusterer, article_features, features_of
from transforms.schema import UTC, Article, Entity

FRIDAY = dt.datetime(2025, 10, 31, 9, tzinfo=UTC)
ECBPLUS = SHARED / "data" / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz"
PARAMS = ClusteringParams()


def make_article(article_id, text, published_at=None, title=None, url=None, **fields) -> Article:
    return Article(
        article_id=article_id,
        url=url,
        outlet=None,
        title=title,
        text=text,
        published_at=published_at,
        language="en",
        source_kind="text",
        source_ref=f"test:{article_id}",
        ingested_at=FRIDAY,
        **fields,
    )


@pytest.fixture(scope="module")
def ecbplus_by_event() -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    with gzip.open(require_shared(ECBPLUS), "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            grouped.setdefault(record["event_id"], []).append(record)
    return grouped


def ecb_article(record: dict, published_at=None) -> Article:
    return make_article(record["doc_id"], record["text"], published_at, title=record.get("title"))


# ---------------------------------------------------------------- features


def test_names_skip_sentence_starts_and_title_case_lines():
    features = article_features(
        "Defence Chiefs Sign Ten Year Framework",
        "Officials met in Kuala Lumpur. Ministers said Rajnath Singh signed.",
        "en",
        (),
        PARAMS,
    )
    assert {"kuala", "lumpur", "rajnath", "singh"} <= features.names.keys()
    # "Officials" and "Ministers" start sentences; the Title Case headline says nothing about names.
    assert not {"officials", "ministers", "defence", "chiefs", "framework"} & features.names.keys()
    assert {"defence", "framework", "signed"} <= features.terms.keys()


def test_function_words_are_dropped_by_frequency_in_any_language():
    english = article_features(None, "The minister and the army of the country", "en", (), PARAMS)
    assert "the" not in english.terms and "and" not in english.terms and "minister" in english.terms
    french = article_features(None, "Le ministre et les armées du pays", "fr", (), PARAMS)
    assert "le" not in french.terms and "les" not in french.terms and "ministre" in french.terms


def test_rarer_words_weigh_more_and_vectors_are_normalised():
    features = article_features(None, "Hegseth said the framework was signed", "en", (), PARAMS)
    assert features.terms["hegseth"] > features.terms["framework"] > features.terms["signed"]
    assert sum(v * v for v in features.terms.values()) == pytest.approx(1.0)


def test_entity_norms_join_the_name_vector_and_the_latest_year_is_found():
    article = make_article(
        "a", "In 2019 and again in 2025 the ministers met.", entities=(Entity("Singh", "PERSON", "Rajnath Singh"),)
    )
    features = features_of(article, PARAMS)
    assert "entity:rajnath singh" in features.names
    assert features.latest_year == 2025


def test_decades_and_longer_numbers_are_not_years():
    for text in ("The 1950s pin-up model has died.", "A star of the 1990's.", "Call 20245 now.", "In the 2000’s."):
        assert features_of(make_article("a", text), PARAMS).latest_year is None, text
    assert features_of(make_article("a", "The 1950s star died in 2008."), PARAMS).latest_year == 2008


def test_event_ids_come_from_the_founding_article():
    assert clustering.event_id_for("abc") == clustering.event_id_for("abc")
    assert clustering.event_id_for("abc") != clustering.event_id_for("abd")
    assert clustering.event_id_for("abc").startswith("ev-")


def test_order_puts_dated_first_by_time_then_copies_after_originals_then_undated():
    original = make_article("b", "x", FRIDAY)
    copy = make_article("a", "x", FRIDAY, canonical_id="b", is_canonical=False)
    earlier = make_article("z", "x", FRIDAY - dt.timedelta(hours=1))
    undated = make_article("0", "x")
    ordered = sorted([undated, copy, original, earlier], key=clustering.order_key)
    assert [a.article_id for a in ordered] == ["z", "b", "a", "0"]


# ---------------------------------------------------------------- the online rule


def test_the_seeds_form_one_event(seed_texts):
    articles = [make_article(name, text, FRIDAY) for name, text in seed_texts.items()]
    assigned = clustering.cluster_in_order(articles, PARAMS)
    assert len({event_id for _, event_id in assigned}) == 1


def test_unrelated_articles_found_their_own_events(seed_texts, ecbplus_by_event):
    seeds = [make_article(name, text, FRIDAY) for name, text in seed_texts.items()]
    others = [ecb_article(ecbplus_by_event[event][0], FRIDAY) for event in ("t1_ecbplus", "t3_ecb", "t20_ecbplus")]
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order(seeds + others, PARAMS))
    seed_events = {assigned[a.article_id] for a in seeds}
    assert len(seed_events) == 1
    other_events = [assigned[a.article_id] for a in others]
    assert len(set(other_events)) == 3 and not seed_events & set(other_events)


def test_two_events_of_one_kind_are_kept_apart(ecbplus_by_event):
    # ECB+ topic 1: Tara Reid enters rehab (2008) and Lindsay Lohan enters rehab (2013).
    reid = [ecb_article(r) for r in ecbplus_by_event["t1_ecb"][:6]]
    lohan = [ecb_article(r) for r in ecbplus_by_event["t1_ecbplus"][:6]]
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order(reid + lohan, PARAMS))
    reid_events = {assigned[a.article_id] for a in reid}
    lohan_events = {assigned[a.article_id] for a in lohan}
    assert not reid_events & lohan_events


def test_a_quiet_event_closes_and_its_state_goes(seed_texts):
    text = next(iter(seed_texts.values()))
    clusterer = OnlineEventClusterer(PARAMS)

    def assign(article_id: str, moment: dt.datetime) -> str:
        article = make_article(article_id, text, moment)
        return clusterer.assign(article, features_of(article, PARAMS))

    first = assign("a", FRIDAY)
    # Full articles: coverage of one happening runs over days, past the headlines' quiet period.
    next_day = FRIDAY + dt.timedelta(hours=PARAMS.quiet_period_hours + 12)
    assert next_day < FRIDAY + dt.timedelta(hours=PARAMS.full_text_quiet_period_hours)
    assert assign("b", next_day) == first
    much_later = next_day + dt.timedelta(hours=PARAMS.full_text_quiet_period_hours + 1)
    assert assign("c", much_later) == clustering.event_id_for("c") != first
    assert clusterer.live_events == 1


HEADLINE = "Volcanic ash from Iceland grounds flights across Norway and Sweden"


def test_a_headline_event_closes_after_the_shorter_quiet_period():
    clusterer = OnlineEventClusterer(PARAMS)

    def assign(article_id: str, moment: dt.datetime) -> str:
        article = make_article(article_id, HEADLINE, moment, title=HEADLINE)
        return clusterer.assign(article, features_of(article, PARAMS))

    first = assign("first", FRIDAY)
    assert assign("soon", FRIDAY + dt.timedelta(hours=PARAMS.quiet_period_hours - 1)) == first
    later = FRIDAY + dt.timedelta(hours=2 * PARAMS.quiet_period_hours)
    assert later < FRIDAY + dt.timedelta(hours=PARAMS.full_text_quiet_period_hours)
    assert assign("later", later) == clustering.event_id_for("later")
    assert clusterer.live_events == 1


def test_a_headline_joins_only_events_active_within_the_shorter_quiet_period():
    """A full-text event stays open for full articles; a headline, with its low bar, cannot reach it."""
    report = (
        "Volcanic ash from an eruption in Iceland grounded flights across Norway and Sweden on Friday, "
        "stranding thousands of passengers. Airlines in Oslo and Stockholm cancelled hundreds of departures "
        "while the ash cloud drifted east, and the Icelandic Met Office said the eruption continued."
    )
    late = FRIDAY + dt.timedelta(hours=PARAMS.quiet_period_hours + 6)
    original = make_article("report", report, FRIDAY, title="Ash cloud grounds Nordic flights")
    headline = make_article("headline", HEADLINE, late, title=HEADLINE)
    follow_up = make_article("follow-up", report, late + dt.timedelta(minutes=1), title="Ash cloud still grounds flights")
    assert clustering.is_headline(features_of(headline, PARAMS), PARAMS)
    assert not clustering.is_headline(features_of(follow_up, PARAMS), PARAMS)
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order([original, headline, follow_up], PARAMS))
    assert assigned["headline"] == clustering.event_id_for("headline")
    assert assigned["follow-up"] == assigned["report"] == clustering.event_id_for("report")
    # Within the shorter quiet period the same headline joins the report's event.
    soon = headline.replace(article_id="soon", published_at=FRIDAY + dt.timedelta(hours=1))
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order([original, soon], PARAMS))
    assert assigned["soon"] == assigned["report"]


def test_the_full_text_quiet_period_cannot_be_shorter_than_the_headlines():
    with pytest.raises(ValueError, match="full_text_quiet_period_hours"):
        ClusteringParams(quiet_period_hours=24.0, full_text_quiet_period_hours=12.0)


def test_state_pickled_before_headline_events_existed_still_assigns(seed_texts):
    """A local streaming run's carried state from an earlier version: its events count as full-text ones."""
    text = next(iter(seed_texts.values()))
    clusterer = OnlineEventClusterer(PARAMS)
    first = clusterer.assign(make_article("a", text, FRIDAY), features_of(make_article("a", text), PARAMS))
    old_state = pickle.loads(pickle.dumps(clusterer))
    del old_state.__dict__["_headline_events"]
    restored = pickle.loads(pickle.dumps(old_state))
    later = make_article("b", text, FRIDAY + dt.timedelta(hours=PARAMS.quiet_period_hours + 1))
    assert restored.assign(later, features_of(later, PARAMS)) == first


def test_a_copy_joins_its_canonical_copys_event_whatever_its_text(seed_texts, ecbplus_by_event):
    seed = make_article("seed", next(iter(seed_texts.values())), FRIDAY)
    unrelated_text = ecbplus_by_event["t3_ecb"][0]["text"]
    copy = make_article(
        "copy", unrelated_text, FRIDAY + dt.timedelta(hours=1), canonical_id="seed", is_canonical=False
    )
    orphan = make_article(
        "orphan", unrelated_text, FRIDAY + dt.timedelta(hours=1), canonical_id="never-seen", is_canonical=False
    )
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order([copy, seed, orphan], PARAMS))
    assert assigned["copy"] == assigned["seed"]
    assert assigned["orphan"] == clustering.event_id_for("orphan")


def test_a_late_copy_joins_its_canonical_copys_closed_event_without_reopening_it(seed_texts):
    """Wire copies run a day or two late, past the quiet period: they keep their original's event."""
    text = next(iter(seed_texts.values()))
    late = FRIDAY + dt.timedelta(hours=PARAMS.full_text_quiet_period_hours + 30)
    original = make_article("original", text, FRIDAY)
    # Something else happens in between, so the clock moves past the original's quiet period.
    other = make_article("other", "Volcanic ash grounded flights across Iceland and Norway", late)
    copy = make_article("copy", text, late + dt.timedelta(minutes=1), canonical_id="original", is_canonical=False)
    # The same text published anew, not as a copy: the closed event takes nothing new.
    rewrite = make_article("rewrite", text, late + dt.timedelta(minutes=2))
    assigned = dict(
        (a.article_id, e) for a, e in clustering.cluster_in_order([original, other, copy, rewrite], PARAMS)
    )
    assert assigned["copy"] == assigned["original"] == clustering.event_id_for("original")
    assert assigned["rewrite"] == clustering.event_id_for("rewrite")


def test_a_copy_of_an_event_closed_longer_than_the_copy_memory_is_clustered_like_any_article(seed_texts):
    params = ClusteringParams(copy_memory_hours=24.0)
    text = next(iter(seed_texts.values()))
    original = make_article("original", text, FRIDAY)
    within = FRIDAY + dt.timedelta(hours=params.full_text_quiet_period_hours + 20)
    beyond = FRIDAY + dt.timedelta(hours=params.full_text_quiet_period_hours + 30)
    early_copy = make_article("early", text, within, canonical_id="original", is_canonical=False)
    late_copy = make_article("late", text, beyond, canonical_id="original", is_canonical=False)
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order([original, early_copy, late_copy], params))
    assert assigned["early"] == assigned["original"]
    assert assigned["late"] == clustering.event_id_for("late")


def test_a_headline_events_copy_memory_runs_from_the_end_of_its_own_quiet_period():
    params = ClusteringParams(copy_memory_hours=24.0)
    original = make_article("original", HEADLINE, FRIDAY, title=HEADLINE)
    # Nothing else until 60 h later: the headline event closed at 12 h, its memory ran out at 36 h,
    # though the clock only now passes both quiet periods.
    later = FRIDAY + dt.timedelta(hours=60)
    other = make_article("other", "Central bank holds interest rates as inflation eases", later, title="Rates held")
    copy = make_article("copy", HEADLINE, later + dt.timedelta(minutes=1), canonical_id="original", is_canonical=False)
    assigned = dict((a.article_id, e) for a, e in clustering.cluster_in_order([original, other, copy], params))
    assert assigned["copy"] == clustering.event_id_for("copy")


def test_closed_events_leave_no_article_ids_behind_after_the_copy_memory(seed_texts):
    """State stays bounded: a long stream keeps only the last copy_memory_hours of closed events."""
    params = ClusteringParams(copy_memory_hours=24.0)
    text = next(iter(seed_texts.values()))
    clusterer = OnlineEventClusterer(params)
    features = features_of(make_article("x", text), params)
    # One article every three days: each closes the event before it (quiet for more than 48 h).
    every = dt.timedelta(days=3)
    for step in range(10):
        clusterer.assign(make_article(f"step-{step}", text, FRIDAY + step * every), features)
    remembered = [article_id for article_id in (f"step-{step}" for step in range(10)) if clusterer.event_of(article_id)]
    # Live: the last one's; closed within the last 24 h (at 48 h of quiet, a day before the last): the one before.
    assert remembered == ["step-8", "step-9"]
    assert clusterer.live_events == 1


def test_far_apart_years_separate_otherwise_identical_texts():
    strict = ClusteringParams(year_weight=5.0)
    old = make_article("old", "Earthquake of magnitude 6 strikes Qeshm island in 2005, officials said.")
    new = make_article("new", "Earthquake of magnitude 6 strikes Qeshm island in 2013, officials said.")
    assert len({e for _, e in clustering.cluster_in_order([old, new], strict)}) == 2
    assert len({e for _, e in clustering.cluster_in_order([old, new], PARAMS)}) == 1


def test_a_year_the_events_members_write_is_no_conflict():
    strict = ClusteringParams(year_weight=5.0)
    body = "Pin-up model Bettie Page died at a Los Angeles hospital, her agent said."
    obituary = make_article("a", f"Bettie Page died in 2008.\n{body}\nShe posed for Playboy in 1955.")
    retrospective = make_article("b", f"Bettie Page posed for Playboy in 1955.\n{body}")
    unrelated_year = make_article("c", f"Bettie Page posed for Playboy in 1991.\n{body}")
    assert features_of(retrospective, strict).latest_year == 1955
    assert features_of(obituary, strict).years == frozenset({2008, 1955})
    joined = dict((a.article_id, e) for a, e in clustering.cluster_in_order([obituary, retrospective], strict))
    assert joined["a"] == joined["b"]
    apart = dict((a.article_id, e) for a, e in clustering.cluster_in_order([obituary, unrelated_year], strict))
    assert apart["a"] != apart["c"]


def test_event_vectors_stay_within_their_term_limit(ecbplus_by_event):
    small = ClusteringParams(max_event_terms=20, similarity_threshold=0.0)
    articles = [ecb_article(r) for r in ecbplus_by_event["t1_ecbplus"]]
    clusterer = OnlineEventClusterer(small)
    for article in articles:
        clusterer.assign(article, features_of(article, small))
    (event,) = clusterer._events.values()
    assert len(event.terms) <= 2 * small.max_event_terms
    posted = {term for term, holders in clusterer._term_postings.items() if event.event_id in holders}
    assert posted == set(event.terms)


def test_the_same_input_gives_the_same_ids_in_any_arrival_order(ecbplus_by_event):
    articles = [ecb_article(r) for event in ("t1_ecb", "t1_ecbplus", "t20_ecb") for r in ecbplus_by_event[event]]
    forward = dict((a.article_id, e) for a, e in clustering.cluster_in_order(articles, PARAMS))
    backward = dict((a.article_id, e) for a, e in clustering.cluster_in_order(articles[::-1], PARAMS))
    assert forward == backward


def test_languages_whose_tokenizer_is_not_installed_fall_back_instead_of_failing():
    # wordfreq needs MeCab for Japanese; without it the article must still get features.
    features = clustering.article_features(
        "新型iPhoneの販売", "先日、不正に改造したiPhoneを販売したとして、男性が逮捕されました。", "ja", (), clustering.ClusteringParams()
    )
    assert features.terms


def _cosine(left: dict[str, float], right: dict[str, float]) -> float:
    return sum(value * right.get(term, 0.0) for term, value in left.items())


def test_headlines_of_one_story_join_at_the_lower_short_text_threshold():
    """Two headlines of one story share one word out of seven or eight: a cosine
    below similarity_threshold, which joins only because both are headline-sized."""
    first_text = "Apple earnings beat forecasts as iPhone sales climb"
    second_text = "iPhone maker posts record quarter, shares rise after hours"
    first = make_article("h1", first_text, FRIDAY, title=first_text)
    second = make_article("h2", second_text, FRIDAY + dt.timedelta(hours=1), title=second_text)
    first_features, second_features = features_of(first, PARAMS), features_of(second, PARAMS)
    assert len(second_features.terms) <= PARAMS.short_text_terms
    assert not first_features.main_names and first_features.latest_year is None
    score = _cosine(second_features.terms, first_features.terms) + PARAMS.name_weight * _cosine(
        second_features.names, first_features.names
    )
    assert PARAMS.short_text_threshold <= score < PARAMS.similarity_threshold

    one_threshold = ClusteringParams(short_text_threshold=PARAMS.similarity_threshold)
    for params, same_event in ((PARAMS, True), (one_threshold, False)):
        clusterer = OnlineEventClusterer(params)
        ids = [clusterer.assign(article, features_of(article, params)) for article in (first, second)]
        assert (ids[0] == ids[1]) is same_event, params


@pytest.mark.parametrize(
    "url, text, expected_year",
    [
        ("https://example.com/2013/09/18/ie-patch/", "Microsoft will patch Internet Explorer.", 2013),
        ("https://example.com/news/2010-12-08/hearing.html", "A hearing was held.", 2010),
        ("https://example.com/2013/09/ie-patch.html", "Microsoft patched Internet Explorer in 2008.", 2013),
        ("https://example.com/2008/12/ie-patch/", "Microsoft will ship the fix in 2009.", 2009),
        ("https://example.com/ie-patch-2013.html", "Microsoft will patch Internet Explorer.", None),
        (None, "Microsoft will patch Internet Explorer.", None),
    ],
)
def test_a_date_in_the_url_dates_the_article_like_its_lead(url, text, expected_year):
    """The publisher's /YYYY/MM/ is the article's own date: it counts as a lead year
    (the largest of the lead's years wins) and as a year the article writes."""
    features = article_features(None, text, "en", (), PARAMS, url=url)
    assert features.latest_year == expected_year
    if expected_year is not None:
        assert expected_year in features.years


def test_a_headline_alone_takes_no_year_from_its_url():
    """A headline stream's URLs date every headline of the week alike: a same-year bonus
    would outweigh the headline's low joining bar, so a headline-only article ignores it."""
    headline = "Microsoft rushes out emergency fix for Internet Explorer"
    url = "https://example.com/2013/09/18/ie-patch/"
    alone = article_features(headline, headline, "en", (), PARAMS, url=url)
    assert alone.headline_only and alone.latest_year is None and not alone.years
    with_text = article_features(headline, headline + "\nAttackers exploit the flaw.", "en", (), PARAMS, url=url)
    assert with_text.latest_year == 2013


def test_url_years_keep_two_same_kind_undated_events_apart():
    """Two otherwise alike undated reports of one kind of happening, five years apart by their URLs.
    A dated article's URL date is its publication time: the clock has it, not the year terms."""
    text = "Microsoft released an emergency patch for a critical Internet Explorer flaw that attackers exploit.\n" * 2
    old = make_article("old", text, url="https://example.com/2008/12/17/ie-patch/")
    new = make_article("new", text, url="https://example.com/2013/09/18/ie-patch/")
    strict = ClusteringParams(year_weight=5.0)
    assert len({e for _, e in clustering.cluster_in_order([old, new], strict)}) == 2
    without_urls = [make_article(article.article_id, text) for article in (old, new)]
    assert len({e for _, e in clustering.cluster_in_order(without_urls, strict)}) == 1
    dated = [article.replace(published_at=FRIDAY) for article in (old, new)]
    assert features_of(dated[0], strict).latest_year is None
    assert len({e for _, e in clustering.cluster_in_order(dated, strict)}) == 1


def test_a_long_article_is_held_to_the_similarity_threshold():
    long_text = " ".join(f"word{index}" for index in range(PARAMS.short_text_terms + 1))
    features = article_features(None, long_text, "en", (), PARAMS)
    assert clustering.joining_threshold(features, PARAMS) == PARAMS.similarity_threshold
    headline = article_features(None, "Crimea votes to join Russia", "en", (), PARAMS)
    assert clustering.joining_threshold(headline, PARAMS) == PARAMS.short_text_threshold


def test_a_headline_only_article_is_a_headline_whatever_its_length():
    """A title whose text adds no word to it (a headline stream, a feed item without its
    page) joins at short_text_threshold even past short_text_terms words; the same words
    as the text of an article, or with a text that adds words, are held to the full bar."""
    long_headline = "Ukraine crisis deepens as Crimea parliament schedules referendum on joining Russia next month"
    assert len(article_features(None, long_headline, "en", (), PARAMS).terms) > PARAMS.short_text_terms
    cases = (
        (long_headline, long_headline, True),
        (long_headline, "", True),
        (None, long_headline, False),
        (long_headline, long_headline + "\nLawmakers in Simferopol voted on Thursday.", False),
    )
    for title, text, headline_only in cases:
        features = article_features(title, text, "en", (), PARAMS)
        assert features.headline_only is headline_only, (title, text)
        expected = PARAMS.short_text_threshold if headline_only else PARAMS.similarity_threshold
        assert clustering.joining_threshold(features, PARAMS) == expected, (title, text)


def test_two_long_headlines_of_one_story_join():
    """Long headlines of one story share a word out of a dozen: below the full bar, above
    the headline one, so they join only because each is headline-only."""
    first_text = "Apple quarterly earnings beat Wall Street forecasts as iPhone sales climb in China and Europe"
    second_text = "iPhone maker posts record holiday revenue while its shares rise sharply in after hours trading"
    first = make_article("l1", first_text, FRIDAY, title=first_text)
    second = make_article("l2", second_text, FRIDAY + dt.timedelta(hours=1), title=second_text)
    as_texts = [make_article(article.article_id, article.text, article.published_at) for article in (first, second)]
    for articles, same_event in ((as_texts, False), ((first, second), True)):
        features = [features_of(article, PARAMS) for article in articles]
        assert all(len(f.terms) > PARAMS.short_text_terms for f in features)
        clusterer = OnlineEventClusterer(PARAMS)
        ids = [clusterer.assign(article, f) for article, f in zip(articles, features)]
        assert (ids[0] == ids[1]) is same_event, [a.title for a in articles]


def test_a_main_name_the_event_writes_only_at_sentence_starts_is_not_missing():
    """The main-name penalty asks whether the event writes the name at all, not whether it
    was counted as a name there: "Thompson" opens two sentences of the first report (so it
    is not in that report's names) and is still the same fight's challenger."""
    report = make_article(
        "report",
        "The champion Klitschko kept his belts in Mannheim on Saturday night. Thompson was stopped "
        "in the sixth round. Thompson said he would retire after the heavyweight fight.",
    )
    same_fight = make_article(
        "same-fight",
        "In Mannheim the champion Wladimir Klitschko stopped Tony Thompson in the sixth round. "
        "Fans cheered as Thompson fell and Klitschko celebrated his heavyweight belts.",
    )
    other_fight = make_article(
        "other-fight",
        "In Mannheim the champion Wladimir Klitschko stopped Hasim Rahman in the seventh round. "
        "Fans cheered as Rahman fell and Klitschko celebrated his heavyweight belts.",
    )
    report_features = features_of(report, PARAMS)
    assert "thompson" not in report_features.names and "thompson" in report_features.terms
    assert "thompson" in features_of(same_fight, PARAMS).main_names
    assert "rahman" in features_of(other_fight, PARAMS).main_names

    # A penalty this heavy decides alone: any missing main name keeps an article out.
    decisive = ClusteringParams(main_name_weight=10.0, similarity_threshold=0.01)
    for follower, joins in ((same_fight, True), (other_fight, False)):
        clusterer = OnlineEventClusterer(decisive)
        first = clusterer.assign(report, features_of(report, decisive))
        second = clusterer.assign(follower, features_of(follower, decisive))
        assert (first == second) is joins, follower.article_id
