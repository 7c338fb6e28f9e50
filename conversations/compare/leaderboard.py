"""The leaderboard's maths: users' compare choices ranked with a Bradley-Terry fit.

A contestant is what wrote a reply (CompareReply.label: the model, or persona · model).
Each choice gives pairs: "winner" makes the chosen reply beat every other reply of its
group; "tie" and "all bad" make every pair of the group tie, counted as half a win each
way (choix fits wins only; half a win each way is the Bradley-Terry likelihood of a tie
with no tie parameter of its own, as LMSYS's arena counts them).

The fit is choix's (`ilsr_pairwise_dense`: Luce spectral ranking on a matrix of win
counts, so its cost grows with the contestants, not with the choices), with a small
regularisation so a contestant that never lost, never won or met no one stays finite.
Intervals are percentile bootstrap intervals: the choices are resampled with replacement
(a whole choice at a time, as its pairs are not independent), the model is fitted again,
and the 2.5th and 97.5th percentiles of each strength are the 95% interval. The seed is
fixed, so the same choices always show the same table.

Strengths are known only up to a constant: choix centres them (mean 0), and so do the
intervals. They are shown as Elo-like points, 1000 + 400/ln(10) · strength: 400 points
apart, the stronger wins ten times out of eleven.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.1  # About a tenth of a comparison between every two contestants, as a prior.
SCALE = 400 / math.log(10)
BASE = 1000.0
LEVEL = 0.95
MAX_CONTESTANTS = 200  # The fit solves a square system of this size each round.
FEW = 10  # Below this many compares a bootstrap interval is too narrow to trust.
SEED = 0


@dataclass(frozen=True)
class Choice:
    """One user's choice among a compare's replies: each reply's contestant, in slot
    order, and the winner's index in it (None for a tie or "all bad")."""

    contestants: tuple[str, ...]
    winner: int | None


@dataclass(frozen=True)
class Standing:
    contestant: str
    rating: float
    low: float
    high: float
    compares: int
    wins: int
    ties: int
    losses: int
    rank: int = 0

    @property
    def provisional(self) -> bool:
        """Too few compares for its interval to mean much (marked on the page)."""
        return self.compares < FEW


def pairs(choice: Choice) -> list[tuple[str, str, float]]:
    """(winner, loser, weight) pairs of one choice. Two replies of the same contestant
    tell nothing about it and make no pair."""
    names = choice.contestants
    if choice.winner is not None:
        best = names[choice.winner]
        return [(best, other, 1.0) for other in names if other != best]
    found = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a != b:
                found += [(a, b, 0.5), (b, a, 0.5)]
    return found


def _fit(matrix: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    # Imported here: choix brings scipy in (a second or more), which only the
    # leaderboard needs, not every process's start or its first request.
    import choix

    try:
        return choix.ilsr_pairwise_dense(
            # 1e-5 in strength is a thousandth of a point: finer changes nothing shown.
            matrix,
            alpha=ALPHA,
            initial_params=start,
            max_iter=500,
            tol=1e-5,
        )
    except RuntimeError:  # Not converged to the tolerance: the last step is close enough.
        return choix.lsr_pairwise_dense(matrix, alpha=ALPHA, initial_params=start)


def _counts(choices: Sequence[Choice], names: list[str]) -> dict[str, list[int]]:
    """compares, wins, ties, losses of each contestant, one per choice it was in."""
    counts = {name: [0, 0, 0, 0] for name in names}
    for choice in choices:
        best = choice.contestants[choice.winner] if choice.winner is not None else None
        for name in set(choice.contestants):
            if name not in counts:
                continue
            row = counts[name]
            row[0] += 1
            if best is None:
                row[2] += 1
            elif name == best:
                row[1] += 1
            else:
                row[3] += 1
    return counts


def standings(choices: Sequence[Choice], *, rounds: int = 200, seed: int = SEED) -> list[Standing]:
    """Every contestant's rating and 95% interval, best first, from these choices.

    Only the MAX_CONTESTANTS contestants in the most choices are ranked; pairs with the
    others are left out."""
    seen: dict[str, int] = {}
    for choice in choices:
        for name in set(choice.contestants):
            seen[name] = seen.get(name, 0) + 1
    names = sorted(seen, key=lambda n: (-seen[n], n))[:MAX_CONTESTANTS]
    if len(names) < 2:
        return []
    index = {name: i for i, name in enumerate(names)}
    # Every pair of every choice as one entry: which choice, winner, loser, weight.
    entries = [
        (c, index[a], index[b], w)
        for c, choice in enumerate(choices)
        for a, b, w in pairs(choice)
        if a in index and b in index
    ]
    n = len(names)
    if not entries:
        return []
    source, win, lose, weight = (np.array(column) for column in zip(*entries, strict=True))
    cells = win * n + lose

    def matrix(multiplicity: np.ndarray) -> np.ndarray:
        flat = np.bincount(cells, weights=weight * multiplicity[source], minlength=n * n)
        return flat.reshape(n, n)

    estimate = _fit(matrix(np.ones(len(choices))))
    rng = np.random.default_rng(seed)
    resampled = np.empty((rounds, n))
    for r in range(rounds):
        drawn = np.bincount(rng.integers(0, len(choices), len(choices)), minlength=len(choices))
        resampled[r] = _fit(matrix(drawn), estimate)  # Starts near: fewer steps.
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail], axis=0) if rounds else (estimate,) * 2
    counts = _counts(choices, names)
    table = [
        Standing(
            contestant=name,
            rating=points(estimate[i]),
            low=points(low[i]),
            high=points(high[i]),
            compares=counts[name][0],
            wins=counts[name][1],
            ties=counts[name][2],
            losses=counts[name][3],
        )
        for i, name in enumerate(names)
    ]
    return ranked(table)


def points(strength: float) -> float:
    """A Bradley-Terry strength as Elo-like points."""
    return BASE + SCALE * float(strength)


def ranked(table: list[Standing]) -> list[Standing]:
    """Best first; a contestant's rank is 1 + how many others are better beyond doubt
    (their interval's low end above its high end), so close ones share a rank."""
    table = sorted(table, key=lambda s: (-s.rating, s.contestant))
    return [
        Standing(**{**s.__dict__, "rank": 1 + sum(o.low > s.high for o in table)}) for s in table
    ]
