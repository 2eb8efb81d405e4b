"""The shared redaction rules: known values, secret-looking keys, URL passwords."""

from __future__ import annotations

import homelab_common
from homelab_common import REDACTED, is_secret_key, known_secrets, scrub, scrub_text


def test_the_package_exports_exactly_the_public_names() -> None:
    assert sorted(homelab_common.__all__) == [
        "REDACTED",
        "configure_logging",
        "is_secret_key",
        "known_secrets",
        "scrub",
        "scrub_text",
    ]


def test_every_occurrence_of_a_known_secret_is_blanked_longest_first() -> None:
    secrets = known_secrets(["hunter2-long", "hunter2", "on", "hunter2-long"])
    assert secrets == ("hunter2-long", "hunter2")  # "on" is too short to blank, duplicates go
    assert scrub_text("pw hunter2-long then hunter2.", secrets) == f"pw {REDACTED} then {REDACTED}."


def test_secret_looking_keys_in_text_lose_their_values_but_keep_the_scheme() -> None:
    line = 'login DB_PASSWORD=pa55 api-key: k-123 {"token": "t0k"} Authorization: Bearer abc.def'
    assert scrub_text(line) == (
        'login DB_PASSWORD=*** api-key: *** {"token": "***"} Authorization: Bearer ***'
    )


def test_words_that_merely_contain_a_secret_word_are_left_alone() -> None:
    line = "tokens_in=812 tokenizer: qwen passwords rotated; secretary=Ann"
    assert scrub_text(line) == line


def test_the_credentials_of_a_url_are_blanked_and_the_rest_kept() -> None:
    assert scrub_text("connect postgres://paperless:s3cret@db:5432/x and redis://:pw9@cache") == (
        "connect postgres://***@db:5432/x and redis://***@cache"
    )
    assert scrub_text("http://host:8080/path@v2") == "http://host:8080/path@v2"


def test_structured_values_are_scrubbed_through_dicts_lists_and_tuples() -> None:
    data = {"url": "http://u:p4ss@kb", "headers": {"Authorization": "x"}, "args": ("hunter22",), "n": 3}
    assert scrub(data, known_secrets(["hunter22"])) == {
        "url": "http://***@kb",
        "headers": {"Authorization": REDACTED},
        "args": (REDACTED,),
        "n": 3,
    }


def test_secret_key_names_are_recognised_by_whole_words() -> None:
    for name in ("PAPERLESS_SECRET_KEY", "bearer_token", "api.key", "Authorization"):
        assert is_secret_key(name), name
    assert not is_secret_key("tokens_in") and not is_secret_key("TZ") and not is_secret_key("secretary")
