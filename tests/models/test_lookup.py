"""Prompt lookup: guesses come from where the context's last tokens appeared before."""

from __future__ import annotations

from agent.models.llama.lookup import PromptLookup


def test_the_tokens_after_an_earlier_occurrence_of_the_last_two_are_proposed() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 6, 9, 1, 2])
    assert lookup.draft(3) == [3, 4, 5]


def test_nothing_is_proposed_when_the_last_tokens_never_appeared_before() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 6, 7])
    assert lookup.draft(4) == []


def test_a_single_matching_token_is_not_enough() -> None:
    lookup = PromptLookup([1, 2, 3, 9, 3])
    assert lookup.draft(4) == []


def test_the_longest_match_wins_over_a_more_recent_shorter_one() -> None:
    # [7, 1, 2] appears at the start followed by 10; [1, 2] alone appears later followed by 20
    lookup = PromptLookup([7, 1, 2, 10, 11, 1, 2, 20, 21, 7, 1, 2])
    assert lookup.draft(2) == [10, 11]


def test_the_most_recent_occurrence_wins_among_equally_long_matches() -> None:
    lookup = PromptLookup([1, 2, 10, 5, 1, 2, 20, 5, 1, 2])
    assert lookup.draft(1) == [20]


def test_guesses_that_come_true_keep_copying_from_the_same_place() -> None:
    # a list quoted line by line: "- assigned to" is followed by a different name each time
    alice, bob, assigned = [50, 51], [60, 61], [8, 9]
    prompt = [1, *assigned, *alice, 2, *assigned, *bob, 3, 0, 0]
    lookup = PromptLookup(prompt)
    for token in [1, *assigned]:
        lookup.push(token)
    assert lookup.draft(2) == alice
    for token in [*alice, 2, *assigned]:  # the answer goes on copying the next line
        lookup.push(token)
    assert lookup.draft(3) == [*bob, 3]


def test_a_guess_proven_wrong_falls_back_to_matching() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 0, 6, 7, 8])
    for token in [1, 2]:
        lookup.push(token)
    assert lookup.draft(2) == [3, 4]
    for token in [3, 6, 7]:  # the model went elsewhere after 3
        lookup.push(token)
    assert lookup.draft(1) == [8]


def test_no_more_than_asked_and_nothing_for_zero() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 6, 1, 2])
    assert lookup.draft(0) == []
    assert lookup.draft(2) == [3, 4]
