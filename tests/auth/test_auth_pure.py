"""Pure auth pieces: password hashing and policy, one-time passwords, TOTP, tokens, the rate limiter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.auth import passwords, ratelimit, tokens, totp
from citycarbon.auth.errors import AuthError

T0 = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


# ---- passwords --------------------------------------------------------------------------------------------

def test_hash_verifies_only_the_right_password():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse batterY")
    assert not passwords.verify_password(stored, "")
    assert not passwords.verify_password("not-a-hash", "correct horse battery")
    assert not passwords.verify_password(None, "x")


def test_hash_made_with_other_parameters_needs_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")
    assert passwords.verify_password(weak, "correct horse battery")  # still verifies …
    assert passwords.needs_rehash(weak)  # … but is upgraded at the next login
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery"))
    assert passwords.needs_rehash("garbage")


@pytest.mark.parametrize(("password", "username", "fragment"), [
    ("short", None, "at least 12 characters (it has 5)"),
    ("alice-the-analyst", "Alice", "must not contain the username"),
    ("dalian-office", "dalian-office", "must not be the username"),
    ("aaaaaaaaaaaaaaa", None, "must not repeat a single character"),
    ("Password1234", None, "too common"),
    ("QWERTYUIOPASDF", None, "too common"),
    ("x" * 300, None, "at most 256 characters"),
])
def test_policy_refuses_with_a_clear_message(password, username, fragment):
    with pytest.raises(passwords.PasswordPolicyError) as info:
        passwords.check_password_policy(password, username)
    assert any(fragment in reason for reason in info.value.reasons)
    assert fragment in str(info.value)


def test_policy_lists_every_broken_rule():
    problems = passwords.policy_violations("admin", "admin")
    # too short, the username, too common: each a code the faces translate (zh_CN and en, web/i18n/*/users.po)
    assert [p.code for p in problems] == ["password_too_short", "password_is_username", "password_common"]
    assert problems[0].params == {"min": "12", "length": "5"} and all(p.field == "password" for p in problems)


def test_policy_accepts_a_long_unusual_passphrase():
    assert passwords.policy_problems("蓝色海湾 tide-pool 2031", "alice") == []


def test_common_password_list_is_shipped_and_lower_case():
    common = passwords.common_passwords()
    assert len(common) > 100
    assert "password1234" in common
    assert all(p == p.lower() for p in common)


def test_one_time_password_format_and_policy():
    otp = passwords.generate_one_time_password()
    assert re.fullmatch(r"[23456789abcdefghjkmnpqrstuvwxyz]{5}(-[23456789abcdefghjkmnpqrstuvwxyz]{5}){3}", otp)
    assert passwords.policy_problems(otp, "admin") == []


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=50, max_value=300))
def test_one_time_passwords_never_repeat_and_all_pass_policy(batch):
    batch_otps = [passwords.generate_one_time_password() for _ in range(batch)]
    assert len(set(batch_otps)) == batch
    assert all(passwords.policy_problems(p) == [] for p in batch_otps)


# ---- TOTP -------------------------------------------------------------------------------------------------

def test_totp_code_matches_pyotp_and_rfc6238_vector():
    # RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 digits are the 6-digit code
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp.code_at(secret, datetime.fromtimestamp(59, UTC)) == "287082"
    secret = totp.new_secret()
    assert len(secret) == 32
    assert totp.code_at(secret, T0) == pyotp.TOTP(secret).at(T0)


def test_totp_accepts_one_step_either_side_and_no_more():
    secret = totp.new_secret()
    for offset, accepted in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = totp.code_at(secret, T0 + timedelta(seconds=offset))
        assert (totp.verify_code(secret, code, T0) is not None) is accepted, offset


def test_totp_refuses_replay_of_the_same_or_an_older_step():
    secret = totp.new_secret()
    code = totp.code_at(secret, T0)
    step = totp.verify_code(secret, code, T0)
    assert step == totp.step_at(T0)
    assert totp.verify_code(secret, code, T0 + timedelta(seconds=5), last_step=step) is None
    older = totp.code_at(secret, T0 - timedelta(seconds=30))
    assert totp.verify_code(secret, older, T0, last_step=step) is None
    newer = totp.code_at(secret, T0 + timedelta(seconds=30))
    assert totp.verify_code(secret, newer, T0 + timedelta(seconds=30), last_step=step) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_totp_refuses_malformed_codes(code):
    assert totp.verify_code(totp.new_secret(), code, T0) is None


def test_totp_provisioning_uri_names_issuer_and_user():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice")
    assert uri.startswith("otpauth://totp/citycarbon:alice?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "issuer=citycarbon" in uri


# ---- tokens -----------------------------------------------------------------------------------------------

def test_api_token_format_hash_and_verification():
    new = tokens.generate_api_token()
    assert re.fullmatch(r"cc_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", new.plaintext)
    assert new.plaintext.split("_")[1] == new.prefix
    assert new.digest == tokens.digest(new.plaintext) and len(new.digest) == 64
    assert new.plaintext not in new.digest
    assert tokens.parse_api_token(new.plaintext) == new.prefix
    assert tokens.token_matches(new.plaintext, new.digest)
    assert not tokens.token_matches(new.plaintext[:-1] + ("A" if new.plaintext[-1] != "A" else "B"), new.digest)


@pytest.mark.parametrize("bad", ["", "cc_", "cc_zzzzzzzz_" + "a" * 43, "xx_0123abcd_" + "a" * 43,
                                 "cc_0123abcd_" + "a" * 42, "cc_0123abcd_" + "a" * 43 + "!", 42])
def test_malformed_tokens_are_never_looked_up(bad):
    assert tokens.parse_api_token(bad) is None


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=100, max_value=500))
def test_tokens_and_session_ids_never_repeat(batch):
    made = [tokens.generate_api_token() for _ in range(batch)]
    assert len({t.plaintext for t in made}) == batch
    assert len({t.prefix for t in made}) >= batch - 1  # 32-bit prefixes: a collision is ~1e-5 here
    assert len({tokens.generate_session_id() for _ in range(batch)}) == batch


def test_csrf_comparison():
    token = tokens.generate_csrf_token()
    assert tokens.csrf_matches(token, token)
    assert not tokens.csrf_matches(token, token[:-1])
    assert not tokens.csrf_matches(token, None)
    assert not tokens.csrf_matches(None, token)


# ---- rate limiter -----------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_capacity_then_refills_at_rate():
    clock = FakeClock()
    limiter = ratelimit.RateLimiter(capacity=10, per_seconds=60, clock=clock)
    assert all(limiter.allow("1.2.3.4|alice") for _ in range(10))
    assert not limiter.allow("1.2.3.4|alice")
    assert limiter.allow("1.2.3.4|bob")  # another key has its own bucket
    assert limiter.retry_after("1.2.3.4|alice") == pytest.approx(6.0)
    clock.now += 5.9
    assert not limiter.allow("1.2.3.4|alice")
    clock.now += 0.2
    assert limiter.allow("1.2.3.4|alice")
    clock.now += 3600
    assert all(limiter.allow("1.2.3.4|alice") for _ in range(10))  # refilled to capacity, not beyond
    assert not limiter.allow("1.2.3.4|alice")


def test_rate_limiter_memory_is_bounded():
    clock = FakeClock()
    limiter = ratelimit.RateLimiter(capacity=2, per_seconds=60, max_keys=100, clock=clock)
    for i in range(1000):
        limiter.allow(f"k{i}")
        clock.now += 0.01
    assert len(limiter._buckets) <= 100


def test_rate_limiter_rejects_nonsense_configuration():
    with pytest.raises(ValueError):
        ratelimit.RateLimiter(capacity=0)


def test_lockout_duration_doubles_up_to_the_cap():
    base, cap = timedelta(minutes=15), timedelta(hours=24)
    assert [ratelimit.lockout_duration(n, base, cap).total_seconds() / 60 for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert ratelimit.lockout_duration(20, base, cap) == cap


def test_unknown_user_lockout_mirrors_account_lockout():
    lockout = ratelimit.UnknownUserLockout(5, timedelta(minutes=15), timedelta(hours=24))
    assert [lockout.fail("ghost", T0) for _ in range(5)] == [False] * 4 + [True]
    assert lockout.locked("ghost", T0 + timedelta(minutes=14))
    assert not lockout.locked("ghost", T0 + timedelta(minutes=16))
    assert not lockout.locked("other", T0)


def test_auth_error_codes_are_checked():
    assert AuthError("locked", "m").code == "locked"
    with pytest.raises(ValueError):
        AuthError("nope", "m")
