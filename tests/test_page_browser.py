"""The agents' queue page in a real browser: a real `triage serve` (the e2e test's `server`
fixture, tiny ONNX model, SQLite file under tmp_path) and the system's Chromium driven by
Playwright. Skips only when /usr/bin/chromium or the playwright package is missing.

`TRIAGE_SCREENSHOT=1` also writes docs/img/queue-page.png (the page with a claimed case).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_service_e2e import cli, free_port, running_server, server  # noqa: F401

from triage.keys import create_key
from triage.models.progress import BUILDING, write_status
from triage.settings import Settings

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
TICKET_URLS = {"zendesk": "https://acme.zendesk.com/agent/tickets/{external_id}"}
GERMAN = ("Guten Tag, meine Bestellung ist seit drei Wochen nicht angekommen und niemand "
          "antwortet auf meine E-Mails. Bitte helfen Sie mir schnell.")
NUMBER_TALK = ("x1.", "(+", " min)", "position", "language:", "no_words")

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


@pytest.fixture
def page_server(tmp_path: Path, tiny_model_dir: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`triage serve` over the tiny model, with a link template for Zendesk tickets."""
    extra = {"TRIAGE_TICKET_URL_TEMPLATES": json.dumps(TICKET_URLS)}
    with running_server(tmp_path, tiny_model_dir, extra) as running:
        yield running


def _tickets() -> list[dict[str, Any]]:
    today = date.today()
    now = datetime.now(UTC)
    return [
        {"text": "Third time I write. I am furious, nothing works and after eight years "
                 "I am ready to cancel.", "channel": "email",
         "source": "zendesk", "external_id": "zd-4711",
         "customer": {"customer_id": "c-42", "tier": "gold",
                      "customer_since": today.replace(year=today.year - 8, day=1).isoformat()}},
        {"text": "Hi, how do I update my billing address?\nThanks!", "channel": "chat",
         "subject": "Billing address", "created_at": (now - timedelta(minutes=25)).isoformat(),
         "source": "zendesk", "external_id": "zd/42 ü",
         "customer": {"customer_id": "c-7", "tier": "platinum",
                      "customer_since": today.isoformat()}},
        {"text": f"My order {XSS} never arrived.\nPlease look into it.", "channel": "web",
         "created_at": (now - timedelta(hours=5)).isoformat(),
         "source": "freshdesk", "external_id": "fd-9",
         "customer": {"customer_id": "c-9"}},
        {"text": GERMAN, "channel": "email", "customer": {"customer_id": "c-11"},
         "created_at": (now - timedelta(minutes=130)).isoformat()},
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
    expect(entries).to_have_count(len(texts))
    for lane in LANES:
        expect(page.locator(f'.lane[data-lane="{lane}"] h2')).to_be_visible()
    shown = {e["case_number"]: e for e in queue["entries"]}
    assert sorted(entries.evaluate_all("els => els.map(e => e.dataset.case)")) == sorted(texts)
    for number, entry in shown.items():
        card = page.locator(f'.entry[data-case="{number}"]')
        expect(card).to_have_count(1)
        assert card.evaluate("e => e.closest('.lane').dataset.lane") == entry["lane"]
        expect(card.locator(".why")).to_have_text(f"Why here: {entry['summary']}")
        _check_words(card.locator(".why").inner_text() + card.locator(".place").inner_text()
                     + card.locator(".scores").inner_text())
        numbers = card.locator("details.numbers")
        expect(numbers.locator(".explanation")).to_be_hidden()
        numbers.locator("summary").click()
        expect(numbers.locator(".explanation")).to_have_text(entry["explanation"])
        expect(numbers).to_contain_text(re.compile(r"position \d+\.\d min = waiting"))
        expect(card.locator("meter")).to_have_count(3 if entry["scores"] else 0)
        expect(card.locator(".clock")).to_contain_text("Waiting")
    first = page.locator(f'.entry[data-case="{queue["entries"][0]["case_number"]}"] .place')
    expect(first).to_have_text("#1 to be claimed")
    counts = page.locator(".lane .count").all_text_contents()
    assert sum(int(re.findall(r"^\((\d+) waiting", c)[0]) for c in counts) == len(texts)


def _check_words(text: str) -> None:
    """The main lines speak an agent's language: none of the policy's numbers or codes."""
    found = [w for w in NUMBER_TALK if w in text]
    assert not found, (found, text)


def _check_links_and_sla(page: Page, queue: dict[str, Any]) -> None:
    """Each case shows its helpdesk id, linked where its source has a template; the SLA
    warning only in the last quarter of the target."""
    by_id = {e["external_id"]: e["case_number"] for e in queue["entries"]}
    card = page.locator(f'.entry[data-case="{by_id["zd-4711"]}"]')
    link = card.get_by_role("link", name="zendesk zd-4711")
    expect(link).to_have_attribute("href", "https://acme.zendesk.com/agent/tickets/zd-4711")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(card.locator(".sla")).to_have_class(re.compile(r"\bsla-ok\b"))  # new gold: not near
    near = page.locator(f'.entry[data-case="{by_id["zd/42 ü"]}"]')
    expect(near.get_by_role("link", name="zendesk zd/42 ü")).to_have_attribute(
        "href", "https://acme.zendesk.com/agent/tickets/zd%2F42%20%C3%BC")
    expect(near.locator(".sla")).to_contain_text("SLA near breach")  # platinum, 5 min left
    other = page.locator(f'.entry[data-case="{by_id["fd-9"]}"]')
    expect(other.locator(".external")).to_have_text("freshdesk fd-9")  # no template: no link
    expect(other.get_by_role("link")).to_have_count(0)
    german = page.locator(f'.entry[data-case="{by_id[None]}"] .why')
    expect(german).to_contain_text("written in German: needs a person who reads it")
    expect(german).to_contain_text("waiting 2 h 10 min")


def test_page_browser_queue_claim_resolve(page_server: tuple[str, dict[str, str], Path],
                                          browser_page: tuple[Page, list[str], list[str]]) -> None:
    base, env, _ = page_server
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
        expect(page.get_by_role("status")).to_contain_text("The key was refused")
        _sign_in(page, key)
        expect(banner).to_be_hidden()
        expect(page.get_by_role("status")).not_to_contain_text("refused")
        _check_queue(page, queue, texts)
        _check_links_and_sla(page, queue)

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
        top_case = http.get(f"/v1/tickets/{top}").json()
        expect(page.locator("#case-why")).to_have_text(f"Why: {top_case['summary']}")
        expect(page.locator("#case-explanation")).to_be_hidden()  # the numbers, folded away

        page.get_by_label("Reply to the customer").fill("Sorry about this: I am on it now.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.get_by_role("status")).to_contain_text(f"Reply on {top} sent")
        reply = page.locator("#transcript .message").last
        expect(reply).to_contain_text("agent (alice)")
        expect(reply.locator(".message-text")).to_have_text("Sorry about this: I am on it now.")
        sent = http.get(f"/v1/tickets/{top}").json()
        assert (sent["messages"][-1]["author"], sent["messages"][-1]["author_name"]) \
            == ("agent", "alice")
        assert sent["status"] == "waiting_on_customer" and sent["lease"] is None
        expect(page.locator(f'.entry[data-case="{top}"]')).to_have_count(0)

        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("#case")).to_be_hidden()
        expect(page.locator(".entry")).to_have_count(len(texts) - 1)
        expect(page.locator(f'.entry[data-case="{top}"]')).to_have_count(0)
        assert http.get(f"/v1/tickets/{top}").json()["status"] == "resolved"
        assert len(http.get("/v1/queue").json()["entries"]) == len(texts) - 1

    if top != xss_case:
        page.get_by_role("button", name=f"Open {xss_case}").click()
        expect(page.locator("#transcript .message-text")).to_have_text(texts[xss_case])
    assert page.locator("img").count() == 0
    assert dialogs == []
    assert errors == []


@pytest.fixture
def building_server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """The app in a thread while its default model is 'being built' (a status naming this
    live process, as the build child writes it); yields (base URL, model folder, key)."""
    import uvicorn

    from triage.api import create_app

    target = tmp_path / "models" / "default"
    target.parent.mkdir(parents=True)
    write_status(target, {"state": BUILDING, "phase": "training", "progress": 0.42,
                          "eta_s": 300, "pid": os.getpid()})
    app = create_app(Settings(home=tmp_path, sweep_seconds=0))
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    try:
        key = create_key(app.state.service.db, "alice", "agent")[0]
        yield f"http://127.0.0.1:{port}", target, key
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


def test_page_browser_shows_the_model_being_built(
        building_server: tuple[str, Path, str], tiny_model_dir: Path,
        browser_page: tuple[Page, list[str], list[str]]) -> None:
    """First start: the page shows the build's progress, not an error, then serves."""
    base, target, key = building_server
    page, errors, dialogs = browser_page
    page.goto(f"{base}/")
    building = page.locator("#building")
    expect(building).to_be_visible()  # before any key: /readyz needs none
    expect(building).to_contain_text("Building the model (first start)")
    expect(building).to_contain_text("42% done (training), about 5 min left.")
    assert page.locator("#building-progress").evaluate("p => p.value") == pytest.approx(0.42)
    _sign_in(page, key)
    expect(page.locator(".lane")).to_have_count(len(LANES))
    expect(page.locator("#meta")).to_contain_text("model building")
    page.get_by_role("button", name="Claim next").click()  # nothing queued: a notice
    expect(page.get_by_role("status")).to_contain_text("Nothing to claim")
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(building).to_be_visible()

    shutil.copytree(tiny_model_dir, target)  # the build is done: the server swaps it in
    expect(building).to_be_hidden(timeout=30_000)
    expect(page.locator("#meta")).not_to_contain_text("model building")
    expect(page.locator("#feedback-form select")).to_have_count(4)  # the model's 3 heads
    expect(page.get_by_role("alert")).to_be_hidden()
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
