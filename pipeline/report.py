"""`newsbeam report DIR`: one self-contained HTML page about a run's output.

The page (DIR/_report/index.html) needs no server and no network: styles are
inline and every chart is an inline SVG drawn by matplotlib. It shows the run's
counts, the events (largest first) with their span, outlets and top names,
a timeline per wire story carried by several outlets (who carried it, and how
long after the canonical copy; copies whose lag is unknown are listed in the
story's table, not drawn), and the dead letters with their reasons.

The page describes the output as it was when the page was written: it names
that state's run id (`<meta name="newsbeam-run-id">`; a local stream's round
tag, changing each round) and `stale_report(DIR)` says when DIR has been
published again since.

    newsbeam run && newsbeam report out && xdg-open out/_report/index.html
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import pathlib
import re
from typing import Any, Optional

import jinja2

from pipeline.queries import REPORT_DIR, connect, records

MAX_EVENTS = 50
MAX_STORIES = 25
SAMPLE_RAW_CHARS = 300


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _story_timeline_svg(story: dict[str, Any]) -> Optional[str]:
    """Who carried one story and how late: one dot per copy, lag in hours.

    A copy whose lag is unknown (its publication time, or the canonical copy's, is
    unknown) has no place on the axis: it is left out, and the chart says how many
    were; the story's table lists every copy. None when no copy has a known lag.
    """
    copies = [c for c in story["copies"] if c["lag_seconds"] is not None]
    left_out = len(story["copies"]) - len(copies)
    if not copies:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [c["outlet"] or "(unknown outlet)" for c in copies]
    lags = [c["lag_seconds"] / 3600 for c in copies]
    height = 0.9 + 0.32 * len(copies) + (0.3 if left_out else 0)
    figure, axis = plt.subplots(figsize=(7.5, height))
    colours = ["#b2182b" if c["is_canonical"] else "#2166ac" for c in copies]
    positions = list(range(len(copies)))
    axis.hlines(positions, 0, lags, color="#bbbbbb", linewidth=1)
    axis.scatter(lags, positions, color=colours, zorder=3, s=36)
    axis.set_yticks(positions, labels, fontsize=9)
    axis.invert_yaxis()
    axis.set_xlabel("hours after the canonical copy", fontsize=9)
    axis.tick_params(axis="x", labelsize=8)
    axis.spines[["top", "right"]].set_visible(False)
    axis.set_xlim(left=min(0, *lags) - 0.05 * (max(lags) or 1), right=(max(lags) or 1) * 1.08)
    if left_out:
        axis.set_title(_left_out_note(left_out), fontsize=8, loc="left", color="#57606a")
    return _svg(figure)


def _left_out_note(count: int) -> str:
    copies = "1 copy" if count == 1 else f"{count} copies"
    return f"not drawn: {copies} with an unknown lag (publication time unknown)"


def _events_chart_svg(events: list[dict[str, Any]]) -> str | None:
    """Articles per event, largest first: where the coverage went."""
    if not events:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = events[:15]
    labels = [(e["first_title"] or e["event_id"])[:60] for e in shown]
    figure, axis = plt.subplots(figsize=(7.5, 0.9 + 0.3 * len(shown)))
    axis.barh(range(len(shown)), [e["articles"] for e in shown], color="#2166ac")
    axis.set_yticks(range(len(shown)), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("articles", fontsize=9)
    axis.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _fmt_time(value) -> str:
    if value is None:
        return "date unknown"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _fmt_lag(seconds) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    if seconds == 0:
        return "first"
    hours, rest = divmod(abs(seconds), 3600)
    minutes = rest // 60
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return ("+" if seconds > 0 else "-") + text


def read_output_manifest(output_dir: str) -> dict[str, Any]:
    """`_run.json`, or for an unbounded run's output the totals of its window manifests ({} if neither)."""
    manifest_path = pathlib.Path(output_dir) / "_run.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    from transforms.write_parquet import windowed_manifest

    manifest = windowed_manifest(str(output_dir)) or {}
    if manifest:
        manifest["conserved"] = manifest["records_read"] == manifest["rows_written"] + manifest["dead_letters"]
    return manifest


def described_state(manifest: dict[str, Any]) -> str:
    """What names the published state of an output: the manifest's run id (a batch run's id, a
    local stream's round tag); window manifests have none, so their count and what they list."""
    if manifest.get("run_id"):
        return str(manifest["run_id"])
    if not manifest:
        return "unknown"
    listed = json.dumps([manifest.get("windows"), sorted(f["path"] for f in manifest.get("files", []))])
    return f"windows-{manifest.get('windows', 0)}-{hashlib.sha256(listed.encode()).hexdigest()[:12]}"


RUN_ID_META = "newsbeam-run-id"  # the name of the page's <meta> that holds described_state
_RUN_ID_TAG = re.compile(r'<meta name="' + RUN_ID_META + r'" content="([^"]*)">')


def stale_report(output_dir: str) -> Optional[str]:
    """Why DIR/_report/index.html no longer describes DIR (a run or a round published since it was
    written); None when it does, or when there is no page."""
    page = pathlib.Path(output_dir) / REPORT_DIR / "index.html"
    if not page.exists():
        return None
    found = _RUN_ID_TAG.search(page.read_text(encoding="utf-8"))
    described = html.unescape(found.group(1)) if found else None
    current = described_state(read_output_manifest(output_dir))
    if described == current:
        return None
    return (
        f"{page} describes run {described or '(not recorded: an older page)'}, but the output is now run "
        f"{current}; `newsbeam report {output_dir}` writes it again"
    )


def collect(output_dir: str) -> dict[str, Any]:
    """Everything the page shows, read from the output with DuckDB."""
    connection = connect(output_dir)
    manifest = read_output_manifest(output_dir)

    events = records(connection.sql(f"select * from events limit {MAX_EVENTS}"))
    story_rows = records(
        connection.sql(
            "select copy_group, canonical_title, canonical_outlet, canonical_published_at, agency, "
            "outlet, title, published_at, is_canonical, lag_seconds from wire_copies "
            "order by copy_group, carried_order"
        )
    )
    stories: dict[str, dict[str, Any]] = {}
    for row in story_rows:
        story = stories.setdefault(
            row["copy_group"],
            {
                "dup_group_id": row["copy_group"],
                "title": row["canonical_title"],
                "outlet": row["canonical_outlet"],
                "published": row["canonical_published_at"],
                "agency": row["agency"],
                "copies": [],
            },
        )
        story["copies"].append(
            {
                "outlet": row["outlet"],
                "title": row["title"],
                "published": row["published_at"],
                "is_canonical": bool(row["is_canonical"]),
                "lag_seconds": row["lag_seconds"],
            }
        )
    ordered_stories = sorted(stories.values(), key=lambda s: (-len(s["copies"]), s["dup_group_id"]))

    dead = records(connection.sql(
        """
        select step, reason, count(*) as count,
               arg_min(detail, source_ref) as detail,
               arg_min(source_ref, source_ref) as source_ref,
               arg_min(raw, source_ref) as raw
        from dead_letters group by step, reason order by count desc, step, reason
        """
    ))
    for letter in dead:
        letter["raw"] = (letter["raw"] or "")[:SAMPLE_RAW_CHARS]
    totals = records(connection.sql(
        "select count(*) as articles, count(distinct event_id) as events, "
        "count(*) filter (where not is_canonical) as copies, count(distinct outlet) as outlets from articles"
    ))[0]
    return {
        "manifest": manifest,
        "described": described_state(manifest),
        "totals": totals,
        "events": events,
        "stories": ordered_stories,
        "dead_letters": dead,
    }


TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsbeam report</title>
<meta name="{{ run_id_meta }}" content="{{ described }}">
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
 header{background:#0b3d91;color:#fff;padding:18px 28px}
 header h1{margin:0;font-size:22px} header p{margin:4px 0 0;opacity:.85;font-size:13px}
 main{max-width:1100px;margin:0 auto;padding:18px 28px}
 section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:16px 0}
 h2{font-size:18px;margin:0 0 10px} h3{font-size:15px;margin:14px 0 6px}
 .cards{display:flex;gap:12px;flex-wrap:wrap}
 .card{flex:1;min-width:130px;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px}
 .card b{display:block;font-size:24px} .card span{font-size:12px;color:#57606a}
 .ok{color:#1a7f37;font-weight:600} .bad{color:#cf222e;font-weight:600}
 table{border-collapse:collapse;width:100%;font-size:13px} th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
 th{background:#f6f8fa} .muted{color:#57606a;font-size:12px} code,pre{font-size:12px;background:#f6f8fa}
 pre{white-space:pre-wrap;word-break:break-word;padding:6px;margin:4px 0;max-height:8em;overflow:auto}
 .chart svg{max-width:100%;height:auto}
 .tag{display:inline-block;background:#ddf4ff;border-radius:10px;padding:1px 8px;margin:1px;font-size:12px}
 .span{white-space:nowrap;font-size:12px}
</style></head>
<body>
<header><h1>newsbeam report</h1>
<p>Output {{ output_dir }} · run <span id="run-id">{{ described }}</span> · published {{ manifest.get('published_at', 'unknown') }}</p></header>
<main>
<section id="counts"><h2>Run counts</h2>
<div class="cards">
 <div class="card"><b id="records-read">{{ manifest.get('records_read', '?') }}</b><span>records read</span></div>
 <div class="card"><b id="rows-written">{{ manifest.get('rows_written', '?') }}</b><span>articles written</span></div>
 <div class="card"><b id="dead-letters">{{ manifest.get('dead_letters', '?') }}</b><span>dead letters</span></div>
 <div class="card"><b id="event-count">{{ totals.events }}</b><span>events</span></div>
 <div class="card"><b id="copy-count">{{ totals.copies }}</b><span>syndicated copies</span></div>
 <div class="card"><b>{{ totals.outlets }}</b><span>outlets</span></div>
</div>
<p class="muted">Times are UTC.</p>
<p>Nothing lost: {% if manifest.get('conserved') %}<span class="ok">yes</span> — every record read is an article or a dead letter
({{ manifest.records_read }} = {{ manifest.rows_written }} + {{ manifest.dead_letters }}).{% else %}<span class="bad">NO</span> — records read do not add up; see the run log.{% endif %}</p>
</section>

<section id="events"><h2>Events, largest first</h2>
{% if events_chart %}<div class="chart">{{ events_chart | safe }}</div>{% endif %}
<table><tr><th>event</th><th>articles</th><th>time span</th><th>outlets</th><th>people</th><th>organisations</th><th>places</th></tr>
{% for e in events %}<tr class="event-row">
<td><b>{{ e.first_title or '(untitled)' }}</b><br><span class="muted">{{ e.event_id }}</span></td>
<td class="event-articles">{{ e.articles }}</td>
<td class="span">{{ fmt_time(e.first_published) }}<br>→ {{ fmt_time(e.last_published) }}</td>
<td>{% for o in (e.outlets or [])[:8] %}<span class="tag">{{ o }}</span>{% endfor %}{% if (e.outlets or []) | length > 8 %} <span class="muted">+{{ (e.outlets | length) - 8 }} more</span>{% endif %}</td>
<td>{% for n in (e.top_people or []) %}<span class="tag">{{ n }}</span>{% endfor %}</td>
<td>{% for n in (e.top_organisations or []) %}<span class="tag">{{ n }}</span>{% endfor %}</td>
<td>{% for n in (e.top_places or []) %}<span class="tag">{{ n }}</span>{% endfor %}</td>
</tr>{% endfor %}</table>
</section>

<section id="stories"><h2>Wire stories carried by several outlets</h2>
{% if not stories %}<p class="muted">No story was carried by more than one outlet in this output.</p>{% endif %}
{% for s in stories %}<div class="story">
<h3>{{ s.title or '(untitled)' }}</h3>
<p class="muted">first: {{ s.outlet or 'unknown outlet' }}, {{ fmt_time(s.published) }}{% if s.agency %} · agency {{ s.agency }}{% endif %} · {{ s.copies | length }} copies</p>
{% if s.chart %}<div class="chart">{{ s.chart | safe }}</div>{% else %}<p class="muted no-chart">No timeline: the publication times of these copies are unknown.</p>{% endif %}
<table><tr><th>outlet</th><th>published</th><th>lag</th><th>headline</th></tr>
{% for c in s.copies %}<tr><td>{{ c.outlet or '(unknown)' }}</td><td>{{ fmt_time(c.published) }}</td><td>{{ fmt_lag(c.lag_seconds) }}</td><td>{{ c.title or '' }}</td></tr>{% endfor %}
</table></div>{% endfor %}
</section>

<section id="dead"><h2>Dead letters</h2>
{% if not dead_letters %}<p class="ok">None: every record became an article.</p>{% else %}
<table><tr><th>step</th><th>reason</th><th>count</th><th>example</th></tr>
{% for d in dead_letters %}<tr class="dead-row"><td>{{ d.step }}</td><td>{{ d.reason }}</td><td class="dead-count">{{ d.count }}</td>
<td>{{ d.detail }}<br><span class="muted">{{ d.source_ref }}</span><pre>{{ d.raw }}</pre></td></tr>{% endfor %}
</table>{% endif %}
</section>
<p class="muted">Made by newsbeam from run {{ described }} of {{ output_dir }}; a later run or round there makes this page stale
(<code>newsbeam report {{ output_dir }}</code> writes it again). Query the same data with <code>newsbeam sql {{ output_dir }}</code>.</p>
</main></body></html>
""",
    autoescape=True,
)


def build_report(output_dir: str) -> pathlib.Path:
    data = collect(output_dir)
    for story in data["stories"][:MAX_STORIES]:
        story["chart"] = _story_timeline_svg(story)
    page = TEMPLATE.render(
        output_dir=output_dir,
        manifest=data["manifest"],
        described=data["described"],
        run_id_meta=RUN_ID_META,
        totals=data["totals"],
        events=data["events"],
        events_chart=_events_chart_svg(data["events"]),
        stories=data["stories"][:MAX_STORIES],
        dead_letters=data["dead_letters"],
        fmt_time=_fmt_time,
        fmt_lag=_fmt_lag,
    )
    target = pathlib.Path(output_dir) / REPORT_DIR
    target.mkdir(parents=True, exist_ok=True)
    temporary = target / "index.html.tmp"
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(target / "index.html")
    return target / "index.html"
