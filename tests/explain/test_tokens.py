"""Explanation links: signed, short-lived, opaque."""

from __future__ import annotations

import pytest

from cds_service.explain.tokens import MAX_LIFETIME_SECONDS, ExpiredToken, InvalidToken, TokenSigner


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_signed_token_verifies_to_its_key_until_it_expires():
    clock = Clock()
    signer = TokenSigner("s3cret", 600, clock)
    key = signer.new_key()
    token, expires = signer.sign(key)
    assert expires == int(clock.now) + 600
    assert signer.verify(token).key == key
    clock.now += 599
    assert signer.verify(token).key == key
    clock.now += 1
    with pytest.raises(ExpiredToken):
        signer.verify(token)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.split(".")[0] + "." + str(int(t.split(".")[1]) + 3600) + "." + t.split(".")[2],  # expiry pushed
        lambda t: "x" + t,  # key changed
        lambda t: t.rsplit(".", 1)[0],  # signature removed
        lambda t: "",
        lambda t: "../../etc/passwd",
    ],
)
def test_a_tampered_token_is_invalid(mangle):
    signer = TokenSigner("s3cret", 600)
    token, _ = signer.sign(signer.new_key())
    with pytest.raises(InvalidToken):
        signer.verify(mangle(token))


def test_a_token_from_another_key_is_invalid():
    token, _ = TokenSigner("one", 600).sign("k" * 24)
    with pytest.raises(InvalidToken):
        TokenSigner("two", 600).verify(token)


def test_without_a_secret_each_process_signs_with_its_own_random_key():
    a, b = TokenSigner("", 600), TokenSigner(None, 600)
    assert a.random_key and b.random_key
    token, _ = a.sign(a.new_key())
    assert a.verify(token)
    with pytest.raises(InvalidToken):
        b.verify(token)


def test_links_live_minutes_not_days_whatever_the_setting():
    assert TokenSigner("s", 7 * 24 * 3600).lifetime == MAX_LIFETIME_SECONDS <= 3600
    assert TokenSigner("s", 0).lifetime == 1


def test_the_token_is_url_safe_and_carries_only_key_expiry_and_signature():
    signer = TokenSigner("s3cret", 600)
    key = signer.new_key()
    token, expires = signer.sign(key)
    parts = token.split(".")
    assert parts[0] == key and parts[1] == str(expires) and len(parts) == 3
    assert all(c.isalnum() or c in "-_." for c in token)
    assert signer.new_key() != key  # random, not derived from anything
