// The agents' queue page. Plain browser JavaScript, no build step, no dependencies.
//
// Customer text is untrusted: it only ever reaches the page through `textContent`
// (never innerHTML), and the server's Content-Security-Policy allows no inline script.
"use strict";

(() => {
  const STORAGE_KEY = "triage.key";
  const QUEUE_URL = "/v1/queue?limit=200&status=open&status=escalated&status=claimed";
  const REFRESH_MS = 5000;
  const PREVIEW_CHARS = 160;
  const READY_POLL_MS = 3000;

  const state = {
    key: null,
    heads: [], // the model's heads, in its order (from /v1/model's manifest)
    descriptions: {}, // head -> what it means
    ticketUrls: {}, // ticket source -> link template with {external_id} (from /v1/model)
    building: false, // the default model is being built (first start): /readyz says so
    readyTimer: null,
    skewMs: 0, // server clock minus this browser's clock
    open: null, // the case shown in the panel: {number, holder, held, expires}
    previews: new Map(), // case number -> first line of the first customer message
    pending: new Set(),
    refreshing: false,
    timer: null,
    beat: null,
    bannerFromRefresh: false,
  };

  const $ = (id) => document.getElementById(id);

  // --- small helpers ------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function now() {
    return new Date(Date.now() + state.skewMs);
  }

  function clock(value) {
    const d = value instanceof Date ? value : new Date(value);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function stamp(value) {
    const d = new Date(value);
    return `${d.toLocaleDateString()} ${clock(d)}`;
  }

  function duration(minutes) {
    const m = Math.max(0, Math.round(minutes));
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${m % 60} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }

  function firstLine(text) {
    const line = (text || "").split(/\r?\n/).map((s) => s.trim()).find((s) => s) || "";
    return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
  }

  function say(text) {
    $("notice").textContent = text;
  }

  // A link to the ticket in its helpdesk, from the operator's template for its source; only
  // http(s), the id URL-encoded. Null when there is no template or the result is no URL.
  function ticketUrl(source, externalId) {
    const template = state.ticketUrls[source];
    if (typeof template !== "string" || !externalId) return null;
    const url = template.split("{external_id}").join(encodeURIComponent(externalId));
    try {
      const parsed = new URL(url);
      return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
    } catch (err) {
      return null;
    }
  }

  function externalNode(c) {
    if (!c.external_id) return null;
    const label = `${c.source} ${c.external_id}`;
    const url = ticketUrl(c.source, c.external_id);
    if (!url) return el("span", "tag external", label);
    const a = el("a", "tag external", label);
    Object.assign(a, { href: url, target: "_blank", rel: "noopener noreferrer",
      title: `Open ${c.external_id} in ${c.source}` });
    return a;
  }

  // The policy's numbers, for the detail view: position, the API's explanation, escalation.
  function numberLines(c) {
    const p = c.priority;
    const lines = [];
    if (p) {
      lines.push(`position ${p.position.toFixed(1)} min = waiting ${p.waiting_minutes.toFixed(1)}` +
        ` + head start ${p.boost_minutes.toFixed(1)} min (${p.policy})`);
      for (const t of p.terms) {
        lines.push(`${t.name}: ${t.detail}${t.phrase ? ` "${t.phrase}"` : ""}`);
      }
      if (p.escalation_reason) lines.push(`escalated: ${p.escalation_reason}`);
    }
    if (c.unscorable_reason) lines.push(`unscorable_reason: ${c.unscorable_reason}`);
    return lines;
  }

  function numbersNode(entry, open) {
    const box = el("details", "numbers");
    box.open = open;
    box.append(el("summary", null, "The numbers"));
    box.append(el("p", "explanation", entry.explanation || ""));
    const list = el("ul");
    list.append(...numberLines(entry).map((line) => el("li", null, line)));
    box.append(list);
    return box;
  }

  // --- the API ------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super(body.error || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.key}` };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, { error: "cannot reach the triage server; check that it is " +
        "running, then retry", error_type: "NetworkError", detail: null });
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ApiError(res.status, data && data.error ? data :
        { error: `HTTP ${res.status} ${res.statusText}`, error_type: "HTTPError", detail: null });
    }
    return data;
  }

  const ticketPath = (number, action) =>
    `/v1/tickets/${encodeURIComponent(number)}${action ? `/${action}` : ""}`;

  // --- the error banner ---------------------------------------------------------------------

  function showError(err, fromRefresh = false) {
    const e = err instanceof ApiError ? err : new ApiError(0, {
      error: String((err && err.message) || err), error_type: "PageError", detail: null });
    $("banner-title").textContent =
      `${e.body.error_type || "Error"}${e.status ? ` (HTTP ${e.status})` : ""}:`;
    $("banner-text").textContent = e.body.error || "";
    if (e.body.error_type === "ModelBuilding") {
      showBuilding(e.body.detail || {}); // a first start, not an error: show the progress
      scheduleReady();
      return;
    }
    renderDetail(e.body.detail);
    $("banner").hidden = false;
    state.bannerFromRefresh = fromRefresh;
    if (e.status === 401) signOut("The key was refused; enter a valid agent key.");
  }

  function renderDetail(detail) {
    const list = $("banner-detail");
    list.replaceChildren();
    const items = Array.isArray(detail) ? detail.map((d) =>
      d && typeof d === "object" && "message" in d ? `${d.field}: ${d.message}` : JSON.stringify(d))
      : detail && typeof detail === "object"
        ? Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
        : [];
    for (const item of items) list.append(el("li", "", item));
  }

  function hideError() {
    $("banner").hidden = true;
    state.bannerFromRefresh = false;
  }

  // --- the first start: the model is being built --------------------------------------------

  async function checkReady() {
    let res;
    let body = null;
    try {
      res = await fetch("/readyz", { cache: "no-store" });
      body = await res.json().catch(() => null);
    } catch (err) {
      if (state.building) scheduleReady(); // the server may be restarting: look again
      return;
    }
    if (res.status === 503 && body && body.state === "building model") {
      showBuilding(body);
      scheduleReady();
      return;
    }
    const wasBuilding = state.building;
    hideBuilding();
    if (wasBuilding && state.key) {
      await act(async () => {
        await loadModel(); // the new model's heads and version
        await refresh();
      });
    }
  }

  function scheduleReady() {
    clearTimeout(state.readyTimer);
    state.readyTimer = setTimeout(checkReady, READY_POLL_MS);
  }

  function showBuilding(status) {
    state.building = true;
    const done = Math.max(0, Math.min(1, Number(status.progress) || 0));
    const eta = status.eta_s;
    const left = typeof eta !== "number" ? "time left not known yet"
      : eta < 60 ? "less than a minute left" : `about ${duration(eta / 60)} left`;
    $("building-progress").value = done;
    $("building-text").textContent =
      `${Math.round(done * 100)}% done${status.phase ? ` (${status.phase})` : ""}, ${left}.`;
    $("building").hidden = false;
  }

  function hideBuilding() {
    state.building = false;
    clearTimeout(state.readyTimer);
    $("building").hidden = true;
  }

  // --- the queue ----------------------------------------------------------------------------

  async function refresh() {
    if (state.refreshing || !state.key) return;
    state.refreshing = true;
    try {
      const queue = await api("GET", QUEUE_URL);
      state.skewMs = new Date(queue.now).getTime() - Date.now();
      renderQueue(queue);
      $("updated").textContent = `Updated ${clock(now())}`;
      if (state.bannerFromRefresh) hideError();
      fillPreviews(queue.entries);
    } catch (err) {
      showError(err, true);
    } finally {
      state.refreshing = false;
    }
  }

  function headName(head) {
    return head.replaceAll("_", " ");
  }

  function renderQueue(queue) {
    const at = new Date(queue.now);
    const opened = new Set(Array.from(document.querySelectorAll(".entry details[open]"),
      (d) => d.closest(".entry").dataset.case));
    let rank = 0;
    const lanes = Object.keys(queue.depth); // every lane, in the server's order
    const byLane = Object.fromEntries(lanes.map((lane) => [lane, []]));
    for (const entry of queue.entries) {
      const queued = entry.status !== "claimed";
      if (queued) rank += 1;
      (byLane[entry.lane] || byLane[lanes[lanes.length - 1]])
        .push(entryNode(entry, queued ? rank : null, at, opened.has(entry.case_number)));
    }
    for (const lane of lanes) renderLane(lane, byLane[lane], queue.depth[lane] || 0);
  }

  function laneSection(lane) {
    const found = document.querySelector(`.lane[data-lane="${lane}"]`);
    if (found) return found;
    const title = headName(lane).replace(/^./, (c) => c.toUpperCase());
    const section = el("section", "lane");
    section.dataset.lane = lane;
    section.setAttribute("aria-labelledby", `lane-${lane}`);
    const h2 = el("h2", null, `${title} `);
    h2.id = `lane-${lane}`;
    h2.append(el("span", "count"));
    const list = el("ol", "entries");
    list.setAttribute("aria-label", `${title} lane, in claim order`);
    section.append(h2, list);
    $("lanes").append(section);
    return section;
  }

  function renderLane(lane, nodes, depth) {
    const section = laneSection(lane);
    const claimed = nodes.filter((n) => n.dataset.status === "claimed").length;
    section.querySelector(".count").textContent =
      `(${depth} waiting${claimed ? `, ${claimed} claimed` : ""})`;
    const list = section.querySelector(".entries");
    if (!nodes.length) nodes = [el("li", "empty", "No tickets here.")];
    list.replaceChildren(...nodes);
  }

  function entryNode(entry, rank, at, open) {
    const li = el("li", `entry status-${entry.status}`);
    li.dataset.case = entry.case_number;
    li.dataset.status = entry.status;
    const card = el("article");
    card.setAttribute("aria-label", `Case ${entry.case_number}`);
    card.append(entryHead(entry), entrySubject(entry), entryPlace(entry, rank));
    card.append(scoreBars(entry),
      el("p", "why", `Why here: ${entry.summary || entry.explanation || "n/a"}`),
      numbersNode(entry, open));
    card.append(entryClock(entry, at), openButton(entry));
    li.append(card);
    return li;
  }

  function entryHead(entry) {
    const head = el("header", "entry-head");
    head.append(el("h3", "case-number", entry.case_number));
    const external = externalNode(entry);
    if (external) head.append(external);
    head.append(el("span", "tag channel", entry.channel));
    head.append(el("span", `tag status`, entry.status.replaceAll("_", " ")));
    if (entry.trend) head.append(el("span", `tag trend-${entry.trend}`, entry.trend));
    const ft = entry.frustration_trend;
    if (ft && ft.direction !== "steady") {
      const tag = el("span", `tag frustration-${ft.direction}`, `frustration ${ft.direction}`);
      tag.title = `frustration changed by ${ft.change >= 0 ? "+" : ""}${ft.change.toFixed(2)} ` +
        "across the customer's messages";
      head.append(tag);
    }
    return head;
  }

  function entrySubject(entry) {
    const p = el("p", "subject");
    p.textContent = entry.subject || state.previews.get(entry.case_number) || "…";
    return p;
  }

  function entryPlace(entry, rank) {
    if (entry.lease) {
      return el("p", "place claimed", `Claimed by ${entry.lease.holder}` +
        (entry.lease.expires_at ? `, lease until ${clock(entry.lease.expires_at)}` : ""));
    }
    return el("p", "place", `#${rank} to be claimed`);
  }

  function scoreBars(entry) {
    const box = el("div", "scores");
    if (!entry.scores) {
      box.append(el("p", "unscored", "Not scored: the model could not read it, so a person " +
        "reads it first."));
      return box;
    }
    for (const head of orderedHeads(entry.scores)) box.append(scoreBar(head, entry.scores[head]));
    return box;
  }

  function orderedHeads(scores) {
    // the model's heads first, in its order; then any head an older model scored
    const known = state.heads.filter((h) => h in scores);
    return known.concat(Object.keys(scores).filter((h) => !known.includes(h)));
  }

  function scoreBar(head, value) {
    const row = el("div", "score");
    const meter = el("meter");
    Object.assign(meter, { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 0, value });
    meter.setAttribute("aria-label", headName(head));
    const name = el("span", "score-name", headName(head));
    if (state.descriptions[head]) name.title = state.descriptions[head];
    row.append(name, meter,
      el("span", "score-value", value.toFixed(2)));
    return row;
  }

  function entryClock(entry, at) {
    const box = el("p", "clock");
    const p = entry.priority;
    if (!p) return box;
    box.append(el("span", "waiting", `Waiting ${duration(p.waiting_minutes)}`));
    const sla = slaState(p, at);
    box.append(el("span", `sla sla-${sla.state}`, sla.text));
    return box;
  }

  function slaState(priority, at) {
    const due = new Date(priority.sla_due_at);
    const left = (due.getTime() - at.getTime()) / 60000;
    if (priority.sla_breached || left <= 0) {
      return { state: "breached", text: `⚠ SLA BREACHED: was due ${clock(due)} ` +
        `(${duration(-left)} ago)` };
    }
    if (at >= new Date(priority.sla_near_breach_at || priority.sla_due_at)) {
      return { state: "near", text: `⚠ SLA near breach: due ${clock(due)} (in ${duration(left)})` };
    }
    return { state: "ok", text: `SLA due ${clock(due)} (in ${duration(left)})` };
  }

  function openButton(entry) {
    const button = el("button", "open", `Open ${entry.case_number}`);
    button.type = "button";
    button.addEventListener("click", () => act(() => openCase(entry.case_number, null)));
    return button;
  }

  // Queue entries carry no message text: fetch each case's first line once, a few at a time.
  function fillPreviews(entries) {
    const missing = entries.filter((e) => !e.subject && !state.previews.has(e.case_number) &&
      !state.pending.has(e.case_number)).map((e) => e.case_number);
    for (const number of missing) state.pending.add(number);
    for (let i = 0; i < 4; i += 1) previewWorker(missing);
  }

  async function previewWorker(numbers) {
    while (numbers.length) {
      const number = numbers.shift();
      try {
        const c = await api("GET", ticketPath(number));
        const first = c.messages.find((m) => m.author === "customer") || c.messages[0];
        state.previews.set(number, firstLine(first ? first.text : "") || "(no text)");
        setPreview(number);
      } catch (err) {
        if (err.status === 401) return showError(err);
      } finally {
        state.pending.delete(number);
      }
    }
  }

  function setPreview(number) {
    for (const li of document.querySelectorAll(".entry")) {
      if (li.dataset.case !== number) continue;
      const p = li.querySelector(".subject");
      if (p.textContent === "…") p.textContent = state.previews.get(number);
    }
  }

  // --- one case -----------------------------------------------------------------------------

  // `holder`: our name on the lease when we just claimed it (null to only look at the case).
  async function openCase(number, holder) {
    const c = await api("GET", ticketPath(number));
    const held = Boolean(holder);
    state.open = { number: c.case_number, holder, held, expires: c.lease && c.lease.expires_at };
    renderCase(c);
    $("case").hidden = false;
    if (held) startHeartbeat();
    $("case-title").focus();
  }

  function renderCase(c) {
    const held = state.open && state.open.held;
    $("case-title").textContent = `${c.case_number}: ${c.subject || firstLine(
      (c.messages[0] || {}).text) || "(no subject)"}`;
    $("case-facts").textContent = caseFacts(c);
    const external = externalNode(c);
    if (external) $("case-facts").prepend(external, " · ");
    $("case-lease").textContent = c.lease ? `Claimed by ${c.lease.holder}` +
      (c.lease.expires_at ? `, lease until ${clock(c.lease.expires_at)} (kept alive while ` +
        "this panel is open)" : "") : "Not claimed.";
    $("case-why").textContent = `Why: ${c.summary || c.explanation || "n/a"}`;
    $("case-explanation").textContent = c.explanation || "";
    $("case-terms").replaceChildren(...numberLines(c).map((line) => el("li", null, line)));
    $("transcript").replaceChildren(...c.messages.map(messageNode));
    $("release").hidden = !held;
    $("close-case").hidden = held;
  }

  function caseFacts(c) {
    const parts = [`status ${c.status.replaceAll("_", " ")}`, `lane ${c.lane.replace("_", " ")}`,
      `channel ${c.channel}`];
    const who = c.customer;
    if (who) {
      parts.push(`customer ${who.customer_id}`);
      if (who.customer_since) parts.push(`since ${who.customer_since}`);
      if (who.tier) parts.push(`tier ${who.tier}`);
    }
    if (c.trend) parts.push(`trend ${c.trend}`);
    if (c.repeat_contacts_7d) parts.push(`${c.repeat_contacts_7d} earlier contacts in 7 days`);
    return parts.join(" · ");
  }

  function messageNode(m) {
    const li = el("li", `message author-${m.author}`);
    const who = m.author_name ? `${m.author} (${m.author_name})` : m.author;
    li.append(el("p", "message-meta", `${who} · ${stamp(m.created_at)}`));
    li.append(el("p", "message-text", m.text));
    if (m.scores) {
      const scores = orderedHeads(m.scores)
        .map((h) => `${headName(h)} ${m.scores[h].toFixed(2)}`).join(" · ");
      li.append(el("p", "message-scores", scores));
    } else if (m.author === "customer" && m.unscorable_reason) {
      const note = el("p", "message-scores", "not scored: the model could not read it");
      note.title = m.unscorable_reason;
      li.append(note);
    }
    return li;
  }

  function closeCase() {
    stopHeartbeat();
    state.open = null;
    $("case").hidden = true;
    $("escalate-reason").value = "";
    $("feedback-form").reset();
    $("reply-form").reset();
  }

  function startHeartbeat() {
    stopHeartbeat();
    const left = state.open.expires ? new Date(state.open.expires) - now() : 60000;
    const every = Math.min(60000, Math.max(5000, left / 3));
    state.beat = setInterval(() => act(heartbeat), every);
  }

  function stopHeartbeat() {
    if (state.beat) clearInterval(state.beat);
    state.beat = null;
  }

  async function heartbeat() {
    if (!state.open || !state.open.held) return;
    try {
      const c = await api("POST", ticketPath(state.open.number, "heartbeat"));
      state.open.expires = c.lease && c.lease.expires_at;
      $("case-lease").textContent = `Claimed by ${c.lease.holder}, lease until ` +
        `${clock(c.lease.expires_at)} (kept alive while this panel is open)`;
    } catch (err) {
      stopHeartbeat();
      state.open.held = false;
      throw err;
    }
  }

  // --- actions ------------------------------------------------------------------------------

  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      showError(err);
      if (state.key && err instanceof ApiError && err.status >= 400) await resync();
    }
  }

  // After a refused action (say the lease expired, or someone else acted first), show the
  // queue and the open case as they are now; the banner keeps saying what went wrong.
  async function resync() {
    await refresh();
    if (!state.open) return;
    try {
      await reloadCase();
    } catch (err) {
      // the banner already explains the first failure
    }
  }

  // The open case as it is now; the heartbeat stops when the lease is no longer ours.
  async function reloadCase() {
    const c = await api("GET", ticketPath(state.open.number));
    const mine = c.status === "claimed" && c.lease && c.lease.holder === state.open.holder;
    if (!mine) {
      stopHeartbeat();
      state.open.held = false;
    }
    renderCase(c);
  }

  // An agent reply: written by this key's holder (the server says who); the case then
  // waits on the customer, so the lease ends and the panel shows the case as it is now.
  async function sendReply(form) {
    const text = $("reply-text").value.trim();
    if (!text) {
      throw new ApiError(0, { error: "nothing to send: write a reply first",
        error_type: "InputError", detail: null });
    }
    const number = state.open.number;
    await api("POST", ticketPath(number, "messages"), { author: "agent", text });
    form.reset();
    say(`Reply on ${number} sent.`);
    await reloadCase();
    await refresh();
  }

  async function claimNext() {
    const c = await api("POST", "/v1/queue/claim");
    if (c === null) {
      say("Nothing to claim: every lane is empty.");
      return;
    }
    say(`Claimed ${c.case_number}.`);
    await openCase(c.case_number, c.lease && c.lease.holder);
    await refresh();
  }

  async function finish(action, body, message) {
    const number = state.open.number;
    await api("POST", ticketPath(number, action), body);
    say(`${number} ${message}.`);
    closeCase();
    await refresh();
  }

  function labelInputs(heads) {
    // one correction per head the model scores, before the CSAT field
    const box = $("label-fields");
    box.replaceChildren(...heads.map((head) => {
      const label = el("label", null, headName(head).replace(/^./, (c) => c.toUpperCase()) + " ");
      const select = el("select");
      select.name = `label-${head}`;
      for (const [value, text] of [["", "no correction"], ["1", "present"], ["0", "absent"]]) {
        const option = el("option", null, text);
        option.value = value;
        select.append(option);
      }
      label.append(select);
      return label;
    }));
  }

  async function sendFeedback(form) {
    const data = new FormData(form);
    const labels = {};
    for (const head of state.heads) {
      if (data.get(`label-${head}`)) labels[head] = Number(data.get(`label-${head}`));
    }
    const body = {};
    if (Object.keys(labels).length) body.labels = labels;
    if (data.get("csat")) body.csat = Number(data.get("csat"));
    if (data.get("comment").trim()) body.comment = data.get("comment").trim();
    if (!Object.keys(body).length) {
      throw new ApiError(0, { error: "nothing to send: pick a label correction or a CSAT " +
        "score, or write a comment", error_type: "InputError", detail: null });
    }
    await api("POST", ticketPath(state.open.number, "feedback"), body);
    form.reset();
    say(`Feedback on ${state.open.number} saved. Thank you.`);
  }

  // --- the key and the page's life ----------------------------------------------------------

  async function loadModel() {
    const model = await api("GET", "/v1/model");
    state.heads = model.manifest.heads || [];
    state.descriptions = model.manifest.head_descriptions || {};
    state.ticketUrls = model.ticket_url_templates || {};
    labelInputs(state.heads);
    $("meta").textContent = `model ${model.model_version} · policy ${model.policy.version}`;
  }

  async function useKey(key) {
    state.key = key;
    await loadModel();
    sessionStorage.setItem(STORAGE_KEY, key);
    $("key-panel").hidden = true;
    $("work").hidden = false;
    $("sign-out").hidden = false;
    hideError();
    say(""); // a valid key: any "key was refused" notice no longer holds
    await refresh();
    state.timer = setInterval(() => {
      if ($("auto").checked && document.visibilityState !== "hidden") refresh();
    }, REFRESH_MS);
  }

  function signOut(message) {
    clearInterval(state.timer);
    closeCase();
    state.key = null;
    state.pending.clear();
    sessionStorage.removeItem(STORAGE_KEY);
    $("work").hidden = true;
    $("sign-out").hidden = true;
    $("key-panel").hidden = false;
    $("meta").textContent = "";
    say(message || "Key forgotten.");
  }

  function on(id, event, fn) {
    $(id).addEventListener(event, (ev) => {
      if (event === "submit") ev.preventDefault();
      act(() => fn(ev));
    });
  }

  function wire() {
    on("key-form", "submit", () => useKey($("key-input").value.trim()).finally(() => {
      $("key-input").value = "";
    }));
    on("sign-out", "click", () => signOut());
    on("banner-close", "click", hideError);
    on("claim", "click", claimNext);
    on("refresh", "click", refresh);
    on("resolve", "click", () => finish("resolve", undefined, "resolved"));
    on("release", "click", () => finish("release", undefined, "released to the queue"));
    on("escalate-form", "submit", () => finish("escalate",
      $("escalate-reason").value.trim() ? { reason: $("escalate-reason").value.trim() } : undefined,
      "escalated to the supervisor lane"));
    on("close-case", "click", closeCase);
    on("feedback-form", "submit", (ev) => sendFeedback(ev.target));
    on("reply-form", "submit", (ev) => sendReply(ev.target));
    $("case-title").tabIndex = -1;
  }

  wire();
  checkReady();
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (saved) act(() => useKey(saved));
})();
