"""The agents' queue page in a real browser: a real `triage serve` (the e2e test's `server`
fixture, tiny ONNX model, SQLite file under tmp_path) and the system's Chromium driven by
Playwright. Skips only when /usr/bin/chromium or the playwright package is missing.

`TRIAGE_SCREENSHOT=1` also writes docs/img/queue-page.png (the page with a claimed case).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_service_e2e import cli, server  # noqa: F401  (the real server, reused)

try:
    from playwright.sync_api import Dialog, Page, expect, sync_playwright
    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_PLAYWRIGHT = False

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "queue-page.png"
XSS = "<img src=x onerror=alert(1)>"
LANES = ("supervisor", "needs_triage", "standard")

pytestmark = [
    pytest.mark.skipif(not HAVE_PLAYWRIGHT,
                       reason="playwright is not installed: pip install playwright "
                              "(no `playwright install` needed; the test uses /usr/bin/chromium)"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="no browser at /usr/bin/chromium: apt-get install -y chromium"),
]


@pytest.fixture
def browser_page() -> Iterator[tuple[Page, list[str], list[str]]]:
    """A fresh Chromium page; yields (page, uncaught script errors, dialog messages)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1100}).new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            dialogs: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def dismiss(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", dismiss)
            yield page, errors, dialogs
        finally:
            browser.close()


def _tickets() -> list[dict[str, Any]]:
    today = date.today()
    now = datetime.now(UTC)
    return [
        {"text": "Third time I write. I am furious, nothing works and after eight years "
                 "I am ready to cancel.", "channel": "email",
         "customer": {"customer_id": "c-42", "tier": "gold",
                      "customer_since": today.replace(year=today.year - 8, day=1).isoformat()}},
        {"text": "Hi, how do I update my billing address?\nThanks!", "channel": "chat",
         "subject": "Billing address", "created_at": (now - timedelta(minutes=10)).isoformat(),
         "customer": {"customer_id": "c-7", "customer_since": today.isoformat()}},
        {"text": f"My order {XSS} never arrived.\nPlease look into it.", "channel": "web",
         "created_at": (now - timedelta(hours=5)).isoformat(),
         "customer": {"customer_id": "c-9"}},
    ]


def _post_tickets(http: httpx.Client) -> dict[str, str]:
    """Intake through the API; returns case number -> message text."""
    texts = {}
    for body in _tickets():
        r = http.post("/v1/tickets", json=body)
        assert r.status_code == 201, r.text
        texts[r.json()["case_number"]] = body["text"]
    return texts


def _sign_in(page: Page, key: str) -> None:
    page.get_by_label("Agent API key").fill(key)
    page.get_by_role("button", name="Use key").click()


def _check_queue(page: Page, queue: dict[str, Any], texts: dict[str, str]) -> None:
    entries = page.locator(".entry")
    expect(entries).to_have_count(3)
    for lane in LANES:
        expect(page.locator(f'.lane[data-lane="{lane}"] h2')).to_be_visible()
    shown = {e["case_number"]: e for e in queue["entries"]}
    assert sorted(entries.evaluate_all("els => els.map(e => e.dataset.case)")) == sorted(texts)
    for number, entry in shown.items():
        card = page.locator(f'.entry[data-case="{number}"]')
        expect(card).to_have_count(1)
        assert card.evaluate("e => e.closest('.lane').dataset.lane") == entry["lane"]
        expect(card.locator(".why")).to_have_text(f"Why here: {entry['explanation']}")
        expect(card.locator("meter")).to_have_count(3)
        expect(card.locator(".clock")).to_contain_text("Waiting")
    first = page.locator(f'.entry[data-case="{queue["entries"][0]["case_number"]}"] .place')
    expect(first).to_contain_text("#1 to be claimed")
    counts = page.locator(".lane .count").all_text_contents()
    assert sum(int(re.findall(r"^\((\d+) waiting", c)[0]) for c in counts) == 3


def test_page_browser_queue_claim_resolve(server: tuple[str, dict[str, str], Path],  # noqa: F811
                                          browser_page: tuple[Page, list[str], list[str]]) -> None:
    base, env, _ = server
    page, errors, dialogs = browser_page
    key = cli(env, "keys", "create", "--role", "agent", "--name", "alice")[0]["key"]
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        texts = _post_tickets(http)
        queue = http.get("/v1/queue").json()
        xss_case = next(n for n, t in texts.items() if XSS in t)

        page.goto(f"{base}/")
        _sign_in(page, "not-a-real-key")
        banner = page.get_by_role("alert")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("AuthError (HTTP 401)")
        _sign_in(page, key)
        expect(banner).to_be_hidden()
        _check_queue(page, queue, texts)

        # customer text is text: the markup shows literally and never becomes an element
        expect(page.locator(f'.entry[data-case="{xss_case}"] .subject')).to_have_text(
            f"My order {XSS} never arrived.")
        expect(page.locator(f'.entry[data-case="{xss_case}"] .sla')).to_contain_text(
            "SLA BREACHED")

        page.get_by_role("button", name="Claim next").click()
        top = queue["entries"][0]["case_number"]
        expect(page.locator("#case-title")).to_contain_text(top)
        expect(page.locator("#transcript .message-text").first).to_have_text(texts[top])
        expect(page.locator(f'.entry[data-case="{top}"] .place')).to_contain_text(
            "Claimed by alice")
        if os.environ.get("TRIAGE_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

        form = page.locator("#feedback-form")
        form.get_by_label("Frustration").select_option("present")
        form.get_by_label("Customer satisfaction (CSAT)").select_option("4")
        form.get_by_role("button", name="Send feedback").click()
        expect(page.get_by_role("status")).to_contain_text(f"Feedback on {top} saved")
        feedback = http.get(f"/v1/tickets/{top}").json()["feedback"]
        assert [(f["labels"]["frustration"], f["csat"], f["actor"]) for f in feedback] \
            == [(1, 4, "alice")]

        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("#case")).to_be_hidden()
        expect(page.locator(".entry")).to_have_count(2)
        expect(page.locator(f'.entry[data-case="{top}"]')).to_have_count(0)
        assert http.get(f"/v1/tickets/{top}").json()["status"] == "resolved"
        assert len(http.get("/v1/queue").json()["entries"]) == 2

    if top != xss_case:
        page.get_by_role("button", name=f"Open {xss_case}").click()
        expect(page.locator("#transcript .message-text")).to_have_text(texts[xss_case])
    assert page.locator("img").count() == 0
    assert dialogs == []
    assert errors == []


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .opblock"),
                                                ("/redoc", "[data-section-id]")])
def test_page_browser_api_docs_render_offline(server: tuple[str, dict[str, str], Path],  # noqa: F811
                                              browser_page: tuple[Page, list[str], list[str]],
                                              path: str, rendered: str) -> None:
    """The OpenAPI pages draw the API from this server alone: no CDN, no font, no badge.

    ReDoc's menu asks for its vendor's logo; the page's CSP stops that in the browser
    (failure "csp") before it reaches the network, which is what is checked."""
    base, _, _ = server
    page, errors, _ = browser_page
    requests: list[str] = []
    blocked: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: blocked.append(request.url)
            if "csp" in (request.failure or "").lower() else None)
    page.route(re.compile(r"^(?!" + re.escape(base) + r")https?://.*"),
               lambda route: route.abort())
    page.goto(f"{base}{path}")
    expect(page.locator(rendered).first).to_be_visible()
    expect(page.get_by_text("/v1/tickets").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    outside = [url for url in requests if not url.startswith(base) and url not in blocked]
    assert outside == [], outside
    assert f"{base}/openapi.json" in requests
    assert errors == []


@pytest.mark.slow
def test_page_draws_every_head_of_a_model_with_a_fourth(
        tmp_path: Path, legal_model_dir: Path,
        browser_page: tuple[Page, list[str], list[str]]) -> None:
    """A data scientist's model with `legal_threat`: a bar per head, a correction per head."""
    from test_service_e2e import running_server

    page, errors, _ = browser_page
    with running_server(tmp_path, legal_model_dir) as (base, env, _log):
        key = cli(env, "keys", "create", "--role", "agent", "--name", "lee")[0]["key"]
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            made = http.post("/v1/tickets", json={"text": "My lawyer will hear about this "
                                                          "unpaid refund, I am furious."})
            assert made.status_code == 201, made.text
            number = made.json()["case_number"]
            page.goto(f"{base}/")
            _sign_in(page, key)
            card = page.locator(f'.entry[data-case="{number}"]')
            expect(card.locator(".score-name")).to_have_text(
                ["frustration", "churn risk", "urgency", "legal threat"])
            expect(card.locator('.score-name[title="threatens legal action"]')).to_have_count(1)
            page.get_by_role("button", name=f"Open {number}").click()
            form = page.locator("#feedback-form")
            form.get_by_label("Legal threat").select_option("present")
            form.get_by_role("button", name="Send feedback").click()
            expect(page.get_by_role("status")).to_contain_text(f"Feedback on {number} saved")
            labels = http.get(f"/v1/tickets/{number}").json()["feedback"][0]["labels"]
            assert labels == {"legal_threat": 1}
    assert errors == []
