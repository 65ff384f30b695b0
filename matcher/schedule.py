"""Schedule stage: a brokerage event's meetings, planned exactly, then put into time slots.

Pure planning on plain arrays (no model, no I/O): :func:`plan_meetings` chooses the meetings that
maximise the event's total score, :func:`assign_slots` gives each meeting a slot so that no one is
in two meetings at once and the slots are as full as each other.

The plan is a capacitated bipartite b-matching (each European-Canadian pair meets at most once,
each participant at most its capacity, at most ``max_total`` meetings in all), written as a linear
programme and solved by HiGHS's dual simplex (``scipy.optimize.linprog``). Its constraint matrix
(the bipartite incidence matrix plus one all-ones row) is totally unimodular, so every vertex is
integral: the dual simplex returns a vertex, and the solution is *verified* integral rather than
solved with integrality constraints. The LP's dual bound, equal to the plan's value, is the
certificate that no integer plan is better.

The slots are the colour classes of a proper edge colouring of the meeting graph with ``slots``
colours: König's theorem says one exists when no participant has more than ``slots`` meetings, and
the classic alternating-path construction finds it. De Werra's balancing then swaps colours along
alternating paths until the slots differ by at most one meeting, so ``ceil(M / slots)`` tables suffice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from matcher._checks import ParamChecks, is_int, is_number
from matcher.errors import SolverError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SCORE_UNIT", "Plan", "Schedule", "assign_slots", "plan_meetings"]

log = logging.getLogger(__name__)

# Scores are planned in integer units of 1e-6 (the precision the CSVs show): the plan maximises the
# total of the rounded scores exactly, and a tie-breaking perturbation below one unit in all cannot
# change which rounded total is best.
SCORE_UNIT = 1e-6
# A vertex coordinate this close to 0 or 1 counts as integral.
INTEGRALITY_TOL = 1e-6

TIE_BREAK = (
    "scores rounded to 1e-6 as integer units; eligible pair r (0-based, in European-id then "
    "Canadian-id order, of E) adds ((E - r) / E)^2 / (K + 1) units, K the most meetings possible: "
    "less than one unit over any plan, so it only chooses among plans of equal rounded total; being "
    "strictly convex in r, it prefers pairing the earliest ids together (of two plans that swap "
    "partners, the one holding the earliest pair) as far as HiGHS's tolerance (1e-7) resolves it; the "
    "programme is built in id order and HiGHS is deterministic, so the same input gives the same plan"
)


@dataclass(frozen=True)
class Plan:
    """The chosen meetings (rows ``eu`` and columns ``ca`` of the score matrix, in (eu, ca) order),
    their total score, and how the solver got there."""

    eu: np.ndarray
    ca: np.ndarray
    total: float
    status: str
    certificate: dict
    eligible: int

    def __len__(self) -> int:
        return len(self.eu)


@dataclass(frozen=True)
class Schedule:
    """A brokerage event's plan as tables: ``meetings`` (one row per meeting, by slot then ids),
    ``agendas`` (one row per participant per slot, free slots included) and ``summary`` (what
    ``schedule.json`` holds: total score, solver status and certificate, counts)."""

    meetings: pd.DataFrame
    agendas: pd.DataFrame
    summary: dict


def _check_plan(scores, eu_capacity, ca_capacity, min_score, max_total, allowed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    checks = ParamChecks("plan_meetings")
    s = np.asarray(scores, dtype=np.float64)
    ok = checks.require(s.ndim == 2, f"plan_meetings: scores must be a 2-D matrix; got shape {s.shape}")
    if ok:
        checks.require(bool(np.all(np.isfinite(s))), "plan_meetings: scores must be finite numbers")
    caps = []
    for name, cap, n in (("eu_capacity", eu_capacity, s.shape[0] if ok else None), ("ca_capacity", ca_capacity, s.shape[1] if ok else None)):
        c = np.asarray(cap)
        good = c.ndim == 1 and (n is None or len(c) == n) and np.issubdtype(c.dtype, np.integer) and bool(np.all(c >= 0))
        checks.require(good, f"plan_meetings: {name} must be {n if n is not None else 'one'} non-negative integer(s), one per {'row' if name == 'eu_capacity' else 'column'}; got {cap!r}")
        caps.append(c.astype(np.int64) if good else None)
    checks.require(min_score is None or is_number(min_score), f"plan_meetings: min_score must be a finite number or None; got {min_score!r}")
    checks.require(max_total is None or (is_int(max_total) and max_total >= 0), f"plan_meetings: max_total must be a non-negative integer or None; got {max_total!r}")
    if allowed is not None:
        a = np.asarray(allowed)
        checks.require(a.dtype == bool and ok and a.shape == s.shape, f"plan_meetings: allowed must be a boolean matrix shaped like scores {s.shape}; got {a.dtype} {a.shape}")
    checks.done()
    return s, caps[0], caps[1]


def plan_meetings(
    scores: np.ndarray,
    eu_capacity: np.ndarray,
    ca_capacity: np.ndarray,
    min_score: float | None = None,
    max_total: int | None = None,
    allowed: np.ndarray | None = None,
) -> Plan:
    """The meetings that maximise the total score: each pair (row, column) at most once, row ``i``
    in at most ``eu_capacity[i]`` meetings and column ``j`` in at most ``ca_capacity[j]``, at most
    ``max_total`` meetings in all (None: no limit).

    A pair is eligible when ``allowed`` (default: every pair) keeps it, its score is above 0 (a
    meeting that adds nothing is never worth a slot) and, with ``min_score``, at least ``min_score``.
    Rows and columns must be in id order: ties between plans of equal total go to earlier ids (see
    :data:`TIE_BREAK`). Exact: HiGHS dual simplex on the LP, its vertex verified integral, and the
    LP dual bound reported as the certificate.
    """
    s, eu_cap, ca_cap = _check_plan(scores, eu_capacity, ca_capacity, min_score, max_total, allowed)
    eligible = s > 0
    if min_score is not None:
        eligible &= s >= min_score
    if allowed is not None:
        eligible &= np.asarray(allowed)
    eligible &= (eu_cap[:, None] > 0) & (ca_cap[None, :] > 0)
    rows, cols = np.nonzero(eligible)  # row-major: (eu, ca) order
    n_edges = len(rows)
    most = int(min(eu_cap.sum(), ca_cap.sum(), n_edges, max_total if max_total is not None else n_edges))
    empty = np.zeros(0, dtype=np.int64)
    if n_edges == 0 or most == 0:
        cert = {"method": "no eligible pair or no capacity: the empty plan is the only one", "primal_units": 0.0, "dual_bound_units": 0.0, "gap_units": 0.0, "integral": True}
        return Plan(empty, empty, 0.0, "optimal", cert, n_edges)

    from scipy import sparse
    from scipy.optimize import linprog

    units = np.round(s[rows, cols] / SCORE_UNIT)
    tie = ((n_edges - np.arange(n_edges)) / n_edges) ** 2 / (most + 1.0)
    objective = units + tie
    n_eu, n_ca = s.shape
    edge = np.arange(n_edges)
    blocks = [sparse.csr_matrix((np.ones(n_edges), (rows, edge)), shape=(n_eu, n_edges)), sparse.csr_matrix((np.ones(n_edges), (cols, edge)), shape=(n_ca, n_edges))]
    bounds = [eu_cap, ca_cap]
    if max_total is not None and max_total < min(eu_cap.sum(), ca_cap.sum(), n_edges):
        blocks.append(sparse.csr_matrix(np.ones((1, n_edges))))
        bounds.append(np.array([max_total]))
    a_ub = sparse.vstack(blocks, format="csr")
    b_ub = np.concatenate(bounds).astype(np.float64)
    res = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs-ds")
    if res.status != 0:
        raise SolverError(f"HiGHS did not find the optimal plan (status {res.status}: {res.message})")
    x = res.x
    chosen = np.round(x)
    off = float(np.max(np.abs(x - chosen)))
    if off > INTEGRALITY_TOL:
        raise SolverError(f"HiGHS returned a fractional vertex (a coordinate {off:.2g} from 0 or 1); the b-matching LP should be integral")
    pick = chosen > 0.5
    primal = float(objective[pick].sum())
    # Dual bound of the maximisation: b.y + 1.u over the row duals y and the x <= 1 duals u (HiGHS's
    # marginals are those of the minimisation, hence the signs).
    dual = -float(b_ub @ res.ineqlin.marginals + res.upper.marginals.sum())
    cert = {
        "method": "LP relaxation, HiGHS dual simplex (scipy.optimize.linprog method='highs-ds'); vertex verified integral (max distance to 0/1 below 1e-6); the LP dual bound equal to the primal value proves no integer plan is better",
        "primal_units": round(primal, 3),
        "dual_bound_units": round(dual, 3),
        "gap_units": round(dual - primal, 3),
        "integral": True,
        "rounded_total_units": int(units[pick].sum()),
    }
    r, c = rows[pick].astype(np.int64), cols[pick].astype(np.int64)
    return Plan(r, c, float(s[r, c].sum()), "optimal", cert, n_edges)


def _check_slots(eu, ca, slots, tables) -> tuple[np.ndarray, np.ndarray]:
    checks = ParamChecks("assign_slots")
    checks.require(is_int(slots) and slots >= 1, f"assign_slots: slots must be a positive integer; got {slots!r}")
    checks.require(tables is None or (is_int(tables) and tables >= 1), f"assign_slots: tables must be a positive integer or None; got {tables!r}")
    e, c = np.asarray(eu, dtype=np.int64), np.asarray(ca, dtype=np.int64)
    checks.require(e.ndim == 1 and e.shape == c.shape, f"assign_slots: eu and ca must be two index arrays of one length; got shapes {e.shape} and {c.shape}")
    checks.done()
    pairs = set(zip(e.tolist(), c.tolist(), strict=True))
    checks.require(len(pairs) == len(e), "assign_slots: each (eu, ca) pair may meet once; got repeated pairs")
    if len(e):
        deg = max(np.bincount(e).max(), np.bincount(c).max())
        checks.require(deg <= slots, f"assign_slots: a participant has {deg} meetings, more than the {slots} slots")
        if tables is not None:
            checks.require(len(e) <= tables * slots, f"assign_slots: {len(e)} meetings do not fit {tables} tables x {slots} slots")
    checks.done()
    return e, c


def assign_slots(eu: np.ndarray, ca: np.ndarray, slots: int, tables: int | None = None) -> np.ndarray:
    """A slot (0-based) for each meeting ``(eu[m], ca[m])`` so that nobody has two meetings in one
    slot and every slot holds ``floor(M / slots)`` or ``ceil(M / slots)`` meetings (so at most
    ``tables`` when ``M <= tables x slots``). Needs every participant in at most ``slots`` meetings.

    Deterministic: meetings are coloured in the order given (König's alternating-path
    construction, smallest free colour first), then de Werra's balancing repeatedly takes the
    fullest and the emptiest slot (lowest slot number on ties) and swaps them along the first
    alternating path, by node number, that has one more meeting of the fuller slot.
    """
    e, c = _check_slots(eu, ca, slots, tables)
    n_eu = int(e.max()) + 1 if len(e) else 0
    u_of, v_of = e, c + n_eu  # node numbers: Europeans first, then Canadians
    n_nodes = n_eu + (int(c.max()) + 1 if len(c) else 0)
    at: list[dict[int, int]] = [{} for _ in range(n_nodes)]  # node -> {colour: meeting}
    colour = np.full(len(e), -1, dtype=np.int64)

    def other_end(m: int, node: int) -> int:
        return int(v_of[m]) if int(u_of[m]) == node else int(u_of[m])

    def walk(start: int, first: int, second: int) -> list[int]:
        """The meetings of the path from ``start`` whose colours alternate first, second, ..."""
        path, node, want = [], start, first
        while want in at[node]:
            m = at[node][want]
            path.append(m)
            node = other_end(m, node)
            want = second if want == first else first
        return path

    def swap(path: list[int], a: int, b: int) -> None:
        for m in path:
            for node in (int(u_of[m]), int(v_of[m])):
                del at[node][int(colour[m])]
        for m in path:
            colour[m] = b if colour[m] == a else a
            for node in (int(u_of[m]), int(v_of[m])):
                at[node][int(colour[m])] = m

    for m in range(len(e)):
        u, v = int(u_of[m]), int(v_of[m])
        a = next(k for k in range(slots) if k not in at[u])
        if a in at[v]:
            b = next(k for k in range(slots) if k not in at[v])
            swap(walk(v, a, b), a, b)  # the path from v cannot reach u (u misses a): a is then free at both
        colour[m] = a
        at[u][a] = m
        at[v][a] = m

    counts = np.bincount(colour, minlength=slots) if len(e) else np.zeros(slots, dtype=np.int64)
    while counts.max() - counts.min() > 1:
        p, q = int(np.argmax(counts)), int(np.argmin(counts))
        for node in range(n_nodes):
            if p in at[node] and q not in at[node]:
                path = walk(node, p, q)
                if len(path) % 2 == 1:  # starts and ends with p: one more p than q
                    swap(path, p, q)
                    break
        else:  # pragma: no cover - de Werra: the union of two classes of unequal size has such a path
            raise SolverError(f"assign_slots: no alternating path to move a meeting from slot {p} to slot {q}")
        counts[p] -= 1
        counts[q] += 1
    return colour
