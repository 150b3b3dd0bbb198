"""The polite HTTP client against a real server on 127.0.0.1 (tests/feed_server.py)."""

from __future__ import annotations

import random
import socket
import threading
import time
import tracemalloc

import pytest

from tests.feed_server import FeedServer, Response, closed_port
from transforms.http_fetch import (
    AddressPolicy,
    FetchError,
    HostGate,
    HttpClient,
    HttpConfig,
    backoff_delay,
    check_url,
    parse_retry_after,
)

LOOPBACK = ["127.0.0.0/8"]
FAST = HttpConfig(
    min_host_delay_s=0,
    connect_timeout_s=1,
    read_timeout_s=0.4,
    total_timeout_s=1.5,
    backoff_base_s=0.02,
    backoff_max_s=0.1,
    max_feed_bytes=1_000_000,
)


@pytest.fixture(scope="module")
def server():
    feed_server = FeedServer().start()
    feed_server.gzip_bomb()  # built before any request times out waiting for it
    yield feed_server
    feed_server.stop()


def client(config: HttpConfig = FAST, **kwargs) -> HttpClient:
    kwargs.setdefault("allowed_networks", LOOPBACK)
    return HttpClient(config, gate=HostGate(config.max_connections_per_host, config.min_host_delay_s), **kwargs)


def fetch_error(call) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


def test_get_sends_user_agent_and_accepts_compression(server):
    result = client().get(server.url("/fault/good.xml?ua"), max_bytes=FAST.max_feed_bytes)
    assert result.status == 200 and b"<rss" in result.body
    sent = server.requests_to("/fault/good.xml")[-1].headers
    assert "newsbeam" in sent["user-agent"]
    assert "gzip" in sent["accept-encoding"]


def test_connections_are_pooled(server):
    http = client()
    before = len(server.requests)
    for _ in range(10):
        http.get(server.url("/fault/good.xml?pool"), max_bytes=FAST.max_feed_bytes)
    ports = {r.client_port for r in server.requests[before:]}
    assert len(ports) == 1


def test_read_timeout_is_retried_then_reported(server):
    started = time.monotonic()
    error = fetch_error(lambda: client().get(server.url("/fault/slow?delay=1.5&case=read"), max_bytes=1000))
    assert error.reason == "read_timeout"
    assert len([r for r in server.requests_to("/fault/slow") if r.query.get("case") == "read"]) == FAST.max_attempts
    assert time.monotonic() - started < 3


def test_a_refused_connection_is_connection_failed_not_a_connect_timeout():
    """urllib3 2.x makes its NewConnectionError a ConnectTimeoutError; a refused port was
    reported as "no connection ... within 5.0 s" although the refusal came at once."""
    url = f"http://127.0.0.1:{closed_port()}/feed.xml"
    config = FAST.model_copy(update={"connect_timeout_s": 5.0})
    waits: list[float] = []
    started = time.monotonic()
    error = fetch_error(lambda: client(config, sleep=waits.append).get(url, max_bytes=1000))
    assert (error.reason, error.detail) == ("connection_failed", f"cannot reach {url}: connection refused")
    # Still retried (a server may be restarting), with the backoff between tries and no
    # connect timeout waited out in any of them.
    assert error.retryable and len(waits) == config.max_attempts - 1
    assert all(0 < wait <= config.backoff_max_s for wait in waits)
    assert time.monotonic() - started < 1


def test_a_connect_that_really_waits_is_still_a_connect_timeout():
    """A listener whose accept queue is full: the kernel drops the next SYNs, so a connect
    waits without an answer, as with a host that has gone silent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(8):
                filler = socket.socket()
                fillers.append(filler)
                filler.settimeout(0.2)
                try:
                    filler.connect(("127.0.0.1", port))
                except TimeoutError:
                    break
            else:
                pytest.skip("this kernel answers every connect; no connect can be made to wait")
            url = f"http://127.0.0.1:{port}/feed.xml"
            config = FAST.model_copy(update={"connect_timeout_s": 0.3, "max_attempts": 1})
            started = time.monotonic()
            error = fetch_error(lambda: client(config).get(url, max_bytes=1000))
            assert (error.reason, error.detail) == ("connect_timeout", f"no connection to {url} within 0.3 s")
            assert 0.25 < time.monotonic() - started < 2
        finally:
            for filler in fillers:
                filler.close()


def test_a_dripping_body_ends_at_the_total_timeout(server):
    error = fetch_error(lambda: client().get(server.url("/fault/drip?chunks=100&interval=0.05"), max_bytes=100_000))
    assert error.reason == "total_timeout"


def test_404_is_not_retried_and_500_is(server):
    assert fetch_error(lambda: client().get(server.url("/fault/status/404"), max_bytes=1000)).reason == "http_404"
    assert server.hits("/fault/status/404") == 1
    error = fetch_error(lambda: client().get(server.url("/fault/status/500"), max_bytes=1000))
    assert (error.reason, error.status) == ("http_500", 500)
    assert server.hits("/fault/status/500") == FAST.max_attempts


def test_a_transient_500_is_retried_to_success(server):
    result = client().get(server.url("/fault/flaky?key=once&fails=1"), max_bytes=FAST.max_feed_bytes)
    assert (result.status, result.attempts) == (200, 2)


def test_retry_after_seconds_is_honoured(server):
    result = client().get(server.url("/fault/retry-after?key=honour&after=1"), max_bytes=FAST.max_feed_bytes)
    assert (result.status, result.attempts) == (200, 2)
    first, second = [r for r in server.requests_to("/fault/retry-after") if r.query.get("key") == "honour"]
    assert second.at - first.at >= 1.0


def test_retry_after_http_date_is_honoured(server):
    result = client().get(server.url("/fault/retry-after-date?key=date&after=0.5"), max_bytes=FAST.max_feed_bytes)
    assert result.attempts == 2
    first, second = [r for r in server.requests_to("/fault/retry-after-date") if r.query.get("key") == "date"]
    # The server announces now + 1.5 s, cut to whole seconds: at least 0.5 s ahead.
    assert second.at - first.at >= 0.5


def test_a_long_retry_after_fails_at_once_and_says_when(server):
    started = time.monotonic()
    error = fetch_error(lambda: client().get(server.url("/fault/retry-after?key=long&after=3600&fails=9"), max_bytes=1000))
    assert (error.reason, error.retry_after_s) == ("http_429", 3600)
    assert "Retry-After 3600" in error.detail
    assert time.monotonic() - started < 1
    assert len([r for r in server.requests_to("/fault/retry-after") if r.query.get("key") == "long"]) == 1


def test_backoff_grows_exponentially_with_bounded_jitter():
    rng = random.Random(7)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0)):
        delays = [backoff_delay(attempt, 1.0, 30.0, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2 and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed


def test_parse_retry_after_forms():
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_declared_and_streamed_bodies_over_the_cap_are_refused(server):
    http = client()
    declared = fetch_error(lambda: http.get(server.url("/fault/oversized?bytes=2000000"), max_bytes=1_000_000))
    streamed = fetch_error(lambda: http.get(server.url("/fault/oversized?bytes=2000000&declare=0"), max_bytes=1_000_000))
    assert declared.reason == streamed.reason == "body_too_large"
    assert "declares" in declared.detail and "sent more than" in streamed.detail


def test_a_gzip_bomb_stops_at_the_cap_without_inflating(server):
    cap = 2_000_000  # above the bomb's 1 MB on the wire, so only inflating can pass it
    tracemalloc.start()
    try:
        started = time.monotonic()
        error = fetch_error(lambda: client().get(server.url("/fault/gzip-bomb"), max_bytes=cap))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "decompressed_too_large"
    # 1 GiB inflated would take seconds and gigabytes; the cap holds both down.
    assert peak < 8 * cap
    assert time.monotonic() - started < 2


def test_redirects_are_followed_up_to_the_limit(server):
    http = client()
    result = http.get(server.url("/fault/redirect-chain/3"), max_bytes=FAST.max_feed_bytes)
    assert result.url.endswith("/fault/redirect-chain/0") and len(result.redirects) == 3
    assert fetch_error(lambda: http.get(server.url("/fault/redirect-chain/9"), max_bytes=1000)).reason == "too_many_redirects"
    assert fetch_error(lambda: http.get(server.url("/fault/redirect-loop/a"), max_bytes=1000)).reason == "redirect_loop"


def test_redirects_to_other_schemes_or_private_hosts_are_refused(server):
    http = client()
    to_file = fetch_error(lambda: http.get(server.url("/fault/redirect-to?to=file:///etc/passwd"), max_bytes=1000))
    to_private = fetch_error(lambda: http.get(server.url("/fault/redirect-to?to=http://10.1.2.3/x"), max_bytes=1000))
    assert to_file.reason == "unsupported_scheme"
    assert to_private.reason == "private_address" and "10.1.2.3" in to_private.detail


def test_conditional_get_gets_304_without_body(server):
    http = client()
    first = http.get(server.url("/fault/etag-good.xml"), max_bytes=FAST.max_feed_bytes)
    assert first.etag and first.last_modified
    second = http.get(server.url("/fault/etag-good.xml"), max_bytes=FAST.max_feed_bytes, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    sent = server.requests_to("/fault/etag-good.xml")[-1].headers
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == first.last_modified


def test_private_and_loopback_targets_are_refused_before_connecting(server):
    strict = client(allowed_networks=())
    before = server.hits("/fault/good.xml")
    error = fetch_error(lambda: strict.get(server.url("/fault/good.xml"), max_bytes=1000))
    assert error.reason == "private_address" and "loopback" in error.detail
    assert server.hits("/fault/good.xml") == before  # no request reached the server
    allowed = client(allowed_networks=(), allow_private_network=True)
    assert allowed.get(server.url("/fault/good.xml"), max_bytes=FAST.max_feed_bytes).status == 200


@pytest.mark.parametrize(
    "address, kind",
    [("10.0.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"), ("::1", "loopback"),
     ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "not-global"), ("0.0.0.0", "unspecified")],
)
def test_address_policy_names_what_it_refuses(address, kind):
    assert AddressPolicy().refusal(address) == kind
    assert AddressPolicy(allow_private_network=True).refusal(address) is None


def test_address_policy_allows_public_addresses_and_listed_networks():
    assert AddressPolicy().refusal("93.184.216.34") is None
    assert AddressPolicy.from_settings(False, ["10.0.0.0/8"]).refusal("10.2.3.4") is None


@pytest.mark.parametrize(
    "url, reason",
    [("ftp://example.com/feed", "unsupported_scheme"), ("file:///etc/passwd", "unsupported_scheme"),
     ("javascript:alert(1)", "unsupported_scheme"), ("http:///no-host", "invalid_url"), ("feed.xml", "unsupported_scheme")],
)
def test_only_http_and_https_urls(url, reason):
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.reason == reason


def test_host_gate_spaces_request_starts(server):
    config = FAST.model_copy(update={"min_host_delay_s": 0.2})
    http = client(config)
    for _ in range(4):
        http.get(server.url("/fault/good.xml?gate=delay"), max_bytes=FAST.max_feed_bytes)
    starts = [r.at for r in server.requests_to("/fault/good.xml") if r.query.get("gate") == "delay"]
    assert all(later - earlier >= 0.19 for earlier, later in zip(starts, starts[1:]))


def test_host_gate_limits_requests_in_flight(server):
    config = FAST.model_copy(update={"max_connections_per_host": 2, "read_timeout_s": 2})
    http = client(config)
    server.peak_in_flight = 0
    threads = [
        threading.Thread(target=http.get, args=(server.url(f"/fault/slow?delay=0.3&n={i}"),), kwargs={"max_bytes": 100_000})
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.peak_in_flight == 2


def test_robots_txt_is_honoured_and_fetched_once(server):
    http = client()
    before = server.hits("/robots.txt")
    assert not http.robots_allows(server.url("/private-pages/ae/x"))
    assert http.robots_allows(server.url("/pages/ae/x"))
    assert http.robots_allows(server.url("/fault/good.xml"))
    assert server.hits("/robots.txt") == before + 1


@pytest.mark.parametrize(
    "robots, allowed, delay",
    [
        (Response(404, {}, b"none"), True, 0.0),
        (Response(403, {}, b"no"), True, 0.0),  # RFC 9309: 4xx is "unavailable", not "disallow"
        (Response(503, {}, b"down"), False, 0.0),  # 5xx is "unreachable": disallow for now
        (Response(200, {"Content-Type": "text/plain"}, b"User-agent: newsbeam\nDisallow: /\n\nUser-agent: *\nAllow: /\n"), False, 0.0),
        (Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /*?print=\nCrawl-delay: 3\n"), True, 3.0),
    ],
)
def test_robots_txt_rules_and_failures(robots, allowed, delay):
    local = FeedServer().start()
    try:
        local.route("/robots.txt", lambda request: robots)
        http = client()
        assert http.robots_allows(local.url("/pages/ae/x")) is allowed
        assert http.gate.delay_for("127.0.0.1") == delay
    finally:
        local.stop()


def test_robots_wildcards_follow_rfc_9309():
    local = FeedServer().start()
    try:
        local.route("/robots.txt", lambda r: Response(200, {}, b"User-agent: *\nDisallow: /*?print=\nAllow: /news/$\nDisallow: /news/\n"))
        http = client()
        assert not http.robots_allows(local.url("/story?print=1"))
        assert http.robots_allows(local.url("/story"))
        assert http.robots_allows(local.url("/news/"))
        assert not http.robots_allows(local.url("/news/today"))
    finally:
        local.stop()
