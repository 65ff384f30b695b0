"""The brokerage event schedule: exact plans against brute force and an independent LP, slots
without double booking and balanced, participant lists checked, and the CLI's four files."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import Matcher, ParameterError
from matcher.cli import main
from matcher.errors import ParticipantsError
from matcher.gold import GoldPair
from matcher.participants import read_participants
from matcher.schedule import assign_slots, plan_meetings
from matcher.score import SIGNALS
from tests.conftest import profile, write_corpus

# ------------------------------------------------------------------ oracles


def brute_force(scores, eu_cap, ca_cap, min_score=None, max_total=None, allowed=None) -> float:
    """The best total over every subset of eligible pairs that respects the capacities (small events only)."""
    n, m = scores.shape
    pairs = [(i, j) for i in range(n) for j in range(m) if scores[i, j] > 0 and (min_score is None or scores[i, j] >= min_score) and (allowed is None or allowed[i, j])]
    best = 0.0
    for size in range(len(pairs) + 1):
        if max_total is not None and size > max_total:
            break
        for subset in itertools.combinations(pairs, size):
            rows = np.bincount([i for i, _ in subset], minlength=n)
            cols = np.bincount([j for _, j in subset], minlength=m)
            if np.all(rows <= eu_cap) and np.all(cols <= ca_cap):
                best = max(best, float(sum(scores[i, j] for i, j in subset)))
    return best


def lp_optimum(scores, eu_cap, ca_cap, min_score=None, max_total=None) -> float:
    """The b-matching LP over the full matrix, with no rounding or tie-breaking: an independent formulation."""
    from scipy.optimize import linprog

    n, m = scores.shape
    w = np.where((scores > 0) & (scores >= (min_score if min_score is not None else -np.inf)), scores, 0.0).ravel()
    a = [np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))]
    b = [eu_cap, ca_cap]
    if max_total is not None:
        a.append(np.ones((1, n * m)))
        b.append([max_total])
    res = linprog(-w, A_ub=np.vstack(a), b_ub=np.concatenate(b).astype(float), bounds=(0, 1), method="highs-ipm")
    assert res.status == 0
    return -res.fun


def check_plan(plan, scores, eu_cap, ca_cap, min_score=None, max_total=None, allowed=None) -> None:
    pairs = list(zip(plan.eu.tolist(), plan.ca.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)
    assert np.all(np.bincount(plan.eu, minlength=len(eu_cap)) <= eu_cap)
    assert np.all(np.bincount(plan.ca, minlength=len(ca_cap)) <= ca_cap)
    if max_total is not None:
        assert len(pairs) <= max_total
    for i, j in pairs:
        assert scores[i, j] > 0
        assert min_score is None or scores[i, j] >= min_score
        assert allowed is None or allowed[i, j]
    assert plan.total == pytest.approx(sum(scores[i, j] for i, j in pairs), abs=1e-12)
    cert = plan.certificate
    assert cert["integral"] and abs(cert["gap_units"]) < 1e-3


def check_slots(eu, ca, slot, slots, tables=None) -> None:
    assert len(slot) == len(eu)
    assert np.all((slot >= 0) & (slot < slots))
    for k in range(slots):
        inside = slot == k
        assert len(set(eu[inside].tolist())) == inside.sum(), "a European participant is booked twice in one slot"
        assert len(set(ca[inside].tolist())) == inside.sum(), "a Canadian participant is booked twice in one slot"
    counts = np.bincount(slot, minlength=slots)
    if len(eu):
        assert counts.max() - counts.min() <= 1
        assert counts.max() == math.ceil(len(eu) / slots)
    if tables is not None:
        assert counts.max() <= tables


# ------------------------------------------------------------------ planning, by hand


def test_plan_hand_computed_swap():
    # Greedy takes 0.9 and is left with 0.1 (1.0); the optimum pairs 0.8 and 0.7 (1.5).
    scores = np.array([[0.9, 0.8], [0.7, 0.1]])
    plan = plan_meetings(scores, np.array([1, 1]), np.array([1, 1]))
    assert list(zip(plan.eu.tolist(), plan.ca.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert plan.total == pytest.approx(1.5)
    assert plan.status == "optimal" and plan.eligible == 4
    assert plan.certificate["rounded_total_units"] == 1_500_000


def test_plan_tables_min_score_and_zero_scores():
    scores = np.array([[0.9, 0.8], [0.7, 0.0]])
    caps = np.array([2, 2])
    # Two meetings in all: the two best pairs, both with row 0.
    plan = plan_meetings(scores, caps, caps, max_total=2)
    assert list(zip(plan.eu.tolist(), plan.ca.tolist(), strict=True)) == [(0, 0), (0, 1)]
    # min_score 0.75 leaves (0, 0) and (0, 1); the zero-score pair is never eligible.
    plan = plan_meetings(scores, caps, caps, min_score=0.75)
    assert plan.eligible == 2 and len(plan) == 2 and plan.total == pytest.approx(1.7)
    plan = plan_meetings(scores, caps, caps)
    assert plan.eligible == 3 and (1, 1) not in set(zip(plan.eu.tolist(), plan.ca.tolist(), strict=True))


def test_plan_nothing_eligible_is_empty_and_optimal():
    plan = plan_meetings(np.array([[0.2, 0.3]]), np.array([1]), np.array([1, 1]), min_score=0.5)
    assert len(plan) == 0 and plan.total == 0.0 and plan.status == "optimal" and plan.eligible == 0


def test_plan_ties_go_to_the_earliest_ids_and_repeat():
    scores = np.full((3, 3), 0.5)
    ones = np.ones(3, dtype=np.int64)
    plan = plan_meetings(scores, ones, ones)
    assert list(zip(plan.eu.tolist(), plan.ca.tolist(), strict=True)) == [(0, 0), (1, 1), (2, 2)]
    again = plan_meetings(scores.copy(), ones.copy(), ones.copy())
    assert np.array_equal(plan.eu, again.eu) and np.array_equal(plan.ca, again.ca)


def test_plan_certificate_dual_bound_equals_primal():
    rng = np.random.default_rng(3)
    scores = rng.random((20, 25))
    plan = plan_meetings(scores, rng.integers(0, 4, 20), rng.integers(0, 4, 25), max_total=30)
    cert = plan.certificate
    assert cert["dual_bound_units"] == pytest.approx(cert["primal_units"], abs=1e-3)
    assert cert["rounded_total_units"] == round(sum(round(scores[i, j] * 1e6) for i, j in zip(plan.eu, plan.ca, strict=True)))


def test_plan_bad_parameters_listed_together():
    with pytest.raises(ParameterError) as err:
        plan_meetings(np.zeros((2, 2)), np.array([1, -1]), np.array([1]), min_score=float("nan"), max_total=-1)
    assert str(err.value) == (
        "4 problems with the parameters of plan_meetings:\n"
        "  plan_meetings: eu_capacity must be 2 non-negative integer(s), one per row; got array([ 1, -1])\n"
        "  plan_meetings: ca_capacity must be 2 non-negative integer(s), one per column; got array([1])\n"
        "  plan_meetings: min_score must be a finite number or None; got nan\n"
        "  plan_meetings: max_total must be a non-negative integer or None; got -1"
    )


# ------------------------------------------------------------------ planning against independent solvers


@st.composite
def events(draw, max_side: int = 3):
    n, m = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    grid = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.5, 0.8])  # coarse: ties and zero scores are common
    scores = np.array(draw(st.lists(grid, min_size=n * m, max_size=n * m))).reshape(n, m)
    eu_cap = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    ca_cap = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    min_score = draw(st.sampled_from([None, 0.2, 0.5]))
    max_total = draw(st.sampled_from([None, 1, 2, 4]))
    return scores, eu_cap, ca_cap, min_score, max_total


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_plan_equals_brute_force_on_small_events(event):
    scores, eu_cap, ca_cap, min_score, max_total = event
    plan = plan_meetings(scores, eu_cap, ca_cap, min_score, max_total)
    check_plan(plan, scores, eu_cap, ca_cap, min_score, max_total)
    assert plan.total == pytest.approx(brute_force(scores, eu_cap, ca_cap, min_score, max_total), abs=1e-9)
    slots = int(max(3, np.bincount(plan.eu).max() if len(plan) else 1, np.bincount(plan.ca).max() if len(plan) else 1))
    check_slots(plan.eu, plan.ca, assign_slots(plan.eu, plan.ca, slots), slots)


@pytest.mark.parametrize("seed", range(6))
def test_plan_equals_the_lp_optimum_on_random_events(seed):
    rng = np.random.default_rng(seed)
    n, m, slots = int(rng.integers(5, 15)), int(rng.integers(5, 15)), int(rng.integers(2, 6))
    scores = rng.random((n, m)).round(3)
    eu_cap = rng.integers(0, slots + 1, n)
    ca_cap = rng.integers(0, slots + 1, m)
    tables = int(rng.integers(1, 6))
    min_score = 0.3 if seed % 2 else None
    plan = plan_meetings(scores, eu_cap, ca_cap, min_score, tables * slots)
    check_plan(plan, scores, eu_cap, ca_cap, min_score, tables * slots)
    assert plan.total == pytest.approx(lp_optimum(scores, eu_cap, ca_cap, min_score, tables * slots), abs=1e-5)
    slot = assign_slots(plan.eu, plan.ca, slots, tables)
    check_slots(plan.eu, plan.ca, slot, slots, tables)


def test_plan_respects_allowed():
    scores = np.array([[0.9, 0.1], [0.1, 0.9]])
    allowed = np.array([[False, True], [True, True]])
    ones = np.ones(2, dtype=np.int64)
    plan = plan_meetings(scores, ones, ones, allowed=allowed)
    check_plan(plan, scores, ones, ones, allowed=allowed)
    assert plan.total == pytest.approx(brute_force(scores, ones, ones, allowed=allowed))


# ------------------------------------------------------------------ slots


def test_slots_complete_bipartite_is_a_latin_square():
    # K(4,4) with 4 slots: every slot is a perfect matching.
    eu, ca = (np.array(x) for x in zip(*itertools.product(range(4), range(4)), strict=True))
    slot = assign_slots(eu, ca, 4, tables=4)
    check_slots(eu, ca, slot, 4, 4)
    assert np.bincount(slot).tolist() == [4, 4, 4, 4]


def test_slots_balanced_on_a_star_and_matching():
    # One European meets three Canadians, plus three disjoint meetings: 6 meetings over 3 slots, 2 each.
    eu = np.array([0, 0, 0, 1, 2, 3])
    ca = np.array([0, 1, 2, 3, 4, 5])
    slot = assign_slots(eu, ca, 3, tables=2)
    check_slots(eu, ca, slot, 3, 2)
    assert slot.tolist() == assign_slots(eu, ca, 3, tables=2).tolist()


def test_slots_errors():
    with pytest.raises(ParameterError, match=r"^assign_slots: a participant has 3 meetings, more than the 2 slots$"):
        assign_slots(np.array([0, 0, 0]), np.array([0, 1, 2]), 2)
    with pytest.raises(ParameterError, match=r"^assign_slots: 3 meetings do not fit 1 tables x 2 slots$"):
        assign_slots(np.array([0, 1, 2]), np.array([0, 1, 2]), 2, tables=1)
    with pytest.raises(ParameterError, match=r"^assign_slots: slots must be a positive integer; got 0$"):
        assign_slots(np.array([0]), np.array([0]), 0)


@pytest.mark.parametrize("seed", range(5))
def test_slots_random_graphs(seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((30, 20))
    slots = 6
    plan = plan_meetings(scores, rng.integers(1, slots + 1, 30), rng.integers(1, slots + 1, 20), max_total=70)
    check_slots(plan.eu, plan.ca, assign_slots(plan.eu, plan.ca, slots, tables=12), slots, 12)


# ------------------------------------------------------------------ the engine


@pytest.fixture(scope="module")
def event_corpus(tmp_path_factory) -> Path:
    """Three European and three Canadian profiles: two aerospace pairs, a food pair, a health pair."""
    return write_corpus(
        tmp_path_factory.mktemp("event") / "corpus",
        [
            profile("eu-aero", "eu", "FR", ["aerospace_vehicles_defence"], "aircraft structures and avionics"),
            profile("eu-food", "eu", "IT", ["food_processing_manufacturing"], "dairy and plant protein processing"),
            profile("eu-med", "eu", "DE", ["medical_devices"], "medical imaging devices"),
            profile("ca-aero", "ca", None, ["aerospace_vehicles_defence"], "aircraft maintenance and avionics"),
            profile("ca-food", "ca", None, ["food_processing_manufacturing"], "plant protein ingredients"),
            profile("ca-med", "ca", None, ["medical_devices"], "medical imaging and diagnostics"),
        ],
    )


@pytest.fixture(scope="module")
def event_matcher(event_corpus) -> Matcher:
    return Matcher(backend="tfidf", gold=[GoldPair("eu-aero", "ca-aero", "mou")]).fit(event_corpus)


def test_schedule_meetings_add_up_and_respect_capacities(event_matcher):
    people = ["eu-aero", "eu-food", "eu-med", {"id": "ca-aero", "max_meetings": 1}, "ca-food", "ca-med"]
    s = event_matcher.schedule(people, slots=2)
    m = s.meetings
    assert list(m.columns) == ["slot", "eu_id", "eu_name", "ca_id", "ca_name", "score", *(f"contrib_{x}" for x in SIGNALS), "why"]
    assert (m.groupby("ca_id").size() <= 2).all() and (m["ca_id"] == "ca-aero").sum() <= 1
    contrib = m[[f"contrib_{x}" for x in SIGNALS]].sum(axis=1)
    assert np.allclose(contrib + event_matcher.weights_.bias, m["score"], atol=1e-9)
    for row in m.itertuples(index=False):  # the one scorer: the same score as explain()
        assert row.score == pytest.approx(event_matcher.explain(row.eu_id, row.ca_id).score, abs=1e-9)
    assert list(m.sort_values(["slot", "eu_id", "ca_id"]).index) == list(m.index)
    # the plan equals brute force over the event's own score matrix
    scores = event_matcher.score_matrix()
    total = brute_force(scores, np.array([2, 2, 2]), np.array([1, 2, 2]))
    assert s.summary["total_score"] == pytest.approx(total, abs=1e-5)
    assert s.summary["counts"]["meetings"] == len(m)
    a = s.agendas
    assert len(a) == 6 * 2 and set(a["status"]) <= {"meeting", "free"}
    booked = a[a["status"] == "meeting"]
    assert len(booked) == 2 * len(m)
    assert not booked.duplicated(["participant_id", "slot"]).any()


def test_schedule_new_only_min_score_and_tables(event_matcher):
    people = ["eu-aero", "eu-food", "eu-med", "ca-aero", "ca-food", "ca-med"]
    s = event_matcher.schedule(people, slots=3, exclude_known=True)
    assert not ((s.meetings["eu_id"] == "eu-aero") & (s.meetings["ca_id"] == "ca-aero")).any()
    s = event_matcher.schedule(people, slots=3, tables=1)
    assert len(s.meetings) == 3 and s.meetings["slot"].tolist() == [1, 2, 3]
    floor = float(event_matcher.score_matrix().max()) - 1e-9
    s = event_matcher.schedule(people, slots=3, min_score=floor)
    assert len(s.meetings) == 1 and s.summary["counts"]["pairs_eligible"] == 1


def test_schedule_empty_with_a_warning(event_matcher, caplog):
    with caplog.at_level("WARNING", logger="matcher.engine"):
        s = event_matcher.schedule(["eu-aero", "ca-food"], slots=2, min_score=0.99)
    assert len(s.meetings) == 0 and s.summary["total_score"] == 0.0
    assert (s.agendas["status"] == "free").all() and len(s.agendas) == 4
    assert "no pair of the event's 1 European and 1 Canadian participants scores at least 0.99 (and above 0): the schedule is empty" in caplog.text


def test_schedule_newcomer_scored_as_rank_profile(event_matcher):
    newcomer = profile("ca-new", "ca", None, ["aerospace_vehicles_defence"], "aircraft avionics testing") | {"max_meetings": 2}
    s = event_matcher.schedule(["eu-aero", "eu-med", newcomer], slots=2)
    assert s.summary["counts"]["participants"] == {"eu": 2, "ca": 1, "newcomers": 1}
    ranked = event_matcher.rank_profile({k: v for k, v in newcomer.items() if k != "max_meetings"}, k=3).set_index("candidate_id")["score"]
    for row in s.meetings.itertuples(index=False):
        assert row.ca_id == "ca-new"
        assert row.score == pytest.approx(ranked[row.eu_id], abs=1e-9)


def test_schedule_parameter_errors(event_matcher):
    with pytest.raises(ParameterError) as err:
        event_matcher.schedule(["eu-aero", "ca-aero"], slots=0, tables=0, min_score="x")
    assert str(err.value) == (
        "3 problems with the parameters of schedule:\n"
        "  slots must be a positive integer (time slots of the event); got 0\n"
        "  tables must be a positive integer (meetings that can run at once) or None; got 0\n"
        "  min_score must be a finite number or None; got 'x'"
    )


def test_participant_problems_listed_together(event_matcher):
    people = ["eu-aeor", {"id": "eu-food", "max_meetings": -1}, {"id": "ca-food", "max_meetings": "2.5"}, "eu-food", profile("ca-med", "ca")]
    with pytest.raises(ParticipantsError) as err:
        read_participants(people, event_matcher.corpus_)
    assert str(err.value) == (
        "5 problems in the participant list:\n"
        "  participants:1 [eu-aeor] id: got 'eu-aeor'; expected a corpus id, or a newcomer's full profile row (name, side, country, kind, sectors, description) (closest ids: eu-aero, eu-med, eu-food)\n"
        "  participants:2 [eu-food] max_meetings: got -1; expected a non-negative integer (the most meetings this participant takes; empty: one per slot)\n"
        "  participants:3 [ca-food] max_meetings: got '2.5'; expected a non-negative integer (the most meetings this participant takes; empty: one per slot)\n"
        "  participants:4 [eu-food] id: got 'eu-food'; expected each participant once; 'eu-food' is already on item 2\n"
        "  participants:5 [ca-med] id: got 'ca-med'; expected a new id for a newcomer's profile ('ca-med' is in the corpus: give only its id and max_meetings)"
    )


def test_participants_on_one_side(event_matcher, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,max_meetings\neu-aero,2\neu-food,\n", encoding="utf-8")
    with pytest.raises(ParticipantsError) as err:
        read_participants(path, event_matcher.corpus_)
    assert str(err.value) == (
        f"1 problem in participants file {str(path)!r}:\n"
        f"  {path} side: got 'only European participants (2)'; expected at least one Canadian participant as well: meetings pair a European with a Canadian cluster"
    )


def test_participants_file_header_and_newcomer_rows(event_matcher, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,max_meeting\neu-aero,2\n", encoding="utf-8")
    with pytest.raises(ParticipantsError) as err:
        read_participants(path, event_matcher.corpus_)
    assert f"  {path}:1 header: got 'max_meeting'; expected a known column (did you mean 'max_meetings'?)" in str(err.value)
    rec = profile("ca-new", "ca", None, ["aerospace_vehicles_defence"], "aircraft avionics testing")
    path.write_text(
        "id,max_meetings,name,side,country,kind,sectors,description\n"
        "eu-aero,1,,,,,,\n"
        f"ca-new,2,New Aero,ca,CA,cluster_organisation,aerospace_vehicles_defence,\"{rec['description']}\"\n"
        "ca-bad,,Bad,ca,CA,cluster_organisation,aerospace_vehicles_defense,text\n",
        encoding="utf-8",
    )
    with pytest.raises(ParticipantsError) as err:
        read_participants(path, event_matcher.corpus_)
    assert str(err.value).startswith(f"1 problem in participants file {str(path)!r}:\n  {path}:4 [ca-bad] sectors: got 'aerospace_vehicles_defense'; expected a sector code of the taxonomy")
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    people = read_participants(path, event_matcher.corpus_)
    assert [(p.id, p.max_meetings, p.newcomer) for p in people] == [("eu-aero", 1, False), ("ca-new", 2, True)]
    assert people[1].profile.name == "New Aero"


# ------------------------------------------------------------------ the command


def _run(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_writes_four_files_same_bytes(event_corpus, tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.write_text("id,max_meetings\nca-aero,1\neu-aero,\neu-food,2\nca-food,\neu-med,\nca-med,\n", encoding="utf-8")
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("id,max_meetings\neu-med,\nca-med,\neu-food,2\neu-aero,\nca-food,\nca-aero,1\n", encoding="utf-8")
    outs = []
    for n, path in enumerate((people, people, shuffled)):
        out = tmp_path / f"out{n}"
        rc, text, err = _run(["schedule", "--participants", str(path), "--slots", "2", "--tables", "3", "--backend", "tfidf", "--corpus", str(event_corpus), "--out", str(out), "--quiet"], capsys)
        assert rc == 0, err
        assert f"wrote {out / 'schedule.json'}" in text
        outs.append({name: (out / name).read_bytes() for name in ("meetings.csv", "agendas.csv", "agenda.html", "schedule.json")})
    assert outs[0] == outs[1] == outs[2]
    summary = json.loads(outs[0]["schedule.json"])
    assert summary["counts"]["slots"] == 2 and summary["counts"]["tables"] == 3
    assert summary["solver"]["status"] == "optimal"
    assert outs[0]["meetings.csv"].decode().splitlines()[0] == "slot,eu_id,eu_name,ca_id,ca_name,score," + ",".join(f"contrib_{s}" for s in SIGNALS) + ",why"


def test_cli_html_escapes_names(event_corpus, tmp_path, capsys):
    rec = profile("ca-new", "ca", None, ["aerospace_vehicles_defence"], "aircraft avionics testing")
    people = tmp_path / "people.csv"
    people.write_text(f'id,name,side,country,kind,sectors,description\neu-aero,,,,,,\nca-new,<script>alert(1)</script>,ca,CA,cluster_organisation,aerospace_vehicles_defence,"{rec["description"]}"\n', encoding="utf-8")
    rc, _, err = _run(["schedule", "--participants", str(people), "--slots", "1", "--backend", "tfidf", "--corpus", str(event_corpus), "--out", str(tmp_path / "o")], capsys)
    assert rc == 0, err
    html = (tmp_path / "o" / "agenda.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_cli_bad_input(event_corpus, tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.write_text("id\neu-aero\nca-aeroo\n", encoding="utf-8")
    base = ["schedule", "--participants", str(people), "--backend", "tfidf", "--corpus", str(event_corpus), "--out", str(tmp_path / "o")]
    for flag in ("--slots", "--tables"):
        argv = [*base, "--slots", "2"] if flag == "--tables" else base
        with pytest.raises(SystemExit) as exit_:
            main([*argv, flag, "0"])
        assert exit_.value.code == 2
        assert f"argument {flag}: expected a positive integer; got '0'" in capsys.readouterr().err
    rc, _, err = _run([*base, "--slots", "2"], capsys)
    assert rc == 1
    assert err == (
        f"ParticipantsError: 1 problem in participants file {str(people)!r}:\n"
        f"  {people}:3 [ca-aeroo] id: got 'ca-aeroo'; expected a corpus id, or a newcomer's full profile row (name, side, country, kind, sectors, description) (closest ids: ca-aero, eu-aero, ca-food)\n"
    )
    assert not (tmp_path / "o" / "schedule.json").exists()
