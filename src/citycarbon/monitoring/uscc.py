"""Unified social credit code (统一社会信用代码) check digit, GB 32100-2015.

The code has 18 characters from a 31-character alphabet (digits and capital letters without I, O, Z, S, V):
position 1 registration authority, 2 organisation category, 3–8 the registering authority's GB/T 2260
administrative-division code, 9–17 the organisation identifier, 18 the check character. The check
character is C18 = 31 − (Σ_{i=1}^{17} C_i × W_i mod 31), with 31 written as "0" (GB 32100-2015 §4.4 and
Annex; the weights are W_i = 3^{i−1} mod 31). The alphabet and weights are the algorithm of the standard,
not parameters, so they live here beside the code that implements it.
"""

from __future__ import annotations

__all__ = ["USCC_ALPHABET", "USCC_WEIGHTS", "is_valid_uscc", "uscc_check_character", "uscc_problem"]

#: GB 32100-2015 code alphabet; the character's position is its numeric value (0–30)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 32100-2015 weights of positions 1–17 (3^(i-1) mod 31)
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code.

    Raises ValueError when ``first17`` is not 17 characters of the code alphabet.
    """
    text = str(first17).strip().upper()
    if len(text) != 17:
        raise ValueError(f"need 17 characters, got {len(text)}")
    bad = [c for c in text if c not in _VALUE]
    if bad:
        raise ValueError(f"character {bad[0]!r} is not in the GB 32100 alphabet")
    total = sum(_VALUE[c] * w for c, w in zip(text, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: object) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if code is None:
        return "empty code"
    text = str(code).strip()
    if len(text) != 18:
        return f"must have 18 characters, has {len(text)}"
    if text != text.upper():
        return "letters must be capitals"
    for position, char in enumerate(text, start=1):
        if char not in _VALUE:
            return f"character {char!r} at position {position} is not allowed (I, O, Z, S, V are never used)"
    if not text[2:8].isdigit():
        return "positions 3-8 must be the GB/T 2260 administrative-division code (digits)"
    expected = uscc_check_character(text[:17])
    if text[17] != expected:
        return f"check character is {text[17]!r}, expected {expected!r} (GB 32100-2015)"
    return None


def is_valid_uscc(code: object) -> bool:
    """True when ``code`` passes :func:`uscc_problem`."""
    return uscc_problem(code) is None
