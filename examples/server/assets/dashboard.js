// callhook dashboard. Plain JavaScript, no dependencies: it reads the admin JSON API
// with the session cookie and renders with textContent only (payloads are untrusted).
"use strict";

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

// ---------- API ----------

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { accept: "application/json" }, ...options };
  if (init.method && init.method !== "GET") init.headers["x-callhook-csrf"] = "1";
  const response = await fetch(path, init);
  if (response.status === 401) {
    // The session expired: the page reloads into the login form.
    window.location.reload();
    throw new Error("signed out");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

// ---------- small DOM helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}

function statusBadge(status) {
  return el("span", { class: `status ${status}` }, status);
}

function when(rfc3339) {
  if (!rfc3339) return "";
  const date = new Date(rfc3339);
  return Number.isNaN(date.getTime()) ? rfc3339 : date.toLocaleString();
}

function notice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = !text;
}

// Re-indents JSON text without parsing it, so every number, escape and key order stays
// exactly as received (JSON.parse would round 64-bit ids).
function prettyJson(text) {
  let out = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  const newline = () => "\n" + "  ".repeat(depth);
  for (const ch of text) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; out += ch; }
    else if (ch === "{" || ch === "[") { depth++; out += ch + newline(); }
    else if (ch === "}" || ch === "]") { depth = Math.max(0, depth - 1); out += newline() + ch; }
    else if (ch === ",") out += "," + newline();
    else if (ch === ":") out += ": ";
    else if (!/\s/.test(ch)) out += ch;
  }
  return out.replace(/([{[])\n\s*([}\]])/g, "$1$2");
}

function looksLikeJson(text) {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return false;
  try { JSON.parse(trimmed); return true; } catch { return false; }
}

// ---------- filters ----------

const FILTER_FIELDS = ["provider", "account", "number", "type", "status", "since", "until", "q"];

function readFilters() {
  const filters = {};
  for (const name of FILTER_FIELDS) {
    const input = $(`f-${name}`);
    let value = input.value.trim();
    if (!value) continue;
    if (input.type === "datetime-local") value = new Date(value).toISOString();
    filters[name] = value;
  }
  return filters;
}

function writeFilters(filters) {
  for (const name of FILTER_FIELDS) {
    const input = $(`f-${name}`);
    let value = filters[name] || "";
    if (value && input.type === "datetime-local") {
      const date = new Date(value);
      value = new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    }
    input.value = value;
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(key, value);
  return search.toString();
}

// Whether a live update belongs on the first page of the current filters (the server
// applies the same rules).
// The digits of a phone number, for comparing two spellings of it.
function digits(text) {
  return String(text || "").replace(/\D/g, "");
}

// The customer an event is about: their number, or the id a provider knows them by.
function customerOf(event) {
  const customer = (event.event || {}).customer;
  if (!customer) return "";
  return customer.number || customer.user_id || "";
}

function matchesFilters(event, filters) {
  if (filters.provider && event.provider !== filters.provider) return false;
  if (filters.account && event.account !== filters.account) return false;
  if (filters.number) {
    const customer = customerOf(event);
    const sameNumber = digits(filters.number) !== "" && digits(filters.number) === digits(customer);
    if (customer !== filters.number && !sameNumber) return false;
  }
  if (filters.type && event.event_type !== filters.type) return false;
  if (filters.status && event.status !== filters.status) return false;
  if (filters.since && new Date(event.received_at) < new Date(filters.since)) return false;
  if (filters.until && new Date(event.received_at) >= new Date(filters.until)) return false;
  if (filters.q) {
    const q = filters.q;
    const byId = String(event.id) === q;
    if (!byId && !event.dedupe_key.includes(q) && !(event.subject || "").includes(q)) return false;
  }
  return true;
}

// ---------- the event log ----------

const log = { filters: {}, before: null, cursors: [] };

function eventRow(event) {
  const subject = event.subject
    ? el("a", { href: `#/subject/${encodeURIComponent(event.subject)}`, onclick: (e) => e.stopPropagation() }, event.subject)
    : "";
  const row = el(
    "tr",
    { dataset: { id: String(event.id) }, onclick: () => { window.location.hash = `#/event/${event.id}`; } },
    el("td", {}, el("a", { href: `#/event/${event.id}` }, String(event.id))),
    el("td", {}, when(event.received_at)),
    el("td", {}, event.provider),
    el("td", { class: "account-cell" }, event.account || ""),
    el("td", {}, event.event_type),
    el("td", {}, subject),
    el("td", { class: "status-cell" }, statusBadge(event.status)),
    el("td", { class: "attempts-cell" }, String(event.attempts)),
    // A processed event keeps its last error for history: shown, but not as a failure.
    el("td", { class: event.status === "failed" ? "error" : "earlier", title: event.last_error || "" }, event.last_error || ""),
  );
  return row;
}

async function loadLog() {
  const params = { ...log.filters, limit: PAGE_SIZE, before: log.before };
  const [page, counts] = await Promise.all([
    api(`/api/events?${query(params)}`),
    api(`/api/events/count?${query(log.filters)}`),
  ]);
  const body = $("events").tBodies[0];
  body.replaceChildren(...page.events.map(eventRow));
  if (page.events.length === 0) body.append(el("tr", {}, el("td", { colSpan: 8, class: "muted" }, "No events match.")));
  log.next = page.next_before;
  $("older").disabled = !page.next_before;
  $("newest").disabled = log.before === null;
  $("page-info").textContent = log.before === null ? "newest first" : `before #${log.before}`;
  $("matching").textContent =
    `${counts.total} matching · ${counts.processed} processed · ${counts.pending} pending · ${counts.failed} failed`;
  $("reprocess-matching").disabled = counts.failed === 0;
}

function applyUpdate(event) {
  const body = $("events").tBodies[0];
  const existing = body.querySelector(`tr[data-id="${event.id}"]`);
  if (existing) {
    existing.replaceWith(eventRow(event));
  } else if (log.before === null && matchesFilters(event, log.filters)) {
    const placeholder = body.querySelector("td.muted");
    if (placeholder) placeholder.parentElement.remove();
    // Keep the page ordered by id, newest first.
    const row = eventRow(event);
    row.classList.add("fresh");
    const after = [...body.rows].find((r) => Number(r.dataset.id) < event.id);
    body.insertBefore(row, after || null);
    while (body.rows.length > PAGE_SIZE) body.deleteRow(body.rows.length - 1);
  }
}

// ---------- counters and alerts ----------

function cell(value) {
  return el("td", { class: value ? "" : "zero" }, String(value));
}

function rejected(requests) {
  const reasons = Object.entries(requests.rejected || {});
  const total = reasons.reduce((sum, [, n]) => sum + n, 0);
  const td = cell(total);
  if (reasons.length) {
    td.title = reasons.map(([reason, n]) => `${reason}: ${n}`).join("\n");
    td.append(el("span", { class: "reasons" }, reasons.map(([reason, n]) => `${reason.replace(/_/g, " ")} ${n}`).join(" · ")));
  }
  td.dataset.reasons = reasons.map(([reason, n]) => `${reason}=${n}`).join(",");
  return td;
}

function windowCells(w) {
  return [cell(w.received), cell(w.requests.duplicates), rejected(w.requests), cell(w.processed), cell(w.pending), cell(w.failed)];
}

async function loadStats() {
  const stats = await api("/api/stats");
  const rows = stats.providers
    .filter((p) => p.provider !== "callhook")
    .map((p) =>
      el("tr", { dataset: { provider: p.provider } },
        el("td", {}, el("a", { href: `#/?provider=${encodeURIComponent(p.provider)}` }, p.provider)),
        ...windowCells(p.last_minute), ...windowCells(p.last_hour), cell(p.all_time.received), cell(p.all_time.failed)));
  const body = $("counters").tBodies[0];
  body.replaceChildren(...rows);
  if (!rows.length) body.append(el("tr", {}, el("td", { colSpan: 15, class: "muted" }, "Nothing received yet.")));
  $("stats-at").textContent = `as of ${when(stats.at)}`;
  const alerts = stats.alerts.map((a) =>
    el("li", { class: a.kind }, el("span", { class: "when" }, `${when(a.at)} · ${a.kind}`),
      a.event_id ? el("a", { href: `#/event/${a.event_id}` }, a.text) : a.text));
  $("alerts").replaceChildren(...(alerts.length ? alerts : [el("li", { class: "muted" }, "No alerts.")]));
}

let statsTimer = null;
function refreshStatsSoon() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => { statsTimer = null; loadStats().catch(showError); }, 500);
}

// ---------- reprocessing ----------

function confirmDialog(text) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

async function reprocessMatching() {
  const filters = { ...log.filters, status: "failed" };
  const counts = await api(`/api/events/count?${query(filters)}`);
  if (counts.failed === 0) { notice("No failed events match these filters."); return; }
  const described = Object.entries(log.filters).filter(([k]) => k !== "status").map(([k, v]) => `${k}=${v}`).join(", ");
  const ok = await confirmDialog(
    `Reprocess ${counts.failed} failed event${counts.failed === 1 ? "" : "s"}${described ? ` matching ${described}` : ""}? ` +
    "Each goes back to pending and is processed again; the action is recorded in the log.");
  if (!ok) return;
  const result = await api(`/api/events/reprocess?${query(filters)}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ expected: counts.failed }),
  });
  notice(`Reprocessing ${result.reprocessed} event${result.reprocessed === 1 ? "" : "s"} (recorded as event #${result.action_id}).`);
  await loadLog();
}

// ---------- one event ----------

let currentEvent = null;

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", {}, name), el("dd", {}, value));
}

async function showEvent(id) {
  const detail = await api(`/api/events/${encodeURIComponent(id)}`);
  const { event, delivery, attempts } = detail;
  currentEvent = event.id;
  $("e-id").textContent = `#${event.id}`;
  $("e-status").replaceWith(Object.assign(statusBadge(event.status), { id: "e-status" }));
  $("e-summary").textContent = `${event.provider} · ${event.event_type}`;
  const facts = $("e-facts");
  facts.replaceChildren();
  fact(facts, "Provider", event.provider);
  fact(facts, "Account", event.account);
  fact(facts, "Type", event.event_type);
  const customer = customerOf(event);
  fact(facts, "Customer", customer ? el("a", { href: `#/?number=${encodeURIComponent(customer)}` }, customer) : null);
  fact(facts, "Our number", (event.event || {}).business_number);
  fact(facts, "Subject", event.subject ? el("a", { href: `#/subject/${encodeURIComponent(event.subject)}` }, event.subject) : null);
  fact(facts, "Dedupe key", event.dedupe_key);
  fact(facts, "Received", when(event.received_at));
  fact(facts, "Processed", when(event.processed_at));
  fact(facts, "Next attempt", when(event.next_attempt_at));
  fact(facts, "Last error", event.last_error ? el("span", { class: "error" }, event.last_error) : null);
  fact(facts, "Delivery", `#${delivery.id}: ${delivery.method} ${delivery.path}${delivery.query ? "?" + delivery.query : ""}`);
  fact(facts, "Verification", delivery.verification === "verified"
    ? `signature verified${delivery.key ? ` with the account's ${delivery.key} key` : ""}`
    : "verification SKIPPED (insecure mount)");
  fact(facts, "Parse error", delivery.parse_error);
  $("e-event").textContent = event.event && Object.keys(event.event).length ? JSON.stringify(event.event, null, 2) : "(not parsed)";
  const bytes = atob(delivery.body_base64).length;
  if (delivery.body_text === null || delivery.body_text === undefined) {
    $("e-payload-note").textContent = `Not UTF-8: ${bytes} bytes, shown as base64. Download for the exact bytes.`;
    $("e-payload").textContent = delivery.body_base64;
  } else if (looksLikeJson(delivery.body_text)) {
    $("e-payload-note").textContent = `${bytes} bytes of JSON, re-indented (every value as received). Download for the exact bytes.`;
    $("e-payload").textContent = prettyJson(delivery.body_text);
  } else if (delivery.body_text.includes("=") && !/\s/.test(delivery.body_text.trim())) {
    $("e-payload-note").textContent = `${bytes} bytes of form parameters, decoded one per line. Download for the exact bytes.`;
    $("e-payload").textContent = [...new URLSearchParams(delivery.body_text)].map(([k, v]) => `${k} = ${v}`).join("\n");
  } else {
    $("e-payload-note").textContent = `${bytes} bytes, exactly as received.`;
    $("e-payload").textContent = delivery.body_text;
  }
  $("e-download").href = `/api/events/${event.id}/body`;
  $("e-timeline").hidden = !event.subject;
  if (event.subject) $("e-timeline").href = `#/subject/${encodeURIComponent(event.subject)}`;
  $("e-headers").tBodies[0].replaceChildren(...delivery.headers.map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", {}, value))));
  $("e-attempts").tBodies[0].replaceChildren(
    ...(attempts.length
      ? attempts.map((a) => el("tr", {}, el("td", {}, String(a.number)), el("td", {}, when(a.started_at)), el("td", {}, when(a.finished_at)),
          el("td", { class: a.error ? "error" : "" }, a.error || "processed")))
      : [el("tr", {}, el("td", { colSpan: 4, class: "muted" }, "No attempts yet."))]));
  const reprocess = $("e-reprocess");
  reprocess.disabled = event.status === "pending";
  reprocess.textContent = event.status === "failed" ? "Reprocess" : "Process again";
}

async function reprocessCurrent() {
  const button = $("e-reprocess");
  button.disabled = true;
  await api(`/api/events/${currentEvent}/reprocess`, { method: "POST" });
  await showEvent(currentEvent);
}

// ---------- a call's or message's timeline ----------

function reportedStatus(event) {
  const e = event.event || {};
  if (e.status) return e.status;
  if (e.kind === "message" && e.type === "inbound") return "inbound message";
  if (e.recording && e.recording.status) return `recording ${e.recording.status}`;
  return "";
}

async function showSubject(id) {
  $("s-id").textContent = id;
  const body = $("s-events").tBodies[0];
  const states = $("s-states");
  try {
    const timeline = await api(`/api/timeline/${encodeURIComponent(id)}`);
    const others = (timeline.conversation || []).filter((other) => other !== id);
    $("s-note").textContent = `${timeline.events.length} event(s), in the order the providers say they happened` +
      (others.length ? `, joined with ${others.join(", ")}` : "") +
      (timeline.truncated ? " (not everything shown)" : "");
    $("s-links").replaceChildren(...(timeline.links || []).map((link) => el("li", {},
      `${link.provider} ${link.call_id} → ${link.linked_provider} `,
      el("a", { href: `#/subject/${encodeURIComponent(link.linked_call_id)}` }, link.linked_call_id),
      ` (${String(link.via).replaceAll("_", " ")}${link.via === "number_and_time" ? ": a guess" : ""})`)));
    body.replaceChildren(...timeline.events.map((event) =>
      el("tr", { onclick: () => { window.location.hash = `#/event/${event.id}`; } },
        el("td", {}, when(event.event && event.event.occurred_at) || "—"),
        el("td", {}, el("a", { href: `#/event/${event.id}` }, String(event.id))),
        el("td", {}, event.provider),
        el("td", {}, event.event_type),
        el("td", {}, reportedStatus(event)),
        el("td", {}, statusBadge(event.status)))));
    const blocks = [...timeline.calls.map((c) => ["call", c]), ...timeline.messages.map((m) => ["message", m])].map(([kind, s]) => {
      const recording = s.state.recording;
      return el("div", {},
        el("h4", {}, `${s.provider} ${kind} ${s.call_id || s.message_id || ""}: ${s.state.status || "status unknown"}`),
        s.state.analysis && s.state.analysis.summary ? el("p", {}, `Analysis: ${s.state.analysis.summary}`) : "",
        recording ? el("p", {}, `Recording: ${recording.status || "?"}${recording.stored ? ` · stored at ${recording.stored.location}` : ""}`) : "",
        el("pre", {}, JSON.stringify(s.state, null, 2)));
    });
    states.replaceChildren(...(blocks.length ? blocks : [el("p", { class: "muted" }, "No folded state for this id.")]));
  } catch (error) {
    $("s-note").textContent = error.message;
    body.replaceChildren();
    states.replaceChildren();
  }
}

// ---------- routing ----------

function showView(name) {
  for (const view of ["log", "event", "subject"]) $(`view-${view}`).hidden = view !== name;
}

function showError(error) {
  if (error && error.message !== "signed out") notice(`Error: ${error.message}`);
}

async function route() {
  const hash = window.location.hash || "#/";
  const [path, search] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  try {
    if (parts[0] === "event" && parts[1]) {
      showView("event");
      await showEvent(decodeURIComponent(parts[1]));
    } else if (parts[0] === "subject" && parts[1]) {
      showView("subject");
      await showSubject(decodeURIComponent(parts.slice(1).join("/")));
    } else {
      showView("log");
      log.filters = Object.fromEntries(new URLSearchParams(search || ""));
      writeFilters(log.filters);
      log.before = null;
      log.cursors = [];
      await loadLog();
    }
  } catch (error) {
    showError(error);
  }
}

// ---------- live updates ----------

function connectStream() {
  const badge = $("live");
  const source = new EventSource("/api/stream");
  source.addEventListener("open", () => { badge.textContent = "live"; badge.className = "badge on"; });
  source.addEventListener("error", () => { badge.textContent = "reconnecting…"; badge.className = "badge off"; });
  source.addEventListener("update", (message) => {
    const event = JSON.parse(message.data);
    if (!$("view-log").hidden) applyUpdate(event);
    if (!$("view-event").hidden && currentEvent === event.id) showEvent(event.id).catch(showError);
    refreshStatsSoon();
  });
}

// ---------- start ----------

document.addEventListener("DOMContentLoaded", () => {
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    notice("");
    const q = query(readFilters());
    const target = `#/${q ? "?" + q : ""}`;
    if (window.location.hash === target) route(); else window.location.hash = target;
  });
  $("clear").addEventListener("click", () => { window.location.hash = "#/"; });
  $("older").addEventListener("click", () => {
    if (!log.next) return;
    log.cursors.push(log.before);
    log.before = log.next;
    loadLog().catch(showError);
  });
  $("newest").addEventListener("click", () => { log.before = null; log.cursors = []; loadLog().catch(showError); });
  $("reprocess-matching").addEventListener("click", () => reprocessMatching().catch(showError));
  $("e-reprocess").addEventListener("click", () => reprocessCurrent().catch(showError));
  window.addEventListener("hashchange", route);
  route();
  loadStats().catch(showError);
  setInterval(() => loadStats().catch(showError), 5000);
  connectStream();
});
