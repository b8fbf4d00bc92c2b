"""The priority policies `priority.v1`, `v2` and `v3`: where a ticket stands, and why.

    position = waiting_minutes + boost_minutes        (higher is served first)

Every boost term is a bounded head start in minutes, so a calm ticket climbs one minute per
minute waited and overtakes any ticket that arrived more than `max_boost_minutes()` after
it: no starvation, by construction. Formulas, defaults and a worked example are in
docs/priority.md. The policy never sees a name, region, language or dialect.

`priority.v2` is `priority.v1` with one term changed: instead of a fixed head start when the
two newest messages got worse on any head, a customer whose frustration has been **rising
across the conversation** (the least-squares change over their last scored messages) gets a
head start that grows with the rise, up to `rising_frustration_minutes`.

`priority.v3` (the default) is `priority.v2` with the SLA's near-breach window (where the SLA
term ramps up and the page warns "near breach") a quarter of each tier's first-response
target instead of `min(60, target)` minutes, which made every new gold or platinum ticket
"near breach" on arrival. `priority.v1` and `v2` stay selectable (`{"version": ...}`) and
never change meaning.

Pure: no I/O, no clock reads (`now` is passed in), deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from numbers import Real
from typing import Any

from triage.errors import InputError
from triage.heads import check_head
from triage.vocabulary import TRENDS
from triage.wording import escalation_words, head_words, tenure_words, unscorable_words

POLICY_VERSIONS = ("priority.v1", "priority.v2", "priority.v3")
POLICY_VERSION = "priority.v3"
"""The default policy version."""
NEAR_BREACH_FRACTION = 0.25
"""priority.v3's near-breach window: this share of each tier's first-response target."""
OLD_NEAR_BREACH_MINUTES = 60.0
"""priority.v1's and v2's near-breach window: `min(60, target)` minutes."""
DEFAULT_SLA_MINUTES: dict[str, float] = {
    "platinum": 30.0, "gold": 60.0, "silver": 120.0, "standard": 240.0,
}
_OPTIONAL = frozenset({
    "escalate_frustration", "escalate_churn_risk", "escalate_tenure_years",
    "escalate_urgency", "escalate_urgency_frustration", "escalate_sla_breach_minutes",
    "sla_near_breach_minutes", "sla_near_breach_fraction",
})
# Our three heads keep their own weight fields; `head_minutes` weighs any other head.
_OWN_WEIGHT = {"frustration": "frustration_minutes", "urgency": "urgency_minutes",
               "churn_risk": "churn_minutes"}
_UNIT = frozenset({"escalate_frustration", "escalate_churn_risk", "escalate_urgency",
                   "escalate_urgency_frustration", "rising_frustration_min",
                   "rising_frustration_full", "sla_near_breach_fraction"})


@dataclass(frozen=True)
class PolicyConfig:
    """Version, weights and thresholds of the policy. Every weight is minutes of head start.

    A score term is `weight * max(0, (p - score_floor) / (1 - score_floor))`. The weights
    of our three heads are `frustration_minutes`, `urgency_minutes` and `churn_minutes`;
    any other head a model scores has the weight `head_minutes[head]`, 0 until configured
    (so a new model never reorders the queue by surprise). An escalation rule is off when
    any of its thresholds is None, or when the model does not score a head it reads.
    """

    version: str = POLICY_VERSION
    score_floor: float = 0.2
    frustration_minutes: float = 60.0
    urgency_minutes: float = 90.0
    churn_minutes: float = 40.0
    churn_loyalty_weight: float = 1.0
    tenure_minutes_per_year: float = 4.0
    tenure_cap_years: float = 10.0
    value_minutes: float = 30.0
    value_cap: float = 100_000.0
    repeat_minutes_per_contact: float = 10.0
    repeat_cap_contacts: int = 3
    head_minutes: dict[str, float] = field(default_factory=dict, hash=False)
    worsening_minutes: float = 10.0
    rising_frustration_minutes: float = 15.0
    rising_frustration_min: float = 0.15
    rising_frustration_full: float = 0.6
    sla_minutes: float = 60.0
    sla_near_breach_fraction: float | None = None
    sla_near_breach_minutes: float | None = None
    sla_first_response_minutes: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SLA_MINUTES), hash=False)
    default_tier: str = "standard"
    needs_triage_minutes: float = 60.0
    future_tolerance_minutes: float = 5.0
    escalate_frustration: float | None = 0.85
    escalate_churn_risk: float | None = 0.7
    escalate_tenure_years: float | None = 3.0
    escalate_urgency: float | None = 0.95
    escalate_urgency_frustration: float | None = 0.8
    escalate_sla_breach_minutes: float | None = 30.0
    escalate_sla_tiers: tuple[str, ...] = ("platinum", "gold")

    def __post_init__(self) -> None:
        if self.version not in POLICY_VERSIONS:
            raise InputError(f"unknown policy version {self.version!r}; expected one of "
                             f"{list(POLICY_VERSIONS)}")
        object.__setattr__(self, "head_minutes", {check_head(str(h)): v for h, v
                                                  in self.head_minutes.items()})
        tiers = {str(k).strip().lower(): v for k, v in self.sla_first_response_minutes.items()}
        object.__setattr__(self, "sla_first_response_minutes", tiers)
        object.__setattr__(self, "default_tier", self.default_tier.strip().lower())
        object.__setattr__(self, "escalate_sla_tiers",
                           tuple(t.strip().lower() for t in self.escalate_sla_tiers))
        _check_config(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PolicyConfig:
        """Defaults overridden by `d` (settings or JSON); tier targets merge into the defaults."""
        if not isinstance(d, Mapping):
            raise InputError(f"expected the priority policy settings as a JSON object, "
                             f"found {type(d).__name__}")
        base = cls()
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise InputError(f"unknown priority policy setting(s) {unknown}; expected some "
                             f"of {sorted(names)}. Check the spelling.")
        return cls(**{k: _coerce(k, v, getattr(base, k)) for k, v in d.items()})

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["sla_first_response_minutes"] = dict(self.sla_first_response_minutes)
        out["head_minutes"] = dict(self.head_minutes)
        out["escalate_sla_tiers"] = list(self.escalate_sla_tiers)
        return out

    def max_boost_minutes(self) -> float:
        """The largest boost any ticket can get (the no-starvation bound)."""
        customer = (self.tenure_minutes_per_year * self.tenure_cap_years + self.value_minutes
                    + self.repeat_minutes_per_contact * self.repeat_cap_contacts
                    + self.sla_minutes)
        trend = self.worsening_minutes if self.version == "priority.v1" \
            else self.rising_frustration_minutes
        scored = (self.frustration_minutes + self.urgency_minutes + trend
                  + self.churn_minutes * (1.0 + self.churn_loyalty_weight)
                  + sum(m for h, m in self.head_minutes.items() if h not in _OWN_WEIGHT))
        return customer + max(scored, self.needs_triage_minutes)

    def near_breach_minutes(self, target: float) -> float:
        """The SLA's near-breach window for a first-response `target` (minutes).

        `sla_near_breach_fraction` of the target, or `min(sla_near_breach_minutes, target)`,
        whichever is set; unset, the version's own: a quarter of the target under
        priority.v3 (15 min of gold's 60), `min(60, target)` under v1 and v2.
        """
        if self.sla_near_breach_minutes is not None:
            return min(self.sla_near_breach_minutes, target)
        if self.sla_near_breach_fraction is not None:
            return self.sla_near_breach_fraction * target
        if self.version in ("priority.v1", "priority.v2"):
            return min(OLD_NEAR_BREACH_MINUTES, target)
        return NEAR_BREACH_FRACTION * target

    def weight(self, head: str) -> float:
        """Minutes of head start at score 1 for `head` (0 for a head nobody configured)."""
        own = _OWN_WEIGHT.get(head)
        return getattr(self, own) if own else float(self.head_minutes.get(head, 0.0))


@dataclass(frozen=True)
class TicketFacts:
    """Everything the policy may read about a ticket. No identity fields, on purpose."""

    waiting_since: datetime
    scores: dict[str, float] | None
    scorable: bool = True
    unscorable_reason: str | None = None
    customer_since: date | None = None
    tier: str | None = None
    lifetime_value: float | None = None
    repeat_contacts_7d: int = 0
    trend: str | None = None
    frustration_rise: float | None = None
    escalated_by_agent: bool = False
    phrases: dict[str, list[str]] | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "waiting_since", _aware(self.waiting_since, "waiting_since"))
        put(self, "scores", _check_scores(self.scores) if self.scorable else None)
        put(self, "customer_since", _check_since(self.customer_since))
        put(self, "tier", _check_tier_name(self.tier))
        put(self, "phrases", _check_phrases(self.phrases))
        _check_simple_facts(self)


@dataclass(frozen=True)
class Term:
    """One part of the boost: `name`, its minutes, the numbers behind it (`detail`) and
    the same in an agent's words (`plain`, no numbers of the policy)."""

    name: str
    minutes: float
    detail: str
    phrase: str | None = None
    plain: str | None = None


@dataclass(frozen=True)
class Priority:
    """Where a ticket stands and why. Higher `position` is served first."""

    policy: str
    lane: str
    position: float
    waiting_minutes: float
    boost_minutes: float
    terms: tuple[Term, ...]
    escalate: bool
    escalation_reason: str | None
    sla_due_at: datetime
    sla_breached: bool
    sla_near_breach_at: datetime
    escalation_plain: tuple[str, ...] = ()

    def explanation(self) -> str:
        """The terms, largest first, with the top phrase per head, then the waiting time."""
        parts = [_with_phrase(t.detail, t.phrase) for t in self.terms]
        return ", ".join([*parts, f"waiting {_duration(self.waiting_minutes)}"])

    def summary(self) -> str:
        """The same in an agent's words: why escalated, the terms worth a minute or more
        (largest first, with the top phrase), then the waiting time; no policy numbers."""
        parts = [_plain_with_phrase(t) for t in self.terms if t.plain and t.minutes >= 1]
        return ", ".join([*self.escalation_plain, *parts,
                          f"waiting {_duration(self.waiting_minutes)}"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy, "lane": self.lane, "position": self.position,
            "waiting_minutes": self.waiting_minutes, "boost_minutes": self.boost_minutes,
            "terms": [{"name": t.name, "minutes": t.minutes, "detail": t.detail,
                       "phrase": t.phrase, "plain": t.plain} for t in self.terms],
            "escalate": self.escalate, "escalation_reason": self.escalation_reason,
            "sla_due_at": self.sla_due_at.isoformat(), "sla_breached": self.sla_breached,
            "sla_near_breach_at": self.sla_near_breach_at.isoformat(),
            "explanation": self.explanation(), "summary": self.summary(),
        }


def prioritize(facts: TicketFacts, now: datetime,
               config: PolicyConfig | None = None) -> Priority:
    """Apply the policy (`config.version`) to one ticket at time `now`.

    Args:
        facts: what is known about the ticket and its customer.
        now: the current time, tz-aware (the policy never reads a clock).
        config: weights and thresholds; the documented defaults when None.

    Returns:
        The ticket's lane, position, terms, escalation and SLA state.
    """
    cfg = config or _DEFAULT_CONFIG
    now = _aware(now, "now")
    waiting = _waiting_minutes(facts.waiting_since, now, cfg)
    years = _tenure_years(facts.customer_since, now)
    tier = _tier(facts.tier, cfg)
    target = cfg.sla_first_response_minutes[tier]
    due = facts.waiting_since + timedelta(minutes=target)
    overdue = (now - due).total_seconds() / 60.0
    terms = _score_terms(facts, years, cfg) if facts.scorable else [_triage_term(facts, cfg)]
    terms += [*_customer_terms(facts, years, cfg), _sla_term(tier, overdue, cfg)]
    kept = tuple(sorted((t for t in terms if t.minutes > 0), key=lambda t: (-t.minutes, t.name)))
    boost = math.fsum(t.minutes for t in kept)
    reasons = _escalation_reasons(facts, years, tier, overdue, cfg)
    lane = "supervisor" if reasons else ("standard" if facts.scorable else "needs_triage")
    return Priority(
        policy=cfg.version, lane=lane, position=waiting + boost, waiting_minutes=waiting,
        boost_minutes=boost, terms=kept, escalate=bool(reasons),
        escalation_reason="; ".join(reasons) or None, sla_due_at=due, sla_breached=overdue > 0,
        sla_near_breach_at=due - timedelta(minutes=cfg.near_breach_minutes(target)),
        escalation_plain=tuple(escalation_words(r) for r in reasons),
    )


# --- terms -----------------------------------------------------------------------------


def _score_terms(facts: TicketFacts, years: float | None, cfg: PolicyConfig) -> list[Term]:
    loyalty = (_tenure_fraction(years, cfg) + _value_fraction(facts.lifetime_value, cfg)) / 2
    factor = 1.0 + cfg.churn_loyalty_weight * loyalty
    note = f", x{factor:.2f} for tenure and value" if factor > 1.0 else ""
    scores = facts.scores or {}
    terms = [_head_term(facts, head, cfg.weight(head) * factor, cfg, note)
             if head == "churn_risk" else _head_term(facts, head, cfg.weight(head), cfg)
             for head in sorted(scores, key=_head_order)]
    if cfg.version == "priority.v1":
        if facts.trend == "worsening":
            terms.append(Term("trend", cfg.worsening_minutes,
                              f"worsening trend (+{_mins(cfg.worsening_minutes)} min)",
                              plain="getting more upset with each message"))
    elif _rising(facts.frustration_rise, cfg):
        terms.append(_rising_term(facts.frustration_rise or 0.0, cfg))
    return terms


def _rising(rise: float | None, cfg: PolicyConfig) -> bool:
    return rise is not None and rise >= cfg.rising_frustration_min


def _rising_term(rise: float, cfg: PolicyConfig) -> Term:
    """Grows linearly from the smallest rise that counts to `rising_frustration_full`."""
    span = max(cfg.rising_frustration_full - cfg.rising_frustration_min, 1e-9)
    share = min(1.0, (rise - cfg.rising_frustration_min) / span)
    m = cfg.rising_frustration_minutes * (0.5 + 0.5 * share)
    return Term("frustration_trend", m,
                f"frustration rising over the conversation (+{rise:.2f}) (+{_mins(m)} min)",
                plain="more and more frustrated over the conversation")


def _head_order(head: str) -> tuple[int, str]:
    """Our heads in their documented order, then any other head by name."""
    order = ("frustration", "urgency", "churn_risk")
    return (order.index(head), "") if head in order else (len(order), head)


def _head_term(facts: TicketFacts, head: str, weight: float, cfg: PolicyConfig,
               note: str = "") -> Term:
    """`weight` scaled by how far the score is above the floor: 0 at the floor, 1 at p = 1."""
    p = (facts.scores or {})[head]
    minutes = weight * max(0.0, (p - cfg.score_floor) / (1.0 - cfg.score_floor))
    top = (facts.phrases or {}).get(head)
    detail = f"{head.replace('_', ' ')} {p:.2f} (+{_mins(minutes)} min{note})"
    return Term(head, minutes, detail, top[0] if top else None, head_words(head, p))


def _triage_term(facts: TicketFacts, cfg: PolicyConfig) -> Term:
    why = facts.unscorable_reason or "not scorable"
    m = cfg.needs_triage_minutes
    return Term("needs_triage", m, f"needs a human read: {why} (+{_mins(m)} min)",
                plain=unscorable_words(why))


def _customer_terms(facts: TicketFacts, years: float | None, cfg: PolicyConfig) -> list[Term]:
    terms = []
    if facts.customer_since is not None and years is not None:
        m = cfg.tenure_minutes_per_year * min(years, cfg.tenure_cap_years)
        terms.append(Term("tenure", m,
                          f"customer since {facts.customer_since.year} (+{_mins(m)} min)",
                          plain=tenure_words(years, facts.tier, facts.customer_since.year)))
    if facts.lifetime_value is not None:
        share = _value_fraction(facts.lifetime_value, cfg)
        m = cfg.value_minutes * share
        value = f"lifetime value {facts.lifetime_value:,.0f}"
        terms.append(Term("value", m, f"{value} (+{_mins(m)} min)",
                          plain=f"high-value customer ({value})" if share >= 0.7 else value))
    n = facts.repeat_contacts_7d
    if n > 0:
        m = cfg.repeat_minutes_per_contact * min(n, cfg.repeat_cap_contacts)
        plural = "" if n == 1 else "s"
        terms.append(Term("repeat_contacts", m,
                          f"{n} other contact{plural} in 7 days (+{_mins(m)} min)",
                          plain=f"wrote {n} other time{plural} in the last 7 days"))
    return terms


def _sla_term(tier: str, overdue: float, cfg: PolicyConfig) -> Term:
    """Rises linearly over the near-breach window before the due time; full after."""
    window = cfg.near_breach_minutes(cfg.sla_first_response_minutes[tier])
    progress = 1.0 if window <= 0 else min(1.0, max(0.0, 1.0 + overdue / window))
    m = cfg.sla_minutes * progress
    if overdue > 0:
        when = f"overdue by {_duration(overdue)}"
    else:
        when = f"due in {_duration(-overdue)}"
    return Term("sla", m, f"{tier} first response {when} (+{_mins(m)} min)",
                plain=f"{tier} customer's first reply {when}")


def _tenure_fraction(years: float | None, cfg: PolicyConfig) -> float:
    return 0.0 if years is None else min(years, cfg.tenure_cap_years) / cfg.tenure_cap_years


def _value_fraction(value: float | None, cfg: PolicyConfig) -> float:
    if value is None:
        return 0.0
    return min(1.0, math.log1p(value) / math.log1p(cfg.value_cap))


# --- escalation ------------------------------------------------------------------------


def _escalation_reasons(facts: TicketFacts, years: float | None, tier: str, overdue: float,
                        cfg: PolicyConfig) -> list[str]:
    reasons = ["escalated by an agent"] if facts.escalated_by_agent else []
    s = facts.scores if facts.scorable else None
    if s is not None:
        reasons += _loyal_at_risk(s, years, cfg) + _urgent_and_frustrated(s, cfg)
    limit = cfg.escalate_sla_breach_minutes
    if limit is not None and tier in cfg.escalate_sla_tiers and overdue > limit:
        reasons.append(f"{tier} first response overdue by {_duration(overdue)} "
                       f"(over {limit:g} min)")
    return reasons


def _loyal_at_risk(s: dict[str, float], years: float | None, cfg: PolicyConfig) -> list[str]:
    fr, ch, ty = cfg.escalate_frustration, cfg.escalate_churn_risk, cfg.escalate_tenure_years
    if fr is None or ch is None or ty is None or years is None:
        return []
    if not {"frustration", "churn_risk"} <= set(s):
        return []
    if s["frustration"] >= fr and s["churn_risk"] >= ch and years >= ty:
        return [(f"loyal customer at risk: frustration {s['frustration']:.2f} (>= {fr:g}), "
                 f"churn risk {s['churn_risk']:.2f} (>= {ch:g}), "
                 f"customer for {years:.1f} years (>= {ty:g})")]
    return []


def _urgent_and_frustrated(s: dict[str, float], cfg: PolicyConfig) -> list[str]:
    ur, fr = cfg.escalate_urgency, cfg.escalate_urgency_frustration
    if ur is None or fr is None or not {"urgency", "frustration"} <= set(s):
        return []
    if s["urgency"] >= ur and s["frustration"] >= fr:
        return [(f"urgent and frustrated: urgency {s['urgency']:.2f} (>= {ur:g}), "
                 f"frustration {s['frustration']:.2f} (>= {fr:g})")]
    return []


# --- time and text ---------------------------------------------------------------------


def _waiting_minutes(since: datetime, now: datetime, cfg: PolicyConfig) -> float:
    minutes = (now - since).total_seconds() / 60.0
    if minutes < -cfg.future_tolerance_minutes:
        raise InputError(f"waiting_since {since.isoformat()} is after now {now.isoformat()} "
                         f"by {-minutes:.1f} min (tolerance {cfg.future_tolerance_minutes:g}); "
                         "expected the time the customer began waiting, in the past")
    return max(0.0, minutes)


def _tenure_years(since: date | None, now: datetime) -> float | None:
    if since is None:
        return None
    days = (now.date() - since).days
    if days < 0:
        raise InputError(f"customer_since {since.isoformat()} is after today "
                         f"{now.date().isoformat()}; expected the date the customer joined")
    return days / 365.25


def _tier(tier: str | None, cfg: PolicyConfig) -> str:
    name = tier or cfg.default_tier
    if name not in cfg.sla_first_response_minutes:
        raise InputError(f"unknown tier {name!r}; expected one of "
                         f"{sorted(cfg.sla_first_response_minutes)}, or add it to the "
                         "policy's sla_first_response_minutes")
    return name


def _mins(m: float) -> str:
    return f"{m:.0f}" if m >= 1 or m == 0 else f"{m:.1f}"


def _duration(minutes: float) -> str:
    total = round(minutes)
    if total < 60:
        return f"{total} min"
    if total < 48 * 60:
        return f"{total // 60} h {total % 60:02d} min"
    return f"{total // 1440} d {total % 1440 // 60} h"


def _plain_with_phrase(t: Term) -> str:
    return f'{t.plain}: "{t.phrase}"' if t.phrase else str(t.plain)


def _with_phrase(detail: str, phrase: str | None) -> str:
    if not phrase or not detail.endswith(")"):
        return detail
    return f'{detail[:-1]}: "{phrase}")'


# --- validation ------------------------------------------------------------------------


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InputError(f"expected {name} as a datetime, found {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{name} {value.isoformat()} has no time zone; expected a tz-aware "
                         "UTC datetime (e.g. datetime.now(timezone.utc))")
    return value.astimezone(UTC)


def _number(value: Any, name: str, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InputError(f"expected {name} as a finite number, found {value!r}")
    if not low <= float(value) <= high:
        raise InputError(f"expected {name} between {low:g} and {high:g}, found {value!r}")
    return float(value)


def _check_scores(scores: Any) -> dict[str, float]:
    if not isinstance(scores, Mapping):
        raise InputError("a scorable ticket needs scores (head -> probability), found "
                         f"{scores!r}; pass scorable=False for a message the model cannot read")
    if not scores:
        raise InputError("a scorable ticket needs a score for at least one head, found none")
    return {check_head(str(h)): _number(v, f"score {h}", 0.0, 1.0) for h, v in scores.items()}


def _check_since(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, "customer_since").date()
    if not isinstance(value, date):
        raise InputError(f"expected customer_since as a date, found {type(value).__name__}")
    return value


def _check_tier_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected tier as a non-empty string, found {value!r}")
    return value.strip().lower()


def _check_phrases(value: Any) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputError(f"expected phrases as head -> list of phrases, found {value!r}")
    return {str(h): [_phrase_text(p) for p in ps] for h, ps in value.items()}


def _phrase_text(p: Any) -> str:
    text = getattr(p, "text", p)
    if not isinstance(text, str):
        raise InputError(f"expected a phrase as text, found {p!r}")
    return text


def _check_simple_facts(f: TicketFacts) -> None:
    if not isinstance(f.scorable, bool) or not isinstance(f.escalated_by_agent, bool):
        raise InputError("expected scorable and escalated_by_agent as booleans")
    if f.lifetime_value is not None:
        _number(f.lifetime_value, "lifetime_value")
    if isinstance(f.repeat_contacts_7d, bool) or not isinstance(f.repeat_contacts_7d, int) \
            or f.repeat_contacts_7d < 0:
        raise InputError("expected repeat_contacts_7d as a count >= 0, "
                         f"found {f.repeat_contacts_7d!r}")
    if f.trend is not None and f.trend not in TRENDS:
        raise InputError(f"expected trend as one of {list(TRENDS)} or None, found {f.trend!r}")
    if f.frustration_rise is not None:
        _number(f.frustration_rise, "frustration_rise", -1.0, 1.0)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "version":
        if not isinstance(value, str):
            raise InputError(f"expected version as one of {list(POLICY_VERSIONS)}, "
                             f"found {value!r}")
        return value
    if name == "head_minutes":
        if not isinstance(value, Mapping):
            raise InputError(f"expected {name} as head -> minutes, found {value!r}")
        return {check_head(str(k)): _number(v, f"{name}[{k}]") for k, v in value.items()}
    if name == "sla_first_response_minutes":
        if not isinstance(value, Mapping):
            raise InputError(f"expected {name} as tier -> minutes, found {value!r}")
        return {**default, **{str(k).strip().lower(): _number(v, f"{name}[{k}]")
                              for k, v in value.items()}}
    if name == "escalate_sla_tiers":
        if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
            raise InputError(f"expected {name} as a list of tier names, found {value!r}")
        return tuple(t.strip().lower() for t in value)
    if name == "default_tier":
        if value is None:
            raise InputError("expected default_tier as a tier name, found None")
        return _check_tier_name(value)
    if value is None and name in _OPTIONAL:
        return None
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected {name} as a whole number, found {value!r}")
        return value
    return _number(value, name, -math.inf)


def _check_config(c: PolicyConfig) -> None:
    for f in fields(c):
        value = getattr(c, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _number(value, f.name, 0.0, 1.0 if f.name in _UNIT else math.inf)
    _number(c.score_floor, "score_floor", 0.0, 0.99)
    for head, minutes in c.head_minutes.items():
        _number(minutes, f"head_minutes[{head}]")
    if c.rising_frustration_full <= c.rising_frustration_min:
        raise InputError("expected rising_frustration_full above rising_frustration_min")
    if c.sla_near_breach_fraction is not None and c.sla_near_breach_fraction <= 0:
        raise InputError("expected sla_near_breach_fraction above 0 (a share of each tier's "
                         "first-response target, e.g. 0.25)")
    if None not in (c.sla_near_breach_fraction, c.sla_near_breach_minutes):
        raise InputError("expected one of sla_near_breach_fraction and "
                         "sla_near_breach_minutes, found both; keep the one you mean")
    if c.tenure_cap_years <= 0 or c.value_cap <= 0:
        raise InputError("expected tenure_cap_years and value_cap above 0")
    sla = c.sla_first_response_minutes
    for tier, minutes in sla.items():
        if _number(minutes, f"sla_first_response_minutes[{tier}]") <= 0:
            raise InputError(f"expected sla_first_response_minutes[{tier}] above 0")
    missing = sorted({c.default_tier, *c.escalate_sla_tiers} - set(sla))
    if missing:
        raise InputError(f"tier(s) {missing} have no first-response target; expected them "
                         f"in sla_first_response_minutes {sorted(sla)}")


_DEFAULT_CONFIG = PolicyConfig()
