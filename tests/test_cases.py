"""The service layer on both stores: intake, idempotency, queue order, leases, re-scoring."""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from triage.cases import Cases, CustomerFacts, Labels, NewTicket
from triage.errors import Conflict, InputError, NotFound, TextTooLong
from triage.priority import PolicyConfig
from triage.records import read_records
from triage.scoring import Scorer
from triage.store import Database
from triage.store.tables import Message

if TYPE_CHECKING:
    from conftest import Clock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANGRY = "I am furious, this is unacceptable. After all these years I will cancel my account."
CALM = "Hello, could you tell me how to change the delivery address on my order?"
OUTAGE = "Our whole shop is down since this morning, outage for all customers, urgent!"
CALM_2 = "Hi there, where can I find last month's invoice for my records please?"


@pytest.fixture
def cases(db: Database, keyword_scorer: Scorer, clock: Clock) -> Cases:
    return Cases(db, keyword_scorer, lease_seconds=300, clock=clock)


def loyal(cid: str = "c-42") -> CustomerFacts:
    return CustomerFacts(cid, customer_since=date(2018, 3, 1), tier="gold")


def newbie(cid: str = "c-7") -> CustomerFacts:
    return CustomerFacts(cid, customer_since=date(2026, 2, 20))


def order(cases: Cases, **kw: object) -> list[str]:
    return [e["case_number"] for e in cases.queue(**kw)["entries"]]  # type: ignore[arg-type]


# --- intake ------------------------------------------------------------------------------


def test_cases_intake_opens_a_scored_case_with_a_case_number(cases: Cases) -> None:
    out = cases.intake(NewTicket(CALM, channel="chat", customer=newbie()), "alice")
    case = out.case
    assert out.created
    assert case["case_number"] == "CS-2026-000001"
    assert case["status"] == "open" and case["lane"] == "standard"
    assert case["scores"] == {"frustration": 0.05, "churn_risk": 0.05, "urgency": 0.05}
    assert case["model_version"] == "keyword-test-1"
    assert case["priority"]["policy"] == "priority.v3"
    assert case["explanation"].endswith("waiting 0 min")


def test_cases_same_external_id_never_makes_two_cases(cases: Cases) -> None:
    first = cases.intake(NewTicket(CALM, external_id="zd-4711", customer=newbie()), "alice")
    again = cases.intake(NewTicket(CALM, external_id="zd-4711", customer=newbie()), "alice")
    other_source = cases.intake(NewTicket(CALM, source="freshdesk", external_id="zd-4711"), "a")
    assert first.created and not again.created and not again.appended
    assert again.case["case_number"] == first.case["case_number"]
    assert other_source.created and other_source.case["case_number"] == "CS-2026-000002"
    assert len(cases.get(first.case["case_number"])["messages"]) == 1


def test_cases_known_external_id_with_new_text_is_the_next_message(cases: Cases) -> None:
    cases.intake(NewTicket(CALM, external_id="zd-1", customer=loyal()), "alice")
    out = cases.intake(NewTicket(ANGRY, external_id="zd-1"), "alice")
    assert out.appended and not out.created
    detail = cases.get("CS-2026-000001")
    assert [m["text"] for m in detail["messages"]] == [CALM, ANGRY]
    assert detail["trend"] == "worsening"


def test_cases_concurrent_intakes_of_one_external_id_make_one_case(cases: Cases) -> None:
    barrier = threading.Barrier(4)
    got: list[str] = []

    def post() -> None:
        barrier.wait()
        got.append(cases.intake(NewTicket(CALM, external_id="zd-9", customer=newbie()),
                                "alice").case["case_number"])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["CS-2026-000001"] * 4
    assert len(cases.get("CS-2026-000001")["messages"]) == 1


@pytest.mark.parametrize("text, error", [("", InputError), ("   \n", InputError),
                                         ("x" * 20_001, TextTooLong)])
def test_cases_intake_rejects_empty_and_huge_text(cases: Cases, text: str, error: type) -> None:
    with pytest.raises(error):
        cases.intake(NewTicket(text), "alice")
    assert cases.queue()["entries"] == []


def test_cases_unknown_tier_is_refused_and_nothing_is_stored(cases: Cases) -> None:
    with pytest.raises(InputError, match="unknown tier 'diamond'"):
        cases.intake(NewTicket(CALM, customer=CustomerFacts("c-1", tier="diamond")), "alice")
    assert cases.queue()["depth"] == {"supervisor": 0, "needs_triage": 0, "standard": 0}


def test_cases_repeat_contacts_count_the_customers_last_week(cases: Cases,
                                                              clock: Clock) -> None:
    cases.intake(NewTicket(CALM, customer=newbie()), "alice")
    clock.advance(days=8)
    cases.intake(NewTicket(CALM_2, customer=newbie()), "alice")
    clock.advance(days=1)
    third = cases.intake(NewTicket(CALM, customer=newbie()), "alice").case
    assert third["repeat_contacts_7d"] == 1
    assert "1 other contact in 7 days" in third["explanation"]


def test_cases_unscorable_message_goes_to_needs_triage(cases: Cases) -> None:
    case = cases.intake(NewTicket("🙂🙂🙂 ... !!!"), "alice").case
    assert case["lane"] == "needs_triage" and not case["scorable"]
    assert case["unscorable_reason"] == "no_words"
    assert case["scores"] is None
    cases.intake(NewTicket(CALM, customer=newbie()), "alice")
    assert order(cases)[0] == case["case_number"]  # neutral-high, never the bottom


# --- queue order and escalation -------------------------------------------------------------


def test_cases_queue_puts_angry_loyal_and_urgent_before_calm(cases: Cases,
                                                            clock: Clock) -> None:
    calm = cases.intake(NewTicket(CALM, customer=newbie()), "a").case["case_number"]
    clock.advance(minutes=2)
    outage = cases.intake(NewTicket(OUTAGE, customer=newbie("c-8")), "a").case["case_number"]
    angry = cases.intake(NewTicket(ANGRY, customer=loyal()), "a").case["case_number"]
    clock.advance(minutes=1)
    view = cases.queue()
    assert [e["case_number"] for e in view["entries"]] == [angry, outage, calm]
    positions = [e["position"] for e in view["entries"]]
    assert positions == sorted(positions, reverse=True)
    assert view["depth"] == {"supervisor": 1, "needs_triage": 0, "standard": 2}
    top = view["entries"][0]
    assert top["lane"] == "supervisor" and top["status"] == "escalated"
    assert "loyal customer at risk" in top["priority"]["escalation_reason"]
    assert 'frustration 0.95' in top["explanation"] and '"I am furious,"' in top["explanation"]


def test_cases_queue_filters_by_lane_and_status(cases: Cases) -> None:
    cases.intake(NewTicket(ANGRY, customer=loyal()), "a")
    cases.intake(NewTicket(CALM, customer=newbie()), "a")
    assert order(cases, lanes=["supervisor"]) == ["CS-2026-000001"]
    assert order(cases, lanes=["standard"], limit=5) == ["CS-2026-000002"]
    cases.claim("bob")
    assert order(cases, statuses=["claimed"]) == ["CS-2026-000001"]
    assert order(cases, limit=1) == ["CS-2026-000002"]
    with pytest.raises(InputError, match="unknown lane"):
        cases.queue(lanes=["vip"])
    with pytest.raises(InputError, match="unknown status"):
        cases.queue(statuses=["done"])


def test_cases_calm_ticket_eventually_overtakes_newer_angry_ones(cases: Cases,
                                                                clock: Clock) -> None:
    calm = cases.intake(NewTicket(CALM, customer=newbie()), "a").case["case_number"]
    cases.sweep()
    clock.advance(hours=6)
    angry = cases.intake(NewTicket("This is unacceptable and I am angry."), "a").case
    assert order(cases)[0] == calm
    assert angry["position"] < cases.get(calm)["position"]


def test_cases_position_rises_as_the_sla_due_time_nears(cases: Cases, clock: Clock) -> None:
    plain = cases.intake(NewTicket(CALM_2), "a").case["case_number"]  # 4 h target
    clock.advance(minutes=20)
    gold = CustomerFacts("c-1", tier="gold")  # first response due within 60 min
    case = cases.intake(NewTicket(CALM, customer=gold), "a").case["case_number"]
    assert order(cases) == [plain, case]
    clock.advance(minutes=30)
    before = cases.get(case)
    clock.advance(minutes=31)
    after = cases.get(case)
    assert after["position"] - before["position"] > 31 + 25  # waiting + the SLA ramp
    assert after["priority"]["sla_breached"] is True
    assert "gold first response overdue by 1 min" in after["explanation"]
    view = cases.queue()  # the stored order followed the ramp without any new message
    assert [e["case_number"] for e in view["entries"]] == [case, plain]


@pytest.mark.parametrize(("policy", "ramp_from"), [(None, 45), ("priority.v2", 0)])
def test_cases_review_waits_for_the_near_breach_window(db: Database, keyword_scorer: Scorer,
                                                      clock: Clock, policy: str | None,
                                                      ramp_from: int) -> None:
    """A new gold ticket is next looked at when its SLA ramp starts: after 45 of its 60
    minutes under priority.v3 (a quarter of the target), at once under v2 (60 of 60)."""
    from triage.store.tables import Ticket

    config = PolicyConfig.from_dict({"version": policy} if policy else {})
    cases = Cases(db, keyword_scorer, lease_seconds=300, clock=clock, policy=config)
    case = cases.intake(NewTicket(CALM, customer=CustomerFacts("c-1", tier="gold")), "a").case
    with db.read() as s:
        t = s.get(Ticket, case["id"])
        waiting_since, review_at = t.waiting_since, t.review_at
    expected = timedelta(minutes=ramp_from) if ramp_from else timedelta(seconds=60)
    assert review_at - waiting_since == expected
    near = datetime.fromisoformat(case["priority"]["sla_near_breach_at"])
    assert near == waiting_since + timedelta(minutes=ramp_from)


def test_cases_sla_breach_moves_a_gold_ticket_to_the_supervisor(cases: Cases,
                                                                clock: Clock) -> None:
    case = cases.intake(NewTicket(CALM, customer=CustomerFacts("c-1", tier="gold")), "a").case
    assert case["lane"] == "standard"
    clock.advance(minutes=60 + 31)
    view = cases.queue(lanes=["supervisor"])
    assert [e["case_number"] for e in view["entries"]] == [case["case_number"]]
    assert view["entries"][0]["status"] == "escalated"
    audit = cases.get(case["case_number"])["audit"]
    assert any(a["action"] == "lane" and a["actor"] == "system" and a["detail"]["to"] ==
               "supervisor" for a in audit)


def test_cases_agent_escalation_goes_to_the_supervisor_lane(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM, customer=newbie()), "a").case["case_number"]
    claimed = cases.claim("bob")
    assert claimed is not None and claimed["case_number"] == number
    with pytest.raises(Conflict, match="held by 'bob'"):
        cases.escalate(number, "carol", "legal threat")
    out = cases.escalate(number, "bob", "legal threat")
    assert (out["lane"], out["status"], out["lease"]) == ("supervisor", "escalated", None)
    assert "escalated by an agent" in out["priority"]["escalation_reason"]
    cases.add_message(number, "Thanks, all good now.", "customer", "bob")
    assert cases.get(number)["lane"] == "supervisor"  # a hand escalation stays


# --- claims and leases -------------------------------------------------------------------------


def test_cases_claim_takes_the_top_ticket_with_a_lease(cases: Cases, clock: Clock) -> None:
    cases.intake(NewTicket(CALM, customer=newbie()), "a")
    cases.intake(NewTicket(OUTAGE), "a")
    got = cases.claim("bob")
    assert got is not None
    assert got["case_number"] == "CS-2026-000002" and got["status"] == "claimed"
    assert got["lease"] == {"holder": "bob", "key_id": None,
                            "expires_at": (START + timedelta(seconds=300)).isoformat()}
    assert order(cases) == ["CS-2026-000001"]
    assert cases.claim("carol", lanes=["supervisor"]) is None


def test_cases_heartbeat_extends_and_expiry_returns_the_ticket(cases: Cases,
                                                              clock: Clock) -> None:
    number = cases.intake(NewTicket(CALM, customer=newbie()), "a").case["case_number"]
    cases.claim("bob")
    clock.advance(seconds=200)
    lease = cases.heartbeat(number, "bob")["lease"]
    assert lease["expires_at"] == (START + timedelta(seconds=500)).isoformat()
    with pytest.raises(Conflict, match="held by 'bob'"):
        cases.heartbeat(number, "carol")
    clock.advance(seconds=299)
    assert order(cases) == []
    clock.advance(seconds=2)
    assert order(cases) == [number]
    assert cases.lease_expiries() == 1
    with pytest.raises(Conflict, match="not claimed"):
        cases.heartbeat(number, "bob")
    again = cases.claim("carol")
    assert again is not None and again["lease"]["holder"] == "carol"
    actions = [a["action"] for a in cases.get(number)["audit"]]
    assert actions.count("claimed") == 2 and "lease_expired" in actions


def test_cases_expired_lease_cannot_be_extended(cases: Cases, clock: Clock) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    cases.claim("bob")
    clock.advance(seconds=301)
    with pytest.raises(Conflict, match="expired"):
        cases.heartbeat(number, "bob")


def test_cases_release_puts_the_ticket_back_at_its_place(cases: Cases, clock: Clock) -> None:
    first = cases.intake(NewTicket(CALM), "a").case["case_number"]
    clock.advance(minutes=5)
    cases.intake(NewTicket(CALM_2), "a")
    cases.claim("bob")
    clock.advance(minutes=4)
    with pytest.raises(Conflict):
        cases.release(first, "carol")
    out = cases.release(first, "bob")
    assert out["status"] == "open" and out["lease"] is None
    assert order(cases)[0] == first
    assert out["priority"]["waiting_minutes"] == pytest.approx(9.0)


def test_cases_admin_may_release_anothers_claim(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    cases.claim("bob")
    assert cases.release(number, "root", admin=True)["status"] == "open"


def test_cases_concurrent_claims_never_share_a_ticket(cases: Cases) -> None:
    for i in range(6):
        cases.intake(NewTicket(f"{CALM} (order {i})"), "a")
    barrier = threading.Barrier(8)
    got: list[str | None] = []

    def agent(name: str) -> None:
        barrier.wait()
        claimed = cases.claim(name)
        got.append(None if claimed is None else claimed["case_number"])

    threads = [threading.Thread(target=agent, args=(f"agent-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [n for n in got if n is not None]
    assert len(won) == 6 and len(set(won)) == 6
    assert got.count(None) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_cases_claims_find_queued_work_while_others_sweep(cases: Cases, db: Database,
                                                         clock: Clock) -> None:
    """After a restart every queued ticket is due a re-evaluation; each claim used to lock
    all due rows for its sweep, so concurrent claims skipped them and answered "nothing to
    claim" with 40 tickets queued."""
    from sqlalchemy import update

    from triage.store.tables import Ticket

    for i in range(40):
        cases.intake(NewTicket(f"{CALM} (order {i})"), "a")
    rounds, agents = 5, 8
    barrier = threading.Barrier(agents)
    got: list[str | None] = []

    def agent(name: str) -> None:
        for _ in range(rounds):
            barrier.wait()
            claimed = cases.claim(name)
            got.append(None if claimed is None else claimed["case_number"])

    with db.write() as s:  # all due now, as after a restart
        s.execute(update(Ticket).values(review_at=START - timedelta(minutes=1)))
    threads = [threading.Thread(target=agent, args=(f"agent-{i}",)) for i in range(agents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [n for n in got if n is not None]
    assert got.count(None) == 0 and len(set(won)) == 40
    assert cases.claim("late") is None


def test_cases_a_second_key_with_the_holders_name_cannot_act(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    cases.claim("bob", key_id=1)
    with pytest.raises(Conflict, match="held by 'bob'"):
        cases.heartbeat(number, "bob", key_id=2)
    with pytest.raises(Conflict):
        cases.add_message(number, "Done.", "agent", "bob", key_id=2)
    assert cases.heartbeat(number, "bob", key_id=1)["lease"]["key_id"] == 1
    assert cases.add_message(number, "Done.", "agent", "sue", key_id=3,
                             admin=True).case["status"] == "waiting_on_customer"


@pytest.mark.parametrize("delta", [timedelta(days=-400), timedelta(hours=2)])
def test_cases_created_at_far_from_now_is_refused(cases: Cases, delta: timedelta) -> None:
    with pytest.raises(InputError, match="created_at"):
        cases.intake(NewTicket(CALM, created_at=START + delta), "a")


# --- re-scoring, replies, resolution ------------------------------------------------------------


def test_cases_new_messages_rescore_with_recency_weighted_max(cases: Cases) -> None:
    number = cases.intake(NewTicket(ANGRY, customer=loyal()), "a").case["case_number"]
    calmer = cases.add_message(number, "Thanks, that helped a bit.", "customer", "a").case
    assert calmer["trend"] == "improving"
    assert calmer["scores"]["frustration"] == pytest.approx(0.95 * 0.75, abs=1e-4)
    assert calmer["lane"] == "standard"  # no longer over the escalation rule
    worse = cases.add_message(number, "Still down, outage again!", "customer", "a").case
    assert worse["trend"] == "worsening"
    assert worse["scores"]["urgency"] == pytest.approx(0.97, abs=1e-4)
    history = cases.get(number)["score_history"]
    assert [h["trend"] for h in history] == [None, "improving", "worsening"]


def test_cases_agent_reply_waits_on_customer_until_they_answer(cases: Cases,
                                                              clock: Clock) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    cases.claim("bob")
    clock.advance(minutes=20)
    with pytest.raises(InputError, match="empty"):
        cases.add_message(number, "  ", "agent", "bob")
    waiting = cases.add_message(number, "Here is how: open Settings.", "agent", "bob").case
    assert (waiting["status"], waiting["lease"], waiting["position"]) == \
        ("waiting_on_customer", None, None)
    assert order(cases) == []
    clock.advance(minutes=30)
    back = cases.add_message(number, "That did not work.", "customer", "a").case
    assert back["status"] == "open"
    assert back["waiting_since"] == clock.now.isoformat()


def test_cases_resolve_and_reopen_on_a_new_customer_message(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    cases.claim("bob")
    with pytest.raises(Conflict, match="held by 'bob'"):
        cases.resolve(number, "carol")
    done = cases.resolve(number, "bob", note="address changed")
    assert done["status"] == "resolved" and done["resolved_at"] is not None
    assert cases.resolve(number, "bob")["status"] == "resolved"  # idempotent
    with pytest.raises(Conflict, match="resolved"):
        cases.escalate(number, "bob")
    reopened = cases.add_message(number, "It changed back!", "customer", "a").case
    assert reopened["status"] == "open" and reopened["resolved_at"] is None
    assert "reopened" in [a["action"] for a in cases.get(number)["audit"]]


def test_cases_unknown_case_is_not_found(cases: Cases) -> None:
    with pytest.raises(NotFound, match="CS-2026-000404"):
        cases.get("CS-2026-000404")
    with pytest.raises(NotFound):
        cases.add_message("nope", CALM, "customer", "a")


def test_cases_audit_records_every_score_and_move(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM, external_id="zd-5"), "alice").case["case_number"]
    cases.claim("bob")
    cases.resolve(number, "bob")
    audit = cases.get(number)["audit"]
    assert [a["action"] for a in audit] == ["created", "message", "scored", "status",
                                            "claimed", "status", "resolved"]
    assert audit[0]["actor"] == "alice" and audit[4]["actor"] == "bob"
    assert audit[2]["detail"]["scores"]["frustration"] == 0.05


# --- feedback and label export -------------------------------------------------------------


def test_cases_feedback_exports_as_a_labelled_file_train_accepts(cases: Cases,
                                                                 tmp_path: Path) -> None:
    a = cases.intake(NewTicket(CALM), "a").case["case_number"]
    b = cases.intake(NewTicket(CALM_2), "a").case["case_number"]
    c = cases.intake(NewTicket(OUTAGE), "a").case["case_number"]
    cases.feedback(a, Labels({"frustration": 1}), "bob")
    cases.feedback(a, Labels({"frustration": 0, "urgency": 1}), "carol")  # latest correction wins
    cases.feedback(b, Labels(csat=1, comment="slow"), "bob")
    cases.feedback(c, Labels(csat=5), "bob")
    buf = io.StringIO()
    assert cases.export_labels(buf) == 1
    out = tmp_path / "labels.jsonl"
    out.write_text(buf.getvalue(), encoding="utf-8")
    records = read_records(out)
    assert [(r.text, r.labels) for r in records] == [
        (CALM, {"frustration": 0, "churn_risk": None, "urgency": 1})]
    assert records[0].id == f"{a}/1"
    buf = io.StringIO()
    assert cases.export_labels(buf, csat_as_frustration=True) == 2
    assert '"frustration": 1' in buf.getvalue().splitlines()[1]


def test_cases_feedback_must_say_something(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    with pytest.raises(InputError, match="feedback is empty"):
        cases.feedback(number, Labels(), "bob")
    with pytest.raises(NotFound, match="no message 99"):
        cases.feedback(number, Labels({"frustration": 1}, message_id=99), "bob")


def test_cases_feedback_refuses_a_head_the_model_does_not_score(cases: Cases) -> None:
    number = cases.intake(NewTicket(CALM), "a").case["case_number"]
    with pytest.raises(InputError, match="unknown head"):
        cases.feedback(number, Labels({"politeness": 1}), "bob")
    with pytest.raises(InputError, match="0 or 1"):
        cases.feedback(number, Labels({"urgency": 2}), "bob")


def test_cases_frustration_rising_across_messages_moves_the_case_up_in_v2(
        db: Database, keyword_scorer: Scorer, clock: Clock) -> None:
    """priority.v2 reads the trend of frustration across the customer's messages."""
    v2 = Cases(db, keyword_scorer, clock=clock, explain_top=0)
    first = v2.intake(NewTicket("Hello, my parcel has not arrived yet."), "a").case
    assert first["frustration_trend"] is None
    number = first["case_number"]
    v2.add_message(number, "I am annoyed, still nothing.", "customer", "a")
    case = v2.add_message(number, "Now I am angry. Where is it?", "customer", "a").case
    trend = case["frustration_trend"]
    assert trend["direction"] == "rising" and trend["change"] == pytest.approx(0.75, abs=1e-4)
    terms = {t["name"]: t for t in case["priority"]["terms"]}
    assert terms["frustration_trend"]["minutes"] > 0
    assert "frustration rising over the conversation (+0.75)" in case["explanation"]
    v1 = Cases(db, keyword_scorer, clock=clock, explain_top=0,
               policy=PolicyConfig(version="priority.v1"))
    again = v1.get(number)
    assert again["priority"]["policy"] == "priority.v1"
    assert "frustration_trend" not in {t["name"] for t in again["priority"]["terms"]}
    assert again["position"] < case["position"]


def test_conversation_rise_is_a_least_squares_change() -> None:
    from triage.cases.conversation import direction, rise

    def msgs(*values: float) -> list[Message]:  # newest first, as the store returns them
        return [Message(scores={"frustration": v}, scorable=True) for v in reversed(values)]

    assert rise(msgs(0.1), "frustration") is None
    assert rise(msgs(0.1, 0.5), "frustration") == pytest.approx(0.4)
    assert rise(msgs(0.1, 0.3, 0.5, 0.7), "frustration") == pytest.approx(0.6)
    assert rise(msgs(0.9, 0.1, 0.9), "frustration") == pytest.approx(0.0)
    assert rise(msgs(0.5, 0.5), "urgency") is None
    assert [direction(c) for c in (0.2, 0.0, -0.3, None)] == ["rising", "steady", "falling",
                                                               None]
