"""Turn the free-text timing an AI writes for a plan step into a delay in days.

Language models phrase timing in many shapes ("Day 3", "2-3 days later", "in a week",
"72h", "ASAP"), so the text is read with a small grammar instead of one large regex:

* a tokenizer splits the text into numbers, words, dashes, plus signs and other symbols.
  Words are whole runs of letters, so "know" never reads as "now"; digits and letters are
  split apart, so compact forms such as "Day5", "5d", "1w", "72h" and "2mo" tokenize like
  their spaced spellings;
* a few rules are tried at each token position, from left to right: fixed phrases, numbered
  periods ("Day 3", "Week 2"), "next <unit>", and quantities ("3 days", "a few weeks").

Pure: no I/O, no clock, no logging. Callers decide what to log.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

__all__ = [
    "FALLBACK_GAP_DAYS",
    "MAX_DELAY_DAYS",
    "NUMBER_WORDS",
    "DelaySource",
    "ResolvedDelay",
    "parse_timing",
    "resolve_delay",
]

MAX_DELAY_DAYS: Final = 365
FALLBACK_GAP_DAYS: Final = 3

NUMBER_WORDS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
    }
)

# Beyond the public one..twelve: "Day zero" is common, and the tens must be known so that
# "twenty-one days" reads as 21 rather than as "one days" (1) found inside it.
_SMALL_NUMBERS: Final[Mapping[str, int]] = {
    **NUMBER_WORDS,
    "zero": 0,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS: Final[Mapping[str, int]] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_DIGIT_WORDS: Final = frozenset(word for word, value in NUMBER_WORDS.items() if value < 10)

_DAY: Final = Fraction(1)
_WEEK: Final = Fraction(7)
_MONTH: Final = Fraction(30)
_HOUR: Final = Fraction(1, 24)
_UNIT_DAYS: Final[Mapping[str, Fraction]] = {
    "day": _DAY,
    "days": _DAY,
    "d": _DAY,
    "week": _WEEK,
    "weeks": _WEEK,
    "wk": _WEEK,
    "wks": _WEEK,
    "w": _WEEK,
    "fortnight": Fraction(14),
    "fortnights": Fraction(14),
    "month": _MONTH,
    "months": _MONTH,
    "mo": _MONTH,
    "mos": _MONTH,
    "mth": _MONTH,
    "mths": _MONTH,
    "year": Fraction(MAX_DELAY_DAYS),
    "years": Fraction(MAX_DELAY_DAYS),
    "yr": Fraction(MAX_DELAY_DAYS),
    "yrs": Fraction(MAX_DELAY_DAYS),
    "hour": _HOUR,
    "hours": _HOUR,
    "hr": _HOUR,
    "hrs": _HOUR,
    "h": _HOUR,
    "minute": Fraction(1, 1440),
    "minutes": Fraction(1, 1440),
    "min": Fraction(1, 1440),
    "mins": Fraction(1, 1440),
}
# A lone letter is far too common in prose ("plan B", "d)") to be a unit on its own; it
# only counts when glued to its number, as in "5d". ("m" is left out: minutes or months?)
_COMPACT_UNITS: Final = frozenset({"d", "w", "h"})

# Words that may sit between an amount and its unit without changing the meaning.
_FILLERS: Final = frozenset(
    {"more", "additional", "extra", "further", "full", "whole", "business", "working", "calendar"}
)

_QUANTIFIERS: Final[Mapping[str, int]] = {"couple": 2, "few": 3, "several": 3}

# "a"/"an" is the most common word in English, so "a day" alone ("make it a day to remember")
# is not taken as timing; it needs a word around it that makes it relative.
_ARTICLES: Final = frozenset({"a", "an"})
_ARTICLE_CONTEXT_BEFORE: Final = frozenset(
    {"in", "after", "within", "wait", "about", "around", "roughly", "approximately", "approx"}
)
_ARTICLE_CONTEXT_AFTER: Final = frozenset(
    {"later", "after", "afterwards", "afterward", "from", "hence", "out"}
)

_RANGE_WORDS: Final = frozenset({"to", "or"})
_NEXT_WORDS: Final = frozenset({"next", "following"})

# keyword -> (days per period, number of the period that starts the plan). Plans count days
# from "Day 0" or "Day 1" and both mean that many days in, but "Week 1" is the first week,
# which starts with the plan.
_NUMBERED_PERIODS: Final[Mapping[str, tuple[int, int]]] = {
    "day": (1, 0),
    "days": (1, 0),
    "d": (1, 0),
    "week": (7, 1),
    "weeks": (7, 1),
    "wk": (7, 1),
    "month": (30, 1),
    "months": (30, 1),
}

# Longest phrases first where they share a start word, so "day after tomorrow" beats "Day N".
_PHRASES: Final[tuple[tuple[tuple[str, ...], int], ...]] = (
    (("day", "after", "tomorrow"), 2),
    (("immediately",), 0),
    (("asap",), 0),
    (("now",), 0),
    (("today",), 0),
    (("tonight",), 0),
    (("right", "away"), 0),
    (("straight", "away"), 0),
    (("same", "day"), 0),
    (("tomorrow",), 1),
)

# Numbers longer than this are only ever clamped, so they are never converted: int() on a
# string of thousands of digits is slow and, past Python's limit, raises.
_MAX_NUMBER_DIGITS: Final = 6
_HUGE: Final = Fraction(10**_MAX_NUMBER_DIGITS)

# "1,000" is one number so that it cannot be read as "000 days". Words include underscores
# and combining accents, so "snake_now" or a decomposed "nöw" never yields a bare "now".
# Only ASCII digits are numbers: other scripts' digits are rare here and stay "other".
_TOKEN_RE: Final = re.compile(
    r"""
      (?P<number> (?:[0-9]{1,3}(?:,[0-9]{3})+ | [0-9]+) (?:\.[0-9]+)? )
    | (?P<word>   (?:[^\W\d]|[\u0300-\u036f])+ )
    | (?P<dash>   [\-\u2010-\u2015\u2212] )
    | (?P<plus>   \+ )
    | (?P<other>  \S )
    """,
    re.VERBOSE,
)

_Kind = Literal["number", "word", "dash", "plus", "other"]


# A NamedTuple rather than a frozen dataclass: it is built once per token, and huge inputs
# have hundreds of thousands of tokens.
class _Token(NamedTuple):
    kind: _Kind
    text: str
    start: int
    end: int


def _number_value(literal: str) -> Fraction:
    whole, _, decimals = literal.replace(",", "").partition(".")
    whole = whole.lstrip("0")
    if len(whole) > _MAX_NUMBER_DIGITS:
        return _HUGE
    decimals = decimals[:_MAX_NUMBER_DIGITS]
    return Fraction(int(whole or "0")) + Fraction(int(decimals or "0"), 10 ** len(decimals))


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        literal, start, end = match.group(), match.start(), match.end()
        kind = match.lastgroup
        if kind == "number":
            tokens.append(_Token("number", literal, start, end))
        elif kind == "word":
            tokens.append(_Token("word", literal.lower(), start, end))
        elif kind == "dash":
            tokens.append(_Token("dash", literal, start, end))
        elif kind == "plus":
            tokens.append(_Token("plus", literal, start, end))
        else:
            tokens.append(_Token("other", literal, start, end))
    return tokens


@dataclass(frozen=True, slots=True)
class _Stream:
    """Bounds-safe lookups, so rules can peek past either end without checks."""

    tokens: Sequence[_Token]

    def at(self, index: int) -> _Token | None:
        if 0 <= index < len(self.tokens):
            return self.tokens[index]
        return None

    def word(self, index: int) -> str:
        token = self.at(index)
        return token.text if token is not None and token.kind == "word" else ""

    def is_kind(self, index: int, kind: _Kind) -> bool:
        token = self.at(index)
        return token is not None and token.kind == kind

    def glued_to_previous(self, index: int) -> bool:
        token, previous = self.at(index), self.at(index - 1)
        return token is not None and previous is not None and previous.end == token.start


def _is_embedded(stream: _Stream, index: int) -> bool:
    """Whether a number is part of a larger item: "Q4", "B2B", "v1.2", "24/7", "1,5"."""
    if not stream.glued_to_previous(index):
        return False
    previous = stream.at(index - 1)
    return previous is not None and (previous.kind == "word" or previous.text in {".", ",", "/"})


def _read_number(
    stream: _Stream, index: int, *, allow_glued: bool = False
) -> tuple[Fraction, int] | None:
    """Read digits or number words at index; return (value, index after) or None."""
    token = stream.at(index)
    if token is None:
        return None
    if token.kind == "number":
        if not allow_glued and _is_embedded(stream, index):
            return None
        return _number_value(token.text), index + 1
    word = stream.word(index)
    if word in _TENS:
        after = index + 1
        if stream.is_kind(after, "dash") and stream.glued_to_previous(after):
            after += 1
        if stream.word(after) in _DIGIT_WORDS:
            return Fraction(_TENS[word] + NUMBER_WORDS[stream.word(after)]), after + 1
        return Fraction(_TENS[word]), index + 1
    if word in _SMALL_NUMBERS:
        return Fraction(_SMALL_NUMBERS[word]), index + 1
    return None


def _skip_range_tail(stream: _Stream, index: int) -> int:
    """Step over the second half of "2-3", "2 to 3", "2 or 3": the earlier day is kept."""
    if stream.is_kind(index, "dash") or stream.word(index) in _RANGE_WORDS:
        second = _read_number(stream, index + 1)
        if second is not None:
            return second[1]
    return index


def _read_unit(stream: _Stream, index: int) -> tuple[Fraction, int] | None:
    """Read "[-] [fillers] unit" at index; return (days per unit, index after) or None."""
    # A dash joins a compound ("5-day", "next-day") only when it touches both neighbours;
    # spaced, as in "Step 2 - day 5", it separates unrelated parts.
    if (
        stream.is_kind(index, "dash")
        and stream.glued_to_previous(index)
        and stream.glued_to_previous(index + 1)
    ):
        index += 1
    while stream.word(index) in _FILLERS:
        index += 1
    word = stream.word(index)
    per_unit = _UNIT_DAYS.get(word)
    if per_unit is None:
        return None
    if word in _COMPACT_UNITS and not (
        stream.is_kind(index - 1, "number") and stream.glued_to_previous(index)
    ):
        return None
    return per_unit, index + 1


def _matches_phrase(stream: _Stream, index: int, words: tuple[str, ...]) -> bool:
    for position, expected in enumerate(words):
        # "same-day" and "right-away" are written with a dash as often as with a space.
        if position > 0 and stream.is_kind(index, "dash"):
            index += 1
        if stream.word(index) != expected:
            return False
        index += 1
    return True


def _rule_phrase(stream: _Stream, index: int) -> int | None:
    first = stream.word(index)
    for words, days in _PHRASES:
        if words[0] == first and _matches_phrase(stream, index, words):
            return days
    return None


def _rule_numbered_period(stream: _Stream, index: int) -> int | None:
    """Numbered periods: "Day 3", "Day5", "Days 3-5", "D+3", "Week 2", "Month 2"."""
    keyword = stream.word(index)
    period = _NUMBERED_PERIODS.get(keyword)
    if period is None:
        return None
    after = index + 1
    if stream.is_kind(after, "plus"):
        after += 1
    elif keyword == "d":
        # A lone "d" is only a day marker in the "D+3" notation.
        return None
    number = _read_number(stream, after, allow_glued=True)
    if number is None:
        return None
    days_per_period, first_period = period
    return math.floor(days_per_period * (number[0] - first_period))


def _rule_next_period(stream: _Stream, index: int) -> int | None:
    """One period ahead: "next week", "the following day", "next business day"."""
    if stream.word(index) not in _NEXT_WORDS:
        return None
    unit = _read_unit(stream, index + 1)
    if unit is None:
        return None
    per_unit, after = unit
    # "Following Day 3's call" names Day 3; the period rule at "Day" reads it.
    if _read_number(stream, after, allow_glued=True) is not None:
        return None
    return math.floor(per_unit)


def _read_quantity(stream: _Stream, index: int) -> tuple[Fraction, int, bool] | None:
    """Read an amount at index; return (amount, index after, bare article?) or None."""
    word = stream.word(index)
    after = index
    if word in _ARTICLES:
        if stream.word(index + 1) not in _QUANTIFIERS:
            return Fraction(1), index + 1, True
        after += 1
        word = stream.word(after)
    if word in _QUANTIFIERS:
        after += 1
        if stream.word(after) == "of":
            after += 1
        return Fraction(_QUANTIFIERS[word]), after, False
    number = _read_number(stream, index)
    if number is None:
        return None
    amount, after = number
    return amount, _skip_range_tail(stream, after), False


def _is_negative(stream: _Stream, index: int) -> bool:
    """Whether the number at index carries a minus sign: "-5 days", "in \u22125 days".

    The dash must touch the number and nothing before it, so the range "2-3 days" and the
    compound "follow-up" keep their meaning, and a spaced list bullet ("- 5 days") is no
    sign at all."""
    if not stream.is_kind(index - 1, "dash") or not stream.glued_to_previous(index):
        return False
    return not stream.glued_to_previous(index - 1)


def _rule_quantity(stream: _Stream, index: int) -> int | None:
    """Amount and unit: "3 days", "2-3 days later", "5-day", "72h", "a couple of days"."""
    quantity = _read_quantity(stream, index)
    if quantity is None:
        return None
    amount, after, bare_article = quantity
    unit = _read_unit(stream, after)
    if unit is None:
        return None
    per_unit, after = unit
    if bare_article and not (
        stream.word(index - 1) in _ARTICLE_CONTEXT_BEFORE
        or stream.word(after) in _ARTICLE_CONTEXT_AFTER
    ):
        return None
    return math.floor(amount * per_unit)


_Rule = Callable[[_Stream, int], int | None]
_RULES: Final[tuple[_Rule, ...]] = (
    _rule_phrase,
    _rule_numbered_period,
    _rule_next_period,
    _rule_quantity,
)


# Every rule starts at a number or at one of these words; skipping all other tokens keeps
# long junk texts cheap.
_START_WORDS: Final = frozenset(
    {words[0] for words, _ in _PHRASES}
    | _NUMBERED_PERIODS.keys()
    | _NEXT_WORDS
    | _ARTICLES
    | _QUANTIFIERS.keys()
    | _SMALL_NUMBERS.keys()
    | _TENS.keys()
)


def _clamp(days: int) -> int:
    return max(0, min(days, MAX_DELAY_DAYS))


def parse_timing(text: str) -> int | None:
    """Days after the plan starts that ``text`` describes, or ``None`` if it has no timing.

    Matching is case-insensitive and on whole words. Understood shapes:

    * "immediately", "right away", "ASAP", "now", "today", "same day" -> 0;
      "tomorrow" -> 1, "day after tomorrow" -> 2;
    * "Day N" -> N ("Day5", "Day five", "Day +3", "D+3"); "Week N" -> 7 * (N - 1) and
      "Month N" -> 30 * (N - 1), because week 1 is the week the plan starts;
    * "next"/"following" + unit -> one unit ("next week" -> 7);
    * amount + unit: "3 days", "5d", "after 2 weeks", "2mo", "24 hours later", "5-day",
      "a week later", "a couple of days" (2), "a few/several days" (3). Units are days,
      weeks (7), fortnights (14), months (30), years (365), hours and minutes. A bare
      "a"/"an" needs a relative word around it ("in a week", "a day later").

    A negative amount ("-5 days", "in -2 weeks") makes the whole text unreadable (None).
    Ranges ("Days 3-5", "2-3 days", "2 to 3 days") give their first, earliest day.
    Fractional results ("1.5 days", "36 hours") are rounded down to whole days, and every
    result is clamped to 0..365. When the text holds several timings, the one that starts
    first in the text wins ("now, then 3 days later" -> 0): models put the step's own
    timing first and later mentions tend to be conditions or alternatives.

    Never raises for any ``str``.
    """
    stream = _Stream(_tokenize(text))
    for index, token in enumerate(stream.tokens):
        if token.kind != "number" and token.text not in _START_WORDS:
            continue
        # A timing in the past ("-5 days") is a mistake, not "5 days": the whole text is
        # then unreadable, so the step falls back like any other text without timing.
        if token.kind == "number" and _is_negative(stream, index):
            if _rule_quantity(stream, index) is not None:
                return None
            continue
        for rule in _RULES:
            days = rule(stream, index)
            if days is not None:
                return _clamp(days)
    return None


DelaySource = Literal["delay_days", "timing", "fallback"]


@dataclass(frozen=True, slots=True)
class ResolvedDelay:
    """A step's delay in days after the plan starts, and where it came from."""

    days: int
    source: DelaySource


def _whole_days(value: object) -> int | None:
    # bool is an int subclass, but True as a delay is a model mistake, not "1 day".
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        days = value
    elif isinstance(value, float) and value.is_integer():
        days = int(value)
    else:
        return None
    return days if 0 <= days <= MAX_DELAY_DAYS else None


def resolve_delay(delay_days: object, timing: object, previous_delay: int) -> ResolvedDelay:
    """Pick a step's delay: explicit ``delay_days``, else parsed ``timing``, else a guess.

    ``delay_days`` counts only as a whole number in 0..365 (an int, or a float such as 3.0;
    never a bool or a string). Otherwise a ``timing`` string that :func:`parse_timing`
    understands is used. Otherwise the step is placed ``FALLBACK_GAP_DAYS`` after
    ``previous_delay`` (the previous step's resolved delay, 0 for the first step), clamped to
    0..365, with source ``"fallback"`` so the caller can warn about the unreadable text.
    """
    explicit = _whole_days(delay_days)
    if explicit is not None:
        return ResolvedDelay(explicit, "delay_days")
    if isinstance(timing, str):
        parsed = parse_timing(timing)
        if parsed is not None:
            return ResolvedDelay(parsed, "timing")
    return ResolvedDelay(_clamp(previous_delay + FALLBACK_GAP_DAYS), "fallback")
