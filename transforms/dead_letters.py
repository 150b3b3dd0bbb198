"""Dead letters: every record a step refuses leaves with its step and reason.

DoFns yield `to_dead_letter_output(...)` for a refused record; the composite
stage exposes those as its second output. Each refusal is also counted as a
Beam metric `newsbeam.dead_letters/<step>.<reason>`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Union

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.schema import DEAD_LETTER_RAW_CHARS, DeadLetter

DEAD_LETTER_TAG = "dead_letters"
METRICS_NAMESPACE = "newsbeam"


# C0 and C1 control characters but tab, newline and carriage return; DEL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Control characters as \\xNN, as undecodable bytes already are: binary input stays readable
    (and printable) in a terminal, a report or a CSV export."""
    return _CONTROLS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def make_dead_letter(
    step: str,
    reason: str,
    detail: str,
    source_ref: str,
    raw: Union[str, bytes, None],
) -> DeadLetter:
    """A DeadLetter with the raw input kept as text, cut to DEAD_LETTER_RAW_CHARS."""
    if raw is None:
        raw_text, raw_size = "", 0
    elif isinstance(raw, bytes):
        raw_size = len(raw)
        raw_text = escape_controls(raw[: DEAD_LETTER_RAW_CHARS * 4].decode("utf-8", errors="backslashreplace"))
    else:
        raw_text, raw_size = raw, len(raw)
    return DeadLetter(
        step=step,
        reason=reason,
        detail=detail,
        source_ref=source_ref,
        raw=raw_text[:DEAD_LETTER_RAW_CHARS],
        raw_size=raw_size,
        at=dt.datetime.now(dt.timezone.utc),
    )


def article_raw(article) -> Union[str, bytes]:
    """An article's text for its dead letter, whatever a broken record holds there."""
    return article.text if isinstance(article.text, (str, bytes)) else repr(article.text)


def dead_letter_output(
    step: str,
    reason: str,
    detail: str,
    source_ref: str,
    raw: Union[str, bytes, None],
) -> beam.pvalue.TaggedOutput:
    """Count the refusal and wrap it for the DoFn's dead-letter output."""
    Metrics.counter(METRICS_NAMESPACE, f"dead_letters.{step}.{reason}").inc()
    return beam.pvalue.TaggedOutput(
        DEAD_LETTER_TAG, make_dead_letter(step, reason, detail, source_ref, raw)
    )
