"""The priority policy `priority.v1`: ordering, no starvation, fairness, escalation, config."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import statistics
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from triage.errors import InputError
from triage.priority import (
    POLICY_VERSION,
    PolicyConfig,
    Priority,
    TicketFacts,
    prioritize,
)
from triage.vocabulary import LANES

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DEFAULT = PolicyConfig()


def since(years: float) -> date:
    """The date a customer of `years` years joined, as seen at NOW."""
    return NOW.date() - timedelta(days=round(years * 365.25))


def ticket(wait: float = 10.0, f: float = 0.05, c: float = 0.05, u: float = 0.05,
           years: float | None = None, **kw: Any) -> TicketFacts:
    """A ticket that has waited `wait` minutes at NOW, with scores f/c/u."""
    if years is not None:
        kw["customer_since"] = since(years)
    kw.setdefault("scores", {"frustration": f, "churn_risk": c, "urgency": u})
    return TicketFacts(waiting_since=NOW - timedelta(minutes=wait), **kw)


def unscorable(wait: float = 10.0, **kw: Any) -> TicketFacts:
    return ticket(wait, scores=None, scorable=False, unscorable_reason="language:fr", **kw)


def term(p: Priority, name: str) -> float:
    return sum(t.minutes for t in p.terms if t.name == name)


Kw = dict[str, Any]
ANGRY_LOYAL: Kw = {"f": 0.92, "c": 0.85, "u": 0.3, "years": 8, "tier": "gold",
                   "lifetime_value": 5000}
URGENT_OUTAGE: Kw = {"f": 0.6, "c": 0.1, "u": 0.98, "years": 1, "lifetime_value": 300}
CALM_NEW: Kw = {"f": 0.05, "c": 0.05, "u": 0.05, "years": 0.1, "lifetime_value": 20}
MILD_LOYAL: Kw = {"f": 0.5, "c": 0.3, "u": 0.2, "years": 8, "lifetime_value": 5000}
MAXED: Kw = {"f": 1.0, "c": 1.0, "u": 1.0, "years": 40, "tier": "platinum",
             "lifetime_value": 1e9, "repeat_contacts_7d": 50, "trend": "worsening",
             "frustration_rise": 1.0}


# --- ordering ----------------------------------------------------------------------------


@pytest.mark.parametrize(("tickets", "expected"), [
    pytest.param({"angry_loyal": (ANGRY_LOYAL, 10), "urgent_outage": (URGENT_OUTAGE, 10),
                  "calm_new": (CALM_NEW, 10)},
                 ["angry_loyal", "urgent_outage", "calm_new"], id="same-wait"),
    pytest.param({"angry_loyal": (ANGRY_LOYAL, 2), "urgent_outage": (URGENT_OUTAGE, 60),
                  "calm_new": (CALM_NEW, 30)},
                 ["urgent_outage", "angry_loyal", "calm_new"], id="outage-waited-longer"),
    pytest.param({"angry_loyal": (ANGRY_LOYAL, 1), "urgent_outage": (URGENT_OUTAGE, 1),
                  "calm_new": (CALM_NEW, 240)},
                 ["calm_new", "angry_loyal", "urgent_outage"], id="calm-waited-4h"),
    pytest.param({"mild_loyal": (MILD_LOYAL, 10),
                  "urgent_outage": (URGENT_OUTAGE, 10)},
                 ["urgent_outage", "mild_loyal"], id="urgency-beats-mild-loyalty"),
])
def test_priority_orders_cases(tickets: dict, expected: list[str]) -> None:
    pos = {k: prioritize(ticket(wait, **kw), NOW).position for k, (kw, wait) in tickets.items()}
    assert sorted(pos, key=pos.__getitem__, reverse=True) == expected


def test_priority_position_is_waiting_plus_boost_and_deterministic() -> None:
    a, b = prioritize(ticket(37, **ANGRY_LOYAL), NOW), prioritize(ticket(37, **ANGRY_LOYAL), NOW)
    assert a == b
    assert a.position == pytest.approx(a.waiting_minutes + a.boost_minutes)
    assert a.boost_minutes == pytest.approx(sum(t.minutes for t in a.terms))
    assert a.waiting_minutes == pytest.approx(37)
    assert a.policy == POLICY_VERSION and a.lane in LANES


# --- no starvation -----------------------------------------------------------------------


def test_priority_max_boost_is_reached_and_never_exceeded() -> None:
    maxed = prioritize(ticket(600, **MAXED), NOW)
    assert maxed.boost_minutes == pytest.approx(DEFAULT.max_boost_minutes())
    rng = random.Random(7)
    for _ in range(500):
        p = prioritize(_random_ticket(rng), NOW)
        assert 0 <= p.boost_minutes <= DEFAULT.max_boost_minutes() + 1e-9


SMALL_WEIGHTS = {"frustration_minutes": 6, "urgency_minutes": 9, "churn_minutes": 4,
                 "tenure_minutes_per_year": 0.4, "value_minutes": 3,
                 "repeat_minutes_per_contact": 1, "worsening_minutes": 1, "sla_minutes": 6,
                 "needs_triage_minutes": 6}


@pytest.mark.parametrize(("overrides", "arrivals", "served"), [
    ({}, 1, 1),
    ({}, 2, 2),
    ({"urgency_minutes": 300, "sla_minutes": 120}, 1, 1),
    (SMALL_WEIGHTS, 2, 1),
    (SMALL_WEIGHTS, 3, 2),
])
def test_priority_calm_ticket_is_served_within_bound(overrides: dict, arrivals: int,
                                                     served: int) -> None:
    """Maxed-out angry tickets arrive as fast as (or faster than) agents serve; the calm one
    waits at most for those that arrived within max_boost_minutes of it."""
    cfg = PolicyConfig.from_dict(overrides)
    bound = math.ceil(arrivals * (cfg.max_boost_minutes() + 1) / served) + 1
    t0 = NOW
    queue: dict[str, datetime] = {"calm": t0}
    for minute in range(1, bound + 2):
        now = t0 + timedelta(minutes=minute)
        queue.update({f"angry-{minute}-{i}": now for i in range(arrivals)})
        by_arrival = {a: _position(MAXED, a, now, cfg) for a in set(queue.values())}
        pos = {k: by_arrival[a] for k, a in queue.items()}
        pos["calm"] = _position(CALM_NEW, t0, now, cfg)
        late = [k for k, arrived in queue.items()
                if (arrived - t0).total_seconds() / 60 > cfg.max_boost_minutes()]
        assert all(pos["calm"] > pos[k] for k in late)
        for k in sorted(pos, key=pos.__getitem__, reverse=True)[:served]:
            del queue[k]
        if "calm" not in queue:
            break
    assert "calm" not in queue, f"calm ticket still waiting after {bound} minutes"
    assert minute <= bound


def _position(kw: Kw, arrived: datetime, now: datetime, cfg: PolicyConfig) -> float:
    facts = dataclasses.replace(ticket(0, **kw), waiting_since=arrived)
    return prioritize(facts, now, cfg).position


def test_priority_later_ticket_never_outranks_one_older_by_more_than_max_boost() -> None:
    rng = random.Random(11)
    gap = DEFAULT.max_boost_minutes() + 1
    for _ in range(300):
        old, new = _random_ticket(rng, wait=gap + rng.uniform(0, 500)), _random_ticket(rng)
        new = dataclasses.replace(new, waiting_since=old.waiting_since + timedelta(minutes=gap))
        assert prioritize(old, NOW).position > prioritize(new, NOW).position


def _random_ticket(rng: random.Random, wait: float | None = None) -> TicketFacts:
    customer: Kw = {"years": rng.choice([None, rng.uniform(0, 30)]),
                    "tier": rng.choice([None, "platinum", "gold", "silver", "standard"]),
                    "lifetime_value": rng.choice([None, rng.uniform(0, 1e7)]),
                    "repeat_contacts_7d": rng.randint(0, 9),
                    "trend": rng.choice([None, "worsening", "improving", "steady"]),
                    "frustration_rise": rng.choice([None, rng.uniform(-1, 1)])}
    w = rng.uniform(0, 600) if wait is None else wait
    if rng.random() < 0.2:
        return unscorable(w, **customer)
    return ticket(w, f=rng.random(), c=rng.random(), u=rng.random(), **customer)


# --- fairness ----------------------------------------------------------------------------


def test_priority_facts_have_no_identity_fields() -> None:
    names = {f.name for f in dataclasses.fields(TicketFacts)}
    assert names == {"waiting_since", "scores", "scorable", "unscorable_reason",
                     "customer_since", "tier", "lifetime_value", "repeat_contacts_7d",
                     "trend", "frustration_rise", "escalated_by_agent", "phrases"}
    banned = ("name", "region", "language", "dialect", "country", "gender", "email", "age")
    assert not [n for n in names for b in banned if b in n.split("_")]


@pytest.mark.parametrize("change", [
    {"phrases": {"frustration": ["y'all never fix nothing"]}},
    {"phrases": {"frustration": ["you never fix anything"], "urgency": ["now"]}},
    {"escalated_by_agent": True},
    {"unscorable_reason": "ignored while scorable"},
    {"tier": "STANDARD "},
])
def test_priority_position_depends_only_on_documented_inputs(change: dict) -> None:
    base = ticket(25, f=0.7, c=0.4, u=0.6, years=4, lifetime_value=900)
    varied = dataclasses.replace(base, **change)
    assert prioritize(varied, NOW).position == prioritize(base, NOW).position


def test_priority_same_instant_in_other_time_zone_gives_same_result() -> None:
    plus2 = timezone(timedelta(hours=2))
    base = ticket(25, **ANGRY_LOYAL)
    shifted = dataclasses.replace(base, waiting_since=base.waiting_since.astimezone(plus2))
    assert prioritize(shifted, NOW.astimezone(plus2)) == prioritize(base, NOW)


# --- needs_triage ------------------------------------------------------------------------

CUSTOMERS: list[Kw] = [{"years": y, "lifetime_value": v, "tier": t, "repeat_contacts_7d": r}
             for y in (None, 0.5, 2, 6) for v in (None, 50, 3000)
             for t in ("standard", "silver") for r in (0, 1)]


@pytest.mark.parametrize("wait", [0, 30, 200])
def test_priority_needs_triage_is_above_median_calm_and_never_last(wait: float) -> None:
    calm = [prioritize(ticket(wait, f=0.1, c=0.15, u=0.2, **cust), NOW) for cust in CUSTOMERS]
    median = statistics.median(p.position for p in calm)
    bare = prioritize(unscorable(wait), NOW)
    assert bare.lane == "needs_triage" and not bare.escalate
    assert bare.position > median
    assert bare.position > min(p.position for p in calm)
    for cust, calm_p in zip(CUSTOMERS, calm, strict=True):
        same_customer = prioritize(unscorable(wait, **cust), NOW)
        assert same_customer.position >= calm_p.position + DEFAULT.needs_triage_minutes - 1e-9


def test_priority_needs_triage_keeps_customer_and_sla_terms_only() -> None:
    p = prioritize(unscorable(300, years=5, lifetime_value=800, repeat_contacts_7d=2,
                              trend="worsening"), NOW)
    assert {t.name for t in p.terms} == {"needs_triage", "tenure", "value", "repeat_contacts",
                                         "sla"}
    assert "language:fr" in p.explanation()


# --- escalation --------------------------------------------------------------------------


@pytest.mark.parametrize(("facts", "reason"), [
    (ticket(f=0.85, c=0.7, years=3), "loyal customer at risk"),
    (ticket(f=0.84, c=0.9, years=10), None),
    (ticket(f=0.9, c=0.69, years=10), None),
    (ticket(f=0.9, c=0.9, years=2.9), None),
    (ticket(f=0.9, c=0.9), None),
    (ticket(u=0.95, f=0.8), "urgent and frustrated"),
    (ticket(u=0.94, f=0.99), None),
    (ticket(u=0.99, f=0.79), None),
    (ticket(60 + 31, tier="gold"), "gold first response overdue"),
    (ticket(60 + 29, tier="gold"), None),
    (ticket(30 + 31, tier="platinum"), "platinum first response overdue"),
    (ticket(120 + 300, tier="silver"), None),
    (ticket(escalated_by_agent=True), "escalated by an agent"),
    (unscorable(escalated_by_agent=True), "escalated by an agent"),
    (unscorable(30 + 45, tier="platinum"), "platinum first response overdue"),
    (unscorable(tier="platinum", years=20), None),
])
def test_priority_escalation_rules(facts: TicketFacts, reason: str | None) -> None:
    p = prioritize(facts, NOW)
    assert p.escalate is (reason is not None)
    if reason is None:
        assert p.escalation_reason is None
        assert p.lane == ("standard" if facts.scorable else "needs_triage")
    else:
        assert p.lane == "supervisor"
        assert p.escalation_reason is not None and reason in p.escalation_reason


def test_priority_escalation_lists_every_rule_that_fired() -> None:
    p = prioritize(ticket(100, f=0.9, c=0.9, u=0.97, years=5, tier="gold",
                          escalated_by_agent=True), NOW)
    assert p.escalation_reason is not None
    assert p.escalation_reason.count("; ") == 3


@pytest.mark.parametrize(("overrides", "facts", "escalate"), [
    ({"escalate_urgency": None}, ticket(u=0.99, f=0.99), False),
    ({"escalate_frustration": None, "escalate_urgency": None},
     ticket(u=0.99, f=0.99, c=0.99, years=9), False),
    ({"escalate_sla_tiers": ["platinum"]}, ticket(100, tier="gold"), False),
    ({"escalate_sla_tiers": ["silver"]}, ticket(200, tier="silver"), True),
    ({"escalate_sla_breach_minutes": None}, ticket(600, tier="platinum"), False),
    ({"escalate_tenure_years": 0}, ticket(f=0.9, c=0.9, years=0), True),
])
def test_priority_escalation_rules_are_configurable(overrides: dict, facts: TicketFacts,
                                                    escalate: bool) -> None:
    assert prioritize(facts, NOW, PolicyConfig.from_dict(overrides)).escalate is escalate


# --- SLA ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{}, {"sla_near_breach_fraction": 0.5},
                                       {"sla_near_breach_minutes": 60},
                                       {"version": "priority.v1"}, {"version": "priority.v2"},
                                       {"version": "priority.v1",
                                        "sla_near_breach_fraction": 0.25}])
@pytest.mark.parametrize("tier", ["platinum", "gold", "silver", "standard"])
def test_priority_sla_rises_monotonically_to_breach(tier: str, overrides: dict) -> None:
    cfg = PolicyConfig.from_dict(overrides)
    target = cfg.sla_first_response_minutes[tier]
    window = cfg.near_breach_minutes(target)
    facts = ticket(0, tier=tier)
    steps = [prioritize(facts, NOW + timedelta(minutes=m), cfg)
             for m in range(int(target) + 90)]
    for m, (a, b) in enumerate(itertools.pairwise(steps)):
        assert b.position > a.position
        assert term(b, "sla") >= term(a, "sla")
        overlap = max(0.0, min(m + 1, target) - max(m, target - window))
        rate = 1 + cfg.sla_minutes * overlap / window
        assert b.position - a.position == pytest.approx(rate)
    for m, p in enumerate(steps):
        assert p.sla_due_at == facts.waiting_since + timedelta(minutes=target)
        assert p.sla_near_breach_at == p.sla_due_at - timedelta(minutes=window)
        assert p.sla_breached is (m > target)
        if m >= target:
            assert term(p, "sla") == pytest.approx(cfg.sla_minutes)
        if m <= target - window:
            assert term(p, "sla") == 0


@pytest.mark.parametrize(("tier", "window"), [("platinum", 7.5), ("gold", 15),
                                              ("silver", 30), ("standard", 60)])
def test_priority_near_breach_window_is_a_fraction_of_the_target(tier: str,
                                                                 window: float) -> None:
    """A new gold ticket is not "near breach" on arrival: the window is a quarter of 60."""
    assert DEFAULT.version == "priority.v3"
    assert DEFAULT.near_breach_minutes(DEFAULT.sla_first_response_minutes[tier]) == window
    fresh = prioritize(ticket(0, tier=tier), NOW)
    assert fresh.sla_near_breach_at > NOW and "sla" not in [t.name for t in fresh.terms]


@pytest.mark.parametrize("overrides", [{"version": "priority.v1"}, {"version": "priority.v2"},
                                       {"version": "priority.v3",
                                        "sla_near_breach_minutes": 60}])
def test_priority_old_window_under_v1_v2_or_when_asked(overrides: dict) -> None:
    """v1 and v2 keep their window, min(60, target); under v3 `sla_near_breach_minutes: 60`
    gives it back."""
    cfg = PolicyConfig.from_dict(overrides)
    for tier, target in cfg.sla_first_response_minutes.items():
        assert cfg.near_breach_minutes(target) == min(60, target)
        for waited in range(0, int(target) + 5, 5):
            p = prioritize(ticket(waited, tier=tier), NOW, cfg)
            left = target - waited
            old = cfg.sla_minutes * min(1.0, max(0.0, 1.0 - left / min(60, target)))
            assert term(p, "sla") == pytest.approx(old)


@pytest.mark.parametrize("overrides", [{"sla_near_breach_fraction": 0},
                                       {"sla_near_breach_fraction": 1.5},
                                       {"sla_near_breach_minutes": -1},
                                       {"sla_near_breach_fraction": "a quarter"},
                                       {"sla_near_breach_fraction": 0.25,
                                        "sla_near_breach_minutes": 60}])
def test_priority_near_breach_settings_are_checked(overrides: dict) -> None:
    with pytest.raises(InputError, match="sla_near_breach"):
        PolicyConfig.from_dict(overrides)


# --- bounds of each term -----------------------------------------------------------------


@pytest.mark.parametrize(("facts", "name", "minutes"), [
    (ticket(f=1.0), "frustration", 60),
    (ticket(u=1.0), "urgency", 90),
    (ticket(c=1.0), "churn_risk", 40),
    (ticket(c=1.0, years=50, lifetime_value=1e12), "churn_risk", 80),
    (ticket(years=50), "tenure", 40),
    (ticket(years=9), "tenure", 36),
    (ticket(lifetime_value=1e12), "value", 30),
    (ticket(lifetime_value=0), "value", 0),
    (ticket(repeat_contacts_7d=40), "repeat_contacts", 30),
    (ticket(repeat_contacts_7d=2), "repeat_contacts", 20),
    (ticket(trend="worsening"), "trend", 0),  # a priority.v1 term
    (ticket(frustration_rise=0.6), "frustration_trend", 15),
    (ticket(frustration_rise=1.0), "frustration_trend", 15),
    (ticket(frustration_rise=0.15), "frustration_trend", 7.5),
    (ticket(frustration_rise=0.14), "frustration_trend", 0),
    (ticket(frustration_rise=-0.8), "frustration_trend", 0),
    (ticket(10_000, tier="standard"), "sla", 60),
    (unscorable(), "needs_triage", 60),
    (ticket(f=0.2, c=0.2, u=0.2), "frustration", 0),
    (ticket(f=0.6), "frustration", 30),
])
def test_priority_term_bounds(facts: TicketFacts, name: str, minutes: float) -> None:
    assert term(prioritize(facts, NOW), name) == pytest.approx(minutes, abs=0.01)


@pytest.mark.parametrize("head", ["frustration", "urgency", "churn_risk"])
def test_priority_score_terms_are_smooth_and_monotone(head: str) -> None:
    grid = [i / 200 for i in range(201)]
    kw = {"frustration": "f", "urgency": "u", "churn_risk": "c"}[head]
    values = [term(prioritize(ticket(**{kw: p}), NOW), head) for p in grid]
    jumps = [b - a for a, b in itertools.pairwise(values)]
    assert all(j >= 0 for j in jumps)
    assert max(jumps) < 1.0  # no cliff: 0.005 of score never moves a term a full minute


# --- config ------------------------------------------------------------------------------


def test_priority_config_overrides_change_only_their_term() -> None:
    cfg = PolicyConfig.from_dict({"frustration_minutes": 120,
                                  "sla_first_response_minutes": {"Gold": 45}})
    facts = ticket(20, f=0.6, u=0.6, tier="gold")
    base, over = prioritize(facts, NOW), prioritize(facts, NOW, cfg)
    assert term(over, "frustration") == pytest.approx(2 * term(base, "frustration"))
    assert term(over, "urgency") == pytest.approx(term(base, "urgency"))
    assert over.sla_due_at == facts.waiting_since + timedelta(minutes=45)
    assert cfg.sla_first_response_minutes["platinum"] == DEFAULT.sla_first_response_minutes[
        "platinum"]


def test_priority_config_round_trips_through_json() -> None:
    cfg = PolicyConfig.from_dict({"urgency_minutes": 75, "escalate_urgency": None,
                                  "sla_first_response_minutes": {"bronze": 480}})
    again = PolicyConfig.from_dict(json.loads(json.dumps(cfg.as_dict())))
    assert again == cfg and hash(again) == hash(cfg)
    assert PolicyConfig.from_dict({}) == DEFAULT
    assert prioritize(ticket(tier="bronze"), NOW, cfg).sla_due_at == NOW + timedelta(
        minutes=470)


@pytest.mark.parametrize("bad", [
    {"frustration_minute": 60},
    {"frustration_minutes": -1},
    {"frustration_minutes": "60"},
    {"frustration_minutes": True},
    {"frustration_minutes": float("nan")},
    {"frustration_minutes": None},
    {"repeat_cap_contacts": 2.5},
    {"score_floor": 1.0},
    {"escalate_frustration": 1.5},
    {"sla_first_response_minutes": {"gold": 0}},
    {"sla_first_response_minutes": [60]},
    {"default_tier": "bronze"},
    {"escalate_sla_tiers": ["diamond"]},
    {"escalate_sla_tiers": "gold"},
    {"escalate_sla_tiers": 5},
    {"default_tier": None},
    {"default_tier": 3},
    {"tenure_cap_years": 0},
])
def test_priority_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(InputError):
        PolicyConfig.from_dict(bad)


def test_priority_config_rejects_non_mapping() -> None:
    with pytest.raises(InputError, match="JSON object"):
        PolicyConfig.from_dict([("urgency_minutes", 1)])  # type: ignore[arg-type]


# --- bad inputs --------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 1, 11, 0)
GOOD = {"frustration": 0.5, "churn_risk": 0.5, "urgency": 0.5}


@pytest.mark.parametrize("kw", [
    {"waiting_since": NAIVE},
    {"waiting_since": "2026-01-01T11:00:00Z"},
    {"scores": {**GOOD, "urgency": 1.2}},
    {"scores": {**GOOD, "urgency": -0.1}},
    {"scores": {**GOOD, "urgency": float("nan")}},
    {"scores": {**GOOD, "urgency": True}},
    {"scores": {**GOOD, "urgency": "0.5"}},
    {"scores": {}},
    {"scores": {**GOOD, "Legal Threat": 0.5}},
    {"scores": {**GOOD, "text": 0.5}},
    {"scores": None},
    {"repeat_contacts_7d": -1},
    {"repeat_contacts_7d": 1.5},
    {"trend": "sideways"},
    {"lifetime_value": -5.0},
    {"lifetime_value": float("inf")},
    {"tier": ""},
    {"customer_since": "2017-01-01"},
    {"customer_since": datetime(2017, 1, 1)},
    {"phrases": ["third time"]},
    {"scorable": "yes"},
])
def test_priority_facts_reject_bad_inputs(kw: dict) -> None:
    args = {"waiting_since": NOW - timedelta(minutes=5), "scores": GOOD, **kw}
    with pytest.raises(InputError):
        TicketFacts(**args)


@pytest.mark.parametrize(("facts", "now"), [
    (ticket(), NAIVE),
    (ticket(-30), NOW),
    (ticket(customer_since=NOW.date() + timedelta(days=2)), NOW),
    (ticket(tier="diamond"), NOW),
])
def test_priority_prioritize_rejects_bad_inputs(facts: TicketFacts, now: datetime) -> None:
    with pytest.raises(InputError):
        prioritize(facts, now)


def test_priority_tolerates_small_clock_skew() -> None:
    assert prioritize(ticket(-2), NOW).waiting_minutes == 0


# --- explanation -------------------------------------------------------------------------


def test_priority_explanation_lists_terms_largest_first_with_phrases() -> None:
    facts = ticket(12, f=0.92, c=0.1, u=0.1, customer_since=date(2017, 1, 1),
                   phrases={"frustration": ["third time I've called", "still broken"]})
    p = prioritize(facts, NOW)
    assert p.explanation() == ('frustration 0.92 (+54 min: "third time I\'ve called"), '
                               "customer since 2017 (+36 min), waiting 12 min")
    minutes = [t.minutes for t in p.terms]
    assert minutes == sorted(minutes, reverse=True)


def test_priority_as_dict_is_json_ready() -> None:
    p = prioritize(ticket(500, **ANGRY_LOYAL, phrases={"churn_risk": ["cancel my account"]}),
                   NOW)
    d = json.loads(json.dumps(p.as_dict()))
    assert d["policy"] == POLICY_VERSION and d["lane"] == "supervisor"
    assert d["explanation"] == p.explanation() and "cancel my account" in d["explanation"]
    assert datetime.fromisoformat(d["sla_due_at"]) == p.sla_due_at
    assert d["sla_breached"] is True and d["escalation_reason"]
    assert [t["name"] for t in d["terms"]] == [t.name for t in p.terms]
    assert "waiting 8 h 20 min" in d["explanation"]


def test_priority_other_heads_weigh_nothing_until_configured() -> None:
    scores = {**GOOD, "legal_threat": 0.95}
    facts = TicketFacts(waiting_since=NOW - timedelta(minutes=5), scores=scores)
    plain = prioritize(TicketFacts(waiting_since=NOW - timedelta(minutes=5), scores=GOOD), NOW)
    same = prioritize(facts, NOW)
    assert same.position == plain.position and same.terms == plain.terms
    cfg = PolicyConfig.from_dict({"head_minutes": {"legal_threat": 50}})
    weighed = prioritize(facts, NOW, cfg)
    term = next(t for t in weighed.terms if t.name == "legal_threat")
    assert term.minutes == pytest.approx(50 * (0.95 - 0.2) / 0.8)
    assert weighed.position == pytest.approx(plain.position + term.minutes)
    assert "legal threat 0.95" in weighed.explanation()
    assert cfg.max_boost_minutes() == PolicyConfig().max_boost_minutes() + 50


def test_priority_a_model_without_our_heads_still_places_tickets() -> None:
    facts = TicketFacts(waiting_since=NOW - timedelta(minutes=5),
                        scores={"fraud_report": 0.99}, customer_since=date(2015, 1, 1))
    p = prioritize(facts, NOW, PolicyConfig.from_dict({"head_minutes": {"fraud_report": 30}}))
    assert p.lane == "standard" and not p.escalate
    assert "fraud_report" in [t.name for t in p.terms]


@pytest.mark.parametrize("bad", [{"head_minutes": {"legal_threat": -1}},
                                 {"head_minutes": {"Not A Head": 5}},
                                 {"head_minutes": [5]}])
def test_priority_head_minutes_are_checked(bad: dict) -> None:
    with pytest.raises(InputError):
        PolicyConfig.from_dict(bad)


V1 = PolicyConfig(version="priority.v1")


def test_priority_v1_stays_selectable_and_unchanged() -> None:
    worse = ticket(trend="worsening", frustration_rise=0.9)
    p = prioritize(worse, NOW, V1)
    assert p.policy == "priority.v1"
    assert term(p, "trend") == pytest.approx(10) and term(p, "frustration_trend") == 0
    assert PolicyConfig.from_dict({"version": "priority.v1"}) == V1
    maxed = prioritize(ticket(600, **MAXED), NOW, V1)
    assert maxed.boost_minutes == pytest.approx(V1.max_boost_minutes())


def test_priority_v2_explains_a_rising_frustration() -> None:
    p = prioritize(ticket(f=0.7, frustration_rise=0.42), NOW)
    assert p.policy == "priority.v3" == POLICY_VERSION  # v3 keeps v2's trend term
    assert "frustration rising over the conversation (+0.42)" in p.explanation()
    falling = prioritize(ticket(f=0.7, frustration_rise=-0.42), NOW)
    assert p.position > falling.position
    assert p.position - falling.position <= DEFAULT.rising_frustration_minutes


def test_priority_v2_rising_frustration_never_starves_a_calm_ticket() -> None:
    """The trend term is bounded like the others: a calm ticket that waited longer than the
    largest boost is served before any later ticket, however its frustration rose."""
    calm = prioritize(ticket(DEFAULT.max_boost_minutes() + 1, f=0.05), NOW)
    hot = prioritize(ticket(0, **MAXED), NOW)
    assert calm.position > hot.position


@pytest.mark.parametrize("bad", [{"version": "priority.v4"}, {"version": 2},
                                 {"rising_frustration_min": 1.5},
                                 {"rising_frustration_full": 0.1}])
def test_priority_version_and_trend_settings_are_checked(bad: dict) -> None:
    with pytest.raises(InputError):
        PolicyConfig.from_dict(bad)


# --- the agent's words -------------------------------------------------------------------


WORKED = {"f": 0.94, "c": 0.75, "u": 0.35, "tier": "gold", "lifetime_value": 12_000,
          "repeat_contacts_7d": 1, "trend": "worsening",
          "customer_since": date(2017, 1, 1)}


@pytest.mark.parametrize(("overrides", "sla", "boost"), [
    ({"version": "priority.v1"}, 12.0, 215.9),
    ({"version": "priority.v1", "sla_near_breach_fraction": 0.25}, 0.0, 203.9),
])
def test_priority_worked_example_of_the_docs(overrides: dict, sla: float, boost: float) -> None:
    """docs/priority.md's worked example, and the same with priority.v3's window."""
    p = prioritize(ticket(12, **WORKED), NOW, PolicyConfig.from_dict(overrides))
    assert term(p, "sla") == pytest.approx(sla, abs=0.05)
    assert p.boost_minutes == pytest.approx(boost, abs=0.05)
    assert p.lane == "supervisor"


def test_priority_summary_says_it_in_an_agents_words() -> None:
    facts = ticket(130, **{**WORKED, "phrases": {"frustration": ["third time I've called"]}})
    p = prioritize(facts, NOW, PolicyConfig(version="priority.v1"))
    summary = p.summary()
    assert summary.startswith("for a supervisor: loyal customer at risk, ")
    for words in ('very frustrated: "third time I\'ve called"', "may leave us",
                  "long-standing gold customer (since 2017)",
                  "high-value customer (lifetime value 12,000)",
                  "wrote 1 other time in the last 7 days", "getting more upset",
                  "gold customer's first reply overdue by 1 h 10 min"):
        assert words in summary
    assert summary.endswith("waiting 2 h 10 min")
    for number_talk in ("+", " min)", "x1.", "0.94", ">="):
        assert number_talk not in summary
    assert "x1.86 for tenure and value" in p.explanation()  # the numbers stay available
    assert p.as_dict()["summary"] == summary
    assert all(t["plain"] for t in p.as_dict()["terms"])


@pytest.mark.parametrize(("reason", "words"), [
    ("language:de", "written in German: needs a person who reads it"),
    ("language:xx", "written in another language (xx): needs a person who reads it"),
    ("no_words", "no words to read (only emoji, numbers or links): needs a person to look"),
    ("unreadable", "the model cannot read it: needs a person to look"),
])
def test_priority_summary_of_an_unreadable_message(reason: str, words: str) -> None:
    facts = ticket(5, scores=None, scorable=False, unscorable_reason=reason,
                   customer_since=NOW.date())
    summary = prioritize(facts, NOW).summary()
    assert summary == f"{words}, waiting 5 min"  # a tenure of 0 minutes is left unsaid
    assert reason not in summary or reason == "unreadable"
