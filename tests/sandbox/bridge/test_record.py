"""Secret redaction in the record: by value, for secrets long enough to be told apart from words."""

from __future__ import annotations

from sandbox.bridge.record import REDACTED, Redactor


def test_a_three_character_secret_leaves_words_that_contain_it_alone() -> None:
    redactor = Redactor(["api", "tok-secret-value"])
    assert redactor.text("get_api_contents_path") == "get_api_contents_path"
    assert redactor.text("Bearer tok-secret-value") == f"Bearer {REDACTED}"
    assert redactor.value({"path": "/api/v1", "token": "abc"}) == {"path": "/api/v1", "token": REDACTED}
