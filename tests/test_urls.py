"""URL helpers: the host an outlet is known by and the date a publisher writes into a URL."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.urls import url_date, url_day, url_host, with_day_and_month_of_url

UTC = dt.timezone.utc


def day(year: int, month: int, d: int) -> dt.datetime:
    return dt.datetime(year, month, d, tzinfo=UTC)


@pytest.mark.parametrize(
    "published, url, expected",
    [
        (day(2017, 8, 4), "http://nymag.com/daily/intelligencer/2017/04/kushner.html", day(2017, 4, 8)),
        (day(2013, 4, 12), "http://nymag.com/thecut/2013/12/long-strange-journey.html", day(2013, 12, 4)),
        (day(2017, 8, 4), "https://example.com/2017/04/09/story/", day(2017, 8, 4)),  # swapped is Apr 8, not Apr 9
        (day(2013, 11, 27), "https://www.vulture.com/2013/12/movie-review.html", day(2013, 11, 27)),  # no swap fits
        (day(2017, 4, 8), "http://nymag.com/2017/04/x.html", day(2017, 4, 8)),
        (day(2017, 8, 4), "https://thehill.com/homenews/state-watch/471178-story", day(2017, 8, 4)),
        (day(2017, 8, 4), None, day(2017, 8, 4)),
    ],
)
def test_with_day_and_month_of_url(published, url, expected):
    assert with_day_and_month_of_url(published, url) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://nymag.com/daily/intelligencer/2017/04/kushner.html", (2017, 4, None)),
        ("http://newyork.cbslocal.com/2013/09/14/cops-queens-woman-killed/", (2013, 9, 14)),
        ("http://articles.philly.com/2010-12-08/news/25293566_1_hearing", (2010, 12, 8)),
        ("https://example.com/2013/13/story/", None),  # no month 13
        ("https://example.com/articles/30409/20130606/story.htm", None),  # no separators
        ("https://example.com/story-2013.html", None),
        (None, None),
    ],
)
def test_url_date(url, expected):
    assert url_date(url) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://x.fr/news/2025/10/31/raid/", day(2025, 10, 31)),
        ("https://x.fr/2025/10/raid.html", None),  # a month is not a day
        ("https://x.fr/2025/02/31/raid/", None),  # no such day
        (None, None),
    ],
)
def test_url_day(url, expected):
    assert url_day(url) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://www.reuters.com/world/story-1", "reuters.com"),
        ("https://feeds.reuters.com/reuters/topNews", "reuters.com"),
        # courlan's fast rule (trafilatura's hostname): one leading label goes only before a
        # label of at least 4 letters, so a short registered name keeps its host.
        ("https://edition.cnn.com/2005/US/09/22/rita/", "edition.cnn.com"),
        ("http://127.0.0.1:8000/a", "127.0.0.1"),
        ("not a url", None),
        (None, None),
    ],
)
def test_url_host(url, expected):
    assert url_host(url) == expected
