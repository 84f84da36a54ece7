from __future__ import annotations

import dataclasses
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.timing import (
    FALLBACK_GAP_DAYS,
    MAX_DELAY_DAYS,
    NUMBER_WORDS,
    ResolvedDelay,
    parse_timing,
    resolve_delay,
)

POSITIVE: list[tuple[str, int]] = [
    # start right away
    ("Immediately", 0),
    ("immediately after the intro call", 0),
    ("right away", 0),
    ("Right-away", 0),
    ("straight away", 0),
    ("ASAP", 0),
    ("asap!", 0),
    ("now", 0),
    ("Now", 0),
    ("Send it now.", 0),
    ("today", 0),
    ("Today's afternoon", 0),
    ("tonight", 0),
    ("same day", 0),
    ("Same-day follow-up", 0),
    ("Day 0", 0),
    ("Day0", 0),
    ("Day zero", 0),
    ("tomorrow", 1),
    ("Tomorrow morning", 1),
    ("first thing tomorrow", 1),
    ("next day", 1),
    ("the following day", 1),
    ("next business day", 1),
    ("Next-day reminder", 1),
    ("the day after tomorrow", 2),
    # numbered days
    ("Day 1", 1),
    ("Day 5", 5),
    ("day 5", 5),
    ("DAY 5", 5),
    ("Day5", 5),
    ("Day five", 5),
    ("Day Twelve", 12),
    ("Day twenty-one", 21),
    ("Day 3-5", 3),
    ("Days 3-5", 3),
    ("Days 3\u20135", 3),
    ("Days 3 \u2013 5", 3),
    ("Day 3\u20145", 3),
    ("Day 3 to 5", 3),
    ("Day 3 or 4", 3),
    ("Day +3", 3),
    ("D+3", 3),
    ("Day 1 (Monday)", 1),
    ("Day 3: follow-up email", 3),
    ("Day 14", 14),
    ("Day 007", 7),
    ("Day 2.5", 2),
    ("Day 900", 365),
    ("Day 1,000", 365),
    # amounts of days
    ("5 days", 5),
    ("1 day", 1),
    ("0 days", 0),
    ("after 5 days", 5),
    ("5 days later", 5),
    ("in 5 days", 5),
    ("+5 days", 5),
    ("~5 days", 5),
    ("5d", 5),
    ("5D", 5),
    ("5days", 5),
    ("(5 days)", 5),
    ("a 5-day pause", 5),
    ("2-3 days later", 2),
    ("2\u20133 days", 2),
    ("2 to 3 days", 2),
    ("2 or 3 days", 2),
    ("two to three days", 2),
    ("3 business days", 3),
    ("2 more days", 2),
    ("one day later", 1),
    ("two days", 2),
    ("Three days after the demo", 3),
    ("twelve days", 12),
    ("eleven-day gap", 11),
    ("twenty-one days", 21),
    ("twenty one days", 21),
    ("thirty days", 30),
    ("a day later", 1),
    ("A day after the intro", 1),
    ("in a day or two", 1),
    ("a couple of days", 2),
    ("a couple days later", 2),
    ("couple of days", 2),
    ("a few days", 3),
    ("In a few more days", 3),
    ("few days", 3),
    ("several days", 3),
    ("1.5 days", 1),
    ("Follow up after 5 days if no reply", 5),
    ("Wait 3 days, then call", 3),
    # weeks
    ("1 week", 7),
    ("2 weeks", 14),
    ("after 2 weeks", 14),
    ("1w", 7),
    ("2W", 14),
    ("3wks", 21),
    ("2 wk", 14),
    ("in a week", 7),
    ("a week later", 7),
    ("about a week", 7),
    ("a week from now", 7),
    ("next week", 7),
    ("Same time next week", 7),
    ("the following week", 7),
    ("two weeks", 14),
    ("a couple of weeks", 14),
    ("a few weeks", 21),
    ("1-2 weeks", 7),
    ("1.5 weeks", 10),
    ("in a fortnight", 14),
    ("Week 1", 0),
    ("Week 2", 7),
    ("week 3", 14),
    ("Week2", 7),
    ("Weeks 2-3", 7),
    ("Week 0", 0),
    ("after 50 weeks", 350),
    ("after 53 weeks", 365),
    # months and years
    ("next month", 30),
    ("in a month", 30),
    ("after 2 months", 60),
    ("2mo", 60),
    ("2 mos", 60),
    ("3 months", 90),
    ("Month 2", 30),
    ("after 20 months", 365),
    ("in a year", 365),
    ("next year", 365),
    # hours and minutes
    ("24 hours later", 1),
    ("in 2 hours", 0),
    ("an hour later", 0),
    ("72h", 3),
    ("48 hrs", 2),
    ("48hrs", 2),
    ("47 hours", 1),
    ("36-hour window", 1),
    ("in 30 minutes", 0),
    ("2880 min", 2),
    # the first timing in the text wins
    ("now, then 3 days later", 0),
    ("3 days later, or Day 10", 3),
    ("Day 2, then again 5 days later", 2),
    ("Following Day 3 call", 3),
    ("Step 2 - day 5", 5),
    # a dash that is not a minus sign: a spaced list bullet, a range, a compound word
    ("- 5 days later", 5),
    ("2-5 days", 2),
    ("follow-up 3 days later", 3),
    ("-5 emails, then 3 days later", 3),
    ("Before their Q4 planning, in 2 weeks", 14),
    ("B2B intro, 3 days later", 3),
]

NEGATIVE: list[str] = [
    "",
    "   ",
    "When ready",
    "Before their Q4 planning",
    "TBD",
    "N/A",
    "know",
    "snow",
    "known",
    "nowhere",
    "nowadays",
    "daytime",
    "dayton",
    "Q4",
    "Q4 2025",
    "todays",
    "tomorrowland",
    "asapx",
    "Sunday",
    "Monday morning",
    "weekday",
    "weekly",
    "daily",
    "monthly",
    "someday",
    "Day",
    "days",
    "Day X",
    "Day -1",
    # a negative amount is a timing in the past: unreadable, never its absolute value
    "-5 days",
    "-5d",
    "in -2 weeks",
    "in \u22123 days",
    "\u20131 day later",
    "-5 days, then 3 days later",
    "days later",
    "a day",
    "Make it a day to remember",
    "week",
    "next",
    "next Monday",
    "5",
    "in 5",
    "3 emails",
    "Step 2",
    "9am",
    "call at 10:30",
    "2024-05-01",
    "version 2.0",
    "24/7",
    "1,5 days",
    ".5 days",
    "x3 days",
    "5 d",
    "5m",
    "5th day",
    "one hundred days",
    "Day\u00a7 3",
    "a.s.a.p.",
    "-",
    "+",
    "\x00\x01\x02",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_parse_timing_examples(text: str, expected: int) -> None:
    assert parse_timing(text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_parse_timing_rejects_text_without_timing(text: str) -> None:
    assert parse_timing(text) is None


def test_number_words_cover_one_to_twelve() -> None:
    assert dict(NUMBER_WORDS) == {
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
    with pytest.raises(TypeError):
        NUMBER_WORDS["thirteen"] = 13  # type: ignore[index]


@pytest.mark.parametrize(("word", "value"), sorted(NUMBER_WORDS.items()))
def test_every_number_word_reads_as_day_and_amount(word: str, value: int) -> None:
    assert parse_timing(f"Day {word}") == value
    assert parse_timing(f"{word.upper()} days later") == value
    assert parse_timing(f"after {word} weeks") == 7 * value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Day " + "9" * 5000, MAX_DELAY_DAYS),
        ("9" * 10_000 + " hours", MAX_DELAY_DAYS),
        ("1" * 10_000 + " minutes", MAX_DELAY_DAYS),
        ("Week " + "5" * 4301, MAX_DELAY_DAYS),
        ("0" * 10_000 + "3 days", 3),
        ("Day 3." + "1" * 10_000, 3),
        ("Day 1" + ",000" * 3000, MAX_DELAY_DAYS),
        ("x" * 200_000 + " in 2 weeks", 14),
        ("\x00\u202e" * 50_000 + "tomorrow", 1),
        ("a " * 100_000, None),
        ("-" * 100_000 + "5" + "-" * 100_000, None),
    ],
)
def test_parse_timing_survives_huge_inputs(text: str, expected: int | None) -> None:
    assert parse_timing(text) == expected


# --- properties -----------------------------------------------------------------------

VOCABULARY = [
    *("day", "days", "Day", "DAYS", "d", "D", "week", "weeks", "wk", "w", "fortnight"),
    *("month", "months", "mo", "m", "year", "hour", "hrs", "h", "min", "minutes"),
    *("a", "an", "few", "couple", "of", "several", "next", "following", "same", "right"),
    *("away", "now", "today", "tomorrow", "after", "in", "later", "to", "or", "business"),
    *("-", "\u2013", "\u2014", "\u2212", "+", ".", ",", "/", "(", ")", ":", "~", "_"),
    *("0", "1", "3", "12", "365", "366", "1.5", "1,000", "0007", "9" * 40),
    *("zero", "one", "five", "twelve", "twenty", "ninety", "know", "snow", "Q", "xyz"),
]
SEPARATORS = ["", " ", "  ", "-", "\n", "\t"]

grammar_text = st.lists(
    st.tuples(
        st.sampled_from(VOCABULARY) | st.text(max_size=3) | st.integers(0, 10**9).map(str),
        st.sampled_from(SEPARATORS),
    ),
    max_size=12,
).map(lambda parts: "".join(piece + separator for piece, separator in parts))


def assert_valid_result(result: int | None) -> None:
    assert result is None or (isinstance(result, int) and 0 <= result <= MAX_DELAY_DAYS)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parse_timing_never_raises_on_any_text(text: str) -> None:
    assert_valid_result(parse_timing(text))


@settings(max_examples=500, deadline=None)
@given(grammar_text)
def test_parse_timing_never_raises_on_grammar_like_text(text: str) -> None:
    assert_valid_result(parse_timing(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable) | grammar_text.filter(str.isascii))
def test_parse_timing_ignores_case(text: str) -> None:
    # Only ASCII keeps token boundaries under case changes ("ß".upper() is "SS").
    assert parse_timing(text.upper()) == parse_timing(text.lower()) == parse_timing(text)


STANDALONE_KEYWORDS = ["immediately", "asap", "now", "today", "tonight", "tomorrow"]
letters = st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(
    keyword=st.sampled_from(STANDALONE_KEYWORDS),
    prefix=st.just("") | letters,
    suffix=st.just("") | letters,
)
def test_keywords_only_match_as_whole_words(keyword: str, prefix: str, suffix: str) -> None:
    assume(prefix or suffix)
    assert parse_timing(prefix + keyword + suffix) is None


# Glueing letters onto a unit can spell another known word: "day" + "s", "to" + "day".
KNOWN_WORDS = {"days", "weeks", "hours", "months", "today"}


@settings(max_examples=300, deadline=None)
@given(
    unit=st.sampled_from(["day", "week", "hour", "month"]),
    prefix=st.just("") | letters,
    suffix=st.just("") | letters,
)
def test_units_only_match_as_whole_words(unit: str, prefix: str, suffix: str) -> None:
    word = prefix + unit + suffix
    assume(word != unit and word.lower() not in KNOWN_WORDS)
    assert parse_timing(f"after 3 {word}") is None
    assert parse_timing(f"{word} 3") is None


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10**15), zeros=st.integers(0, 3))
def test_numbers_and_units_follow_the_documented_arithmetic(n: int, zeros: int) -> None:
    def clamp(days: int) -> int:
        return max(0, min(days, MAX_DELAY_DAYS))

    number = "0" * zeros + str(n)
    assert parse_timing(f"Day {number}") == clamp(n)
    assert parse_timing(f"Day{number}") == clamp(n)
    assert parse_timing(f"{number}d") == clamp(n)
    assert parse_timing(f"after {number} days") == clamp(n)
    assert parse_timing(f"{number}w") == clamp(7 * n)
    assert parse_timing(f"Week {number}") == clamp(7 * (n - 1))
    assert parse_timing(f"in {number} months") == clamp(30 * n)
    assert parse_timing(f"{number}h") == clamp(n // 24)
    assert parse_timing(f"{number} minutes later") == clamp(n // 1440)


@settings(max_examples=200, deadline=None)
@given(
    first=st.integers(0, 10**9),
    second=st.integers(0, 10**9),
    dash=st.sampled_from(["-", "\u2013", "\u2014", " - ", " \u2013 ", " to ", " or "]),
)
def test_ranges_give_their_first_day(first: int, second: int, dash: str) -> None:
    expected = min(first, MAX_DELAY_DAYS)
    assert parse_timing(f"Days {first}{dash}{second}") == expected
    assert parse_timing(f"{first}{dash}{second} days later") == expected


NEUTRAL_WORDS = ["Follow", "up", "email", "the", "proposal", "if", "no", "reply", "Q4", "snow"]
neutral_text = st.lists(st.sampled_from(NEUTRAL_WORDS), max_size=4).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(example=st.sampled_from(POSITIVE), before=neutral_text, after=neutral_text)
def test_surrounding_words_do_not_change_the_result(
    example: tuple[str, int], before: str, after: str
) -> None:
    text, expected = example
    assert parse_timing(f"{before} {text} {after}") == expected


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(POSITIVE), second=st.sampled_from(POSITIVE))
def test_first_timing_in_the_text_wins(first: tuple[str, int], second: tuple[str, int]) -> None:
    assert parse_timing(f"{first[0]}; then {second[0]}") == first[1]


# --- resolve_delay --------------------------------------------------------------------


def test_constants() -> None:
    assert FALLBACK_GAP_DAYS == 3
    assert MAX_DELAY_DAYS == 365


@pytest.mark.parametrize(
    ("delay_days", "timing", "previous", "expected"),
    [
        # explicit whole numbers win, even over readable timing
        (3, "Day 10", 0, ResolvedDelay(3, "delay_days")),
        (0, None, 7, ResolvedDelay(0, "delay_days")),
        (365, None, 0, ResolvedDelay(365, "delay_days")),
        (3.0, "Day 10", 0, ResolvedDelay(3, "delay_days")),
        (-0.0, None, 5, ResolvedDelay(0, "delay_days")),
        (365.0, None, 0, ResolvedDelay(365, "delay_days")),
        # anything else falls through to the timing text
        (3.5, "Day 2", 0, ResolvedDelay(2, "timing")),
        (True, "Day 4", 0, ResolvedDelay(4, "timing")),
        (False, "Day 4", 0, ResolvedDelay(4, "timing")),
        ("3", "Day 4", 0, ResolvedDelay(4, "timing")),
        (-1, "tomorrow", 0, ResolvedDelay(1, "timing")),
        (366, "in a week", 0, ResolvedDelay(7, "timing")),
        (None, "in a week", 5, ResolvedDelay(7, "timing")),
        (float("nan"), "ASAP", 9, ResolvedDelay(0, "timing")),
        (float("inf"), "Day 900", 0, ResolvedDelay(365, "timing")),
        (1e300, "next month", 0, ResolvedDelay(30, "timing")),
        ([3], "Day 6", 0, ResolvedDelay(6, "timing")),
        # and then to previous + 3
        (None, None, 0, ResolvedDelay(3, "fallback")),
        (None, "-5 days", 4, ResolvedDelay(7, "fallback")),
        (True, None, 0, ResolvedDelay(3, "fallback")),
        ("3", None, 0, ResolvedDelay(3, "fallback")),
        (3.5, "When ready", 4, ResolvedDelay(7, "fallback")),
        (-1, "TBD", 10, ResolvedDelay(13, "fallback")),
        (366, "", 10, ResolvedDelay(13, "fallback")),
        (None, 5, 1, ResolvedDelay(4, "fallback")),
        (None, b"Day 5", 1, ResolvedDelay(4, "fallback")),
        (None, None, 362, ResolvedDelay(365, "fallback")),
        (None, None, 364, ResolvedDelay(365, "fallback")),
        (None, None, 365, ResolvedDelay(365, "fallback")),
        (None, None, 10_000, ResolvedDelay(365, "fallback")),
        (None, None, -100, ResolvedDelay(0, "fallback")),
    ],
)
def test_resolve_delay(
    delay_days: object, timing: object, previous: int, expected: ResolvedDelay
) -> None:
    assert resolve_delay(delay_days, timing, previous) == expected


def test_resolve_delay_fallback_chains_from_the_previous_step() -> None:
    steps: list[tuple[object, object]] = [
        (None, "Day 2"),
        (None, "when they reply"),
        (None, "TBD"),
        (1.5, "after a week"),
        (20, None),
        (True, None),
    ]
    resolved: list[ResolvedDelay] = []
    previous = 0
    for delay_days, timing in steps:
        delay = resolve_delay(delay_days, timing, previous)
        resolved.append(delay)
        previous = delay.days
    assert resolved == [
        ResolvedDelay(2, "timing"),
        ResolvedDelay(5, "fallback"),
        ResolvedDelay(8, "fallback"),
        ResolvedDelay(7, "timing"),
        ResolvedDelay(20, "delay_days"),
        ResolvedDelay(23, "fallback"),
    ]


def test_resolved_delay_is_frozen() -> None:
    delay = ResolvedDelay(3, "timing")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delay.days = 4  # type: ignore[misc]


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    grammar_text,
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(delay_days=anything, timing=anything, previous=st.integers(0, MAX_DELAY_DAYS))
def test_resolve_delay_always_gives_a_day_in_range(
    delay_days: object, timing: object, previous: int
) -> None:
    delay = resolve_delay(delay_days, timing, previous)
    assert 0 <= delay.days <= MAX_DELAY_DAYS
    if delay.source == "delay_days":
        assert not isinstance(delay_days, bool)
        assert isinstance(delay_days, int | float)
        assert delay_days == delay.days
    elif delay.source == "timing":
        assert isinstance(timing, str)
        assert parse_timing(timing) == delay.days
    else:
        assert delay.days == min(previous + FALLBACK_GAP_DAYS, MAX_DELAY_DAYS)
