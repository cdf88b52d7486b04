"""GB 32100-2015 unified social credit code: check character, property tests, bad codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.monitoring.uscc import USCC_ALPHABET, is_valid_uscc, uscc_check_character, uscc_problem

BODY = st.tuples(st.text(USCC_ALPHABET, min_size=2, max_size=2), st.text("0123456789", min_size=6, max_size=6),
                 st.text(USCC_ALPHABET, min_size=9, max_size=9)).map("".join)


def test_published_codes_pass():
    # GB 32100-2015 worked example and a code printed on a public business licence
    assert is_valid_uscc("91350100M000100Y43")
    assert is_valid_uscc("91110000600037341L")


def test_check_character_by_hand():
    body = "91350100M000100Y4"
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    assert total % 31 == 28  # hand sum: 31 - 28 = 3, the published check character
    assert uscc_check_character(body) == "3"


@settings(max_examples=150, deadline=None)
@given(BODY)
def test_generated_codes_pass(body):
    assert uscc_problem(body + uscc_check_character(body)) is None


@settings(max_examples=150, deadline=None)
@given(BODY, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_character_change_fails(body, position, replacement):
    code = body + uscc_check_character(body)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code:
        assert not is_valid_uscc(changed)


@pytest.mark.parametrize(("code", "words"), [
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100Y44", "check character"),
    ("91350100I000100Y43", "not allowed"),
    ("913501O0M000100Y43", "not allowed"),
    ("91350100m000100y43", "capitals"),
    ("91ABCDEFM000100Y43", "positions 3-8"),
])
def test_bad_codes_say_why(code, words):
    assert words in (uscc_problem(code) or "")


def test_check_character_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc_check_character("123")
    with pytest.raises(ValueError):
        uscc_check_character("9135010OM000100Y4")
