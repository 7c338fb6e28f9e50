"""The leaderboard's maths: pairs from choices, counts, ranks, and intervals that cover
the true strengths of scripted models (the issue's must-show)."""

import math

import numpy as np

from conversations.compare.leaderboard import Choice, pairs, points, standings

# True Bradley-Terry strengths of five close models (log-odds: 0.3 apart wins 57%).
TRUE = {"m/a": 0.6, "m/b": 0.3, "m/c": 0.0, "m/d": -0.2, "m/e": -0.5}


def scripted(seed: int, n: int = 300) -> list[Choice]:
    """n choices among two to four of the models, drawn at random with this seed; the
    winner drawn by the models' strengths (the Plackett-Luce first choice, which for two
    is Bradley-Terry itself)."""
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    found = []
    for _ in range(n):
        k = int(rng.integers(2, 5))
        group = tuple(str(m) for m in rng.choice(names, size=k, replace=False))
        weights = np.exp([TRUE[m] for m in group])
        found.append(Choice(group, int(rng.choice(k, p=weights / weights.sum()))))
    return found


def test_a_winner_beats_each_other_reply_and_a_tie_is_half_a_win_each_way():
    assert pairs(Choice(("a", "b", "c"), winner=1)) == [("b", "a", 1.0), ("b", "c", 1.0)]
    assert sorted(pairs(Choice(("a", "b"), winner=None))) == [("a", "b", 0.5), ("b", "a", 0.5)]
    # Two replies of one model say nothing about it.
    assert pairs(Choice(("a", "a"), winner=0)) == []
    assert pairs(Choice(("a", "a", "b"), winner=None)) == [
        ("a", "b", 0.5),
        ("b", "a", 0.5),
        ("a", "b", 0.5),
        ("b", "a", 0.5),
    ]


def test_counts_are_per_choice_and_the_scale_is_elo_like():
    choices = [
        Choice(("a", "b", "c"), winner=0),
        Choice(("a", "b"), winner=1),
        Choice(("b", "c"), winner=None),
    ]
    table = {s.contestant: s for s in standings(choices, rounds=20)}
    assert (table["a"].compares, table["a"].wins, table["a"].ties, table["a"].losses) == (
        2,
        1,
        0,
        1,
    )
    assert (table["b"].compares, table["b"].wins, table["b"].ties, table["b"].losses) == (
        3,
        1,
        1,
        1,
    )
    assert (table["c"].compares, table["c"].wins, table["c"].ties, table["c"].losses) == (
        2,
        0,
        1,
        1,
    )
    # Centred strengths: the ratings average 1000.
    assert math.isclose(sum(s.rating for s in table.values()) / 3, 1000, abs_tol=1e-6)
    assert points(math.log(10)) == 1400
    assert table["a"].provisional  # Two compares are too few for a trustworthy interval.


def test_an_unbeaten_or_unmatched_model_stays_finite():
    choices = [Choice(("a", "b"), winner=0)] * 5 + [Choice(("c", "d"), winner=None)]
    table = standings(choices, rounds=50)
    assert table[0].contestant == "a"
    for s in table:
        assert all(math.isfinite(v) for v in (s.rating, s.low, s.high))
        assert s.low <= s.rating <= s.high


def test_close_models_share_a_rank_and_a_clear_winner_ranks_alone():
    choices = [Choice(("a", "b"), winner=0)] * 60 + [
        Choice(("b", "c"), winner=i % 2) for i in range(60)
    ]
    table = standings(choices, rounds=100)
    ranks = {s.contestant: s.rank for s in table}
    assert ranks["a"] == 1
    assert ranks["b"] == ranks["c"] == 2


def test_the_same_choices_always_give_the_same_table():
    choices = scripted(seed=7, n=100)
    assert standings(choices, rounds=50) == standings(choices, rounds=50)


def test_fewer_than_two_models_rank_nothing():
    assert standings([], rounds=10) == []
    assert standings([Choice(("a", "a"), winner=0)], rounds=10) == []


def test_intervals_cover_the_true_strengths_in_nine_runs_of_ten():
    """50 seeded runs of 300 choices each: each model's true strength, centred as the fit
    centres its own (strengths are known only up to a constant, so both have mean 0), lies
    in its 95% interval in at least 90% of the 250 (run, model) cases."""
    mean = sum(TRUE.values()) / len(TRUE)
    covered = cases = 0
    for seed in range(50):
        for s in standings(scripted(seed), rounds=200):
            covered += s.low <= points(TRUE[s.contestant] - mean) <= s.high
            cases += 1
    assert cases == 250
    assert covered >= 0.9 * cases, f"{covered} of {cases} covered"
