"""Constants shared by the trust unit tests."""

import datetime as dt

GUN = "hub.example:5000/team/app"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def passphrases(role: str) -> str:
    return "root-pass" if role == "root" else "repo-pass"
