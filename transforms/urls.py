"""What a URL says about an article: the host an outlet is known by, and the date a publisher writes into it.

Shared by the readers (files, feeds), cleaning (a title's site name) and event
clustering (an article's year), so that one site is named and dated alike
wherever its articles come from.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional
from urllib.parse import urlsplit

from courlan import extract_domain

UTC = dt.timezone.utc


def url_host(url: Optional[str]) -> Optional[str]:
    """The host name an outlet is known by ("www.reuters.com/..." -> "reuters.com"), the way
    trafilatura names a page's host, so a JSON record, an HTML page and a feed of one site agree.

    A host with no registered domain (an IP address, "localhost") is named as written.
    """
    if not url:
        return None
    try:
        return extract_domain(url, fast=True) or urlsplit(url).hostname or None
    except ValueError:  # urlsplit refuses a malformed IPv6 host: no host to name
        return None


def is_web_url(value: Optional[str]) -> bool:
    """An absolute http(s) URL with a host: a link a reader can follow, not a relative path or an id."""
    if not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](0[1-9]|1[0-2])(?:[/-]([0-3]\d))?/")


def url_date(url: Optional[str]) -> Optional[tuple[int, int, Optional[int]]]:
    """(year, month, day or None) of a URL's `/YYYY/MM/` or `/YYYY/MM/DD/` (also with `-`), else None."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3]) if match[3] else None


def url_day(url: Optional[str]) -> Optional[dt.datetime]:
    """The URL's full date (`/YYYY/MM/DD/`) at 00:00 UTC; None without a day or for no real day."""
    dated = url_date(url)
    if dated is None or dated[2] is None:
        return None
    try:
        return dt.datetime(*dated, tzinfo=UTC)
    except ValueError:  # /2013/02/31/
        return None


# htmldate reads a numeric date as day first: the "04/08/2017" (April 8) that NY Mag pages print
# beside <time itemprop="datePublished" datetime="2017-04-08T09:32:44-04:00"> became 4 August, 10 of
# the 185 pages of ../shared/data whose URL states year and month (nymag.com/…/2017/04/…). When the
# URL's year and month disagree with the page date and the date read month first agrees, the URL
# settles it.
def with_day_and_month_of_url(published: dt.datetime, url: Optional[str]) -> dt.datetime:
    """The page date, its day and month swapped when only the swapped date fits the URL's date."""
    dated = url_date(url)
    if dated is None:
        return published
    year, month, day = dated
    if (published.year, published.month) == (year, month) or published.year != year:
        return published
    try:
        swapped = published.replace(month=published.day, day=published.month)
    except ValueError:
        return published
    fits = swapped.month == month and (day is None or swapped.day == day)
    return swapped if fits else published
