"""The service layer: cases from intake to resolution, on top of the scorer, policy and store.

A case (ticket) holds a transcript. Each customer message is scored, and the ticket's scores
are the **recency-weighted max** over its last `WINDOW` scorable customer messages: the
k-th newest counts `DECAY**k` times its score, so one furious message keeps a ticket warm
for a while after the customer calms down, but not forever. The **trend** compares the two
newest scorable customer messages: `worsening` when some head rose by `TREND_DELTA` or more
(and more than any head fell), `improving` in the opposite case, else `steady`.

**Positions** come from the pure policy (`triage.priority`). The store keeps, per ticket,
the policy's boost as of the last evaluation and the sort key `waiting_since - boost`, so the
database orders and claims tickets by position. The boost changes on its own only around the
first-response SLA (the ramp before the due time, and escalation after a breach): each
evaluation stores `review_at`, the next moment the policy's answer can change by itself, and
a sweep (before every queue read and claim, and in the API's background task) re-evaluates
due tickets, at most every `review_seconds` during a ramp. Positions shown in responses are
always recomputed at the moment of the request. Expired leases are returned to the queue by
the same sweep.

Every state change is one store transaction and writes the audit log.
"""

from triage.cases.cases import Cases, utcnow
from triage.cases.conversation import DECAY, TREND_DELTA, WINDOW, conversation, trend
from triage.cases.inputs import CustomerFacts, Labels, NewTicket, Outcome
from triage.cases.labels import export_labels, label_records
from triage.cases.views import case_view

__all__ = ["DECAY", "TREND_DELTA", "WINDOW", "Cases", "CustomerFacts", "Labels", "NewTicket",
           "Outcome", "case_view", "conversation", "export_labels", "label_records", "trend",
           "utcnow"]
