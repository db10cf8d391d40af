// The operator console's pages, filled from the JSON API and refreshed by
// polling. Every value from a callback is hostile input: it is only ever
// put into the page as text (textContent, setAttribute), never as HTML.
"use strict";

const page = document.body.dataset.page;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const content = document.getElementById("content");
const controls = document.getElementById("controls");
const message = document.getElementById("message");
const params = new URLSearchParams(location.search);
const pollMilliseconds = 2000;
const states = ["pending", "held", "processing", "waiting-retry", "completed", "dead"];

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, form) {
  const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (form) {
    options.method = "POST";
    options.headers["X-CSRF-Token"] = csrf;
    options.body = new URLSearchParams(form);
  }
  const response = await fetch(path, options);
  if (response.status === 401) { location.reload(); throw new Error("signed out"); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

function say(text, isProblem) {
  message.textContent = text;
  message.className = isProblem ? "problem" : "";
}

const eventLink = (id, text) => el("a", { href: "/console/event?id=" + encodeURIComponent(id), class: "mono" }, text ?? id.slice(0, 8));
const stateBadge = (state) => el("span", { class: "state state-" + state }, state);
const card = (label, value, extra) => el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), extra);

function notes(event) {
  const parts = [];
  if (event.held_behind) parts.push("behind " + event.held_behind.slice(0, 8));
  if (event.previous_status !== null) parts.push("after " + event.previous_status);
  if (event.stale) parts.push("stale");
  if (event.conflicts > 0) parts.push(event.conflicts + " conflict" + (event.conflicts === 1 ? "" : "s"));
  if (event.last_error) parts.push("error: " + event.last_error);
  return parts.join(", ");
}

// The handler runs the inbox kept for an event, oldest first.
function attemptTable(attempts, kept) {
  if (attempts.length === 0) return el("p", { id: "attempts-none", class: "muted" }, "No attempt has finished yet.");
  return [
    el("table", { id: "attempts-table" },
      el("thead", null, el("tr", null, ["#", "Outcome", "Started", "Ended", "Error"].map((name) => el("th", null, name)))),
      el("tbody", null, attempts.map((attempt) => el("tr", { class: "attempt" },
        el("td", null, attempt.number), el("td", { class: "outcome " + (attempt.outcome === "handled" ? "good" : "bad") }, attempt.outcome),
        el("td", { class: "mono" }, attempt.started_at), el("td", { class: "mono" }, attempt.ended_at),
        el("td", { class: "error" }, attempt.error ?? ""))))),
    attempts.length >= kept ? el("p", { class: "muted" }, `Only the last ${kept} attempts are kept.`) : null,
  ];
}

// Copies with this event's key but other signed content, and how they differ.
function conflictingCopies(event) {
  const copies = event.conflicting_copies || [];
  return [
    el("h2", null, `Conflicting copies (${event.conflicts} conflict${event.conflicts === 1 ? "" : "s"}, ${copies.length} kept)`),
    el("p", { class: "warn" }, "Copies with this key but different signed content: acknowledged, not handled. " +
      "Their signatures verified, so the provider itself sent the changed fields."),
    copies.map((copy, index) => el("section", { class: "copy", id: "copy-" + (index + 1) },
      el("p", null, `Copy ${index + 1}, received `, el("span", { class: "mono" }, copy.received_at), ", content hash ",
        el("span", { class: "mono" }, copy.content_hash), ", signature ", el("span", { class: "good signature" }, copy.signature)),
      copy.differences === null ? el("p", { class: "muted" }, "A body is not a JSON object: the fields cannot be compared.") :
        el("table", { class: "differences" },
          el("thead", null, el("tr", null, ["Signed field", "Stored event", "This copy"].map((name) => el("th", null, name)))),
          el("tbody", null, copy.differences.map((difference) => el("tr", null,
            el("td", { class: "mono" }, difference.field),
            el("td", { class: "mono" }, difference.stored === null ? "(absent)" : JSON.stringify(difference.stored)),
            el("td", { class: "mono" }, difference.copy === null ? "(absent)" : JSON.stringify(difference.copy)))))),
      el("pre", { class: "body copy-body" }, copy.body_text))),
  ];
}

function eventTable(events, selectable) {
  const head = ["ID", "Kind", "Merchant", "Order no", "Type", "Status", "State", "Attempts", "Received", "Notes"];
  return el("table", { id: "events-table" },
    el("thead", null, el("tr", null, selectable ? el("th", null, "") : null, head.map((name) => el("th", null, name)))),
    el("tbody", null, events.map((event) => el("tr", { "data-id": event.id },
      selectable ? el("td", null, el("input", { type: "checkbox", class: "pick", value: event.id, checked: selectable.has(event.id),
        onchange: (e) => e.target.checked ? selectable.add(event.id) : selectable.delete(event.id) })) : null,
      el("td", null, eventLink(event.id)), el("td", null, event.kind), el("td", null, event.merchant_id),
      el("td", { class: "order-no" }, event.order_no), el("td", null, event.order_type ?? "-"), el("td", null, event.status),
      el("td", { class: "state-cell" }, stateBadge(event.state)), el("td", null, event.attempts),
      el("td", { class: "mono" }, event.received_at), el("td", null, notes(event))))));
}

function chart(minutes) {
  const svg = "http://www.w3.org/2000/svg";
  const width = 900, height = 180, left = 36, bottom = 22;
  const top = Math.max(1, ...minutes.map((m) => Math.max(m.acknowledged, m.handled)));
  const x = (i) => left + (i * (width - left - 8)) / (minutes.length - 1);
  const y = (n) => height - bottom - (n * (height - bottom - 10)) / top;
  const node = document.createElementNS(svg, "svg");
  node.setAttribute("viewBox", `0 0 ${width} ${height}`);
  node.setAttribute("class", "chart");
  node.setAttribute("role", "img");
  const add = (tag, attributes, text) => {
    const child = document.createElementNS(svg, tag);
    for (const [name, value] of Object.entries(attributes)) child.setAttribute(name, value);
    if (text !== undefined) child.textContent = text;
    node.append(child);
  };
  add("line", { x1: left, y1: y(0), x2: width - 8, y2: y(0), stroke: "#d9dee7" });
  add("text", { x: 4, y: y(top) + 4 }, String(top));
  add("text", { x: 4, y: y(0) + 4 }, "0");
  add("text", { x: left, y: height - 4 }, "60 min ago");
  add("text", { x: width - 60, y: height - 4 }, "now");
  for (const series of ["acknowledged", "handled"]) {
    add("polyline", { class: series, points: minutes.map((m, i) => `${x(i)},${y(m[series])}`).join(" ") });
  }
  return node;
}

const pages = {
  async overview() {
    const o = await api("/api/overview");
    const oldest = o.oldest_pending;
    return [
      el("div", { class: "cards" },
        card("Backlog (unfinished)", o.backlog),
        card("Oldest pending", oldest ? eventLink(oldest.id, oldest.received_at) : "none", oldest ? el("div", { class: "muted" }, "order " + oldest.order_no) : null),
        card("Dead letters", el("a", { href: "/console/dead-letters", class: o.dead_letters ? "bad" : "" }, o.dead_letters)),
        card("Conflicts", o.conflicts, el("div", { class: "muted" }, o.events_with_conflicts + " event(s)")),
        card("Stale events", o.stale),
        card("Waiting for reconciliation", el("span", { id: "reconciliation-waiting" },
          o.reconciliation ? (o.reconciliation.capped ? "≥ " : "") + o.reconciliation.waiting : "off"),
          o.reconciliation && o.reconciliation.oldest
            ? el("div", { class: "muted" }, "oldest: order " + o.reconciliation.oldest.order_no + " since " + o.reconciliation.oldest.since)
            : null),
        card("Store", el("span", { id: "store-health", class: o.store === "available" ? "good" : "bad" }, o.store))),
      el("h2", null, "Events by state"),
      el("table", { id: "states-table" }, el("tbody", null, states.map((state) => el("tr", null,
        el("td", null, el("a", { href: "/console/events?state=" + state }, stateBadge(state))), el("td", { "data-state": state }, o.states[state]))))),
      el("h2", null, "Last hour, per minute"),
      el("div", { class: "legend" }, el("span", { class: "acknowledged" }, "— acknowledged"), el("span", { class: "handled" }, "- - handled")),
      chart(o.per_minute),
    ];
  },

  async events() {
    const list = await api("/api/events?" + params.toString());
    const pageNumber = list.page;
    const link = (n, text) => { const p = new URLSearchParams(params); p.set("page", n); return el("a", { href: "?" + p }, text); };
    return [
      el("p", { class: "muted" }, `${list.total} event(s), newest first`),
      eventTable(list.events),
      el("div", { class: "pager" }, pageNumber > 1 ? link(pageNumber - 1, "← newer") : null,
        `page ${pageNumber} of ${list.pages}`, pageNumber < list.pages ? link(pageNumber + 1, "older →") : null),
    ];
  },

  async event() {
    const event = await api("/api/event?id=" + encodeURIComponent(params.get("id") || ""));
    const shown = ["id", "kind", "merchant_id", "order_no", "order_type", "status", "state", "held_behind", "attempts",
      "last_error", "received_at", "next_attempt_at", "finished_at", "previous_status", "stale", "conflicts"];
    return [
      el("dl", { class: "fields" }, shown.filter((key) => key in event).map((key) => [el("dt", null, key),
        el("dd", { id: "field-" + key }, key === "state" ? stateBadge(event.state) : key === "held_behind" ? eventLink(event.held_behind, event.held_behind) : String(event[key] ?? "—"))])),
      el("h2", null, "Attempts"),
      attemptTable(event.attempt_history || [], event.attempts_kept),
      event.conflicts > 0 ? conflictingCopies(event) : null,
      el("h2", null, "Body (card numbers and CVVs masked)"),
      el("pre", { id: "body", class: "body" }, event.body_text),
    ];
  },

  async "dead-letters"() {
    const list = await api("/api/events?dead=1&per_page=500");
    const shownIds = new Set(list.events.map((event) => event.id));
    for (const id of selected) if (!shownIds.has(id)) selected.delete(id);
    return [el("p", { class: "muted" }, `${list.total} dead letter(s), newest first`), eventTable(list.events, selected)];
  },
};

const selected = new Set();

async function act(path, form, done) {
  try {
    const result = await api(path, form);
    say(done(result), false);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

function buildControls() {
  if (page === "events") {
    const field = (name, label, input) => el("label", null, label, input || el("input", { name, value: params.get(name) || "", size: 12 }));
    const select = (name, options) => el("select", { name }, el("option", { value: "" }, "any"),
      options.map((option) => el("option", { value: option, selected: params.get(name) === option }, option)));
    controls.append(el("form", { class: "filters", method: "get", action: "/console/events" },
      field("order_no", "Order no"), field("merchant", "Merchant"), field("status", "Status", el("input", { name: "status", value: params.get("status") || "", size: 4 })),
      field("kind", "Kind", select("kind", ["payment", "card"])), field("state", "State", select("state", states)),
      field("since", "Since (ISO or 30m, 24h)"), field("until", "Until"),
      el("label", null, "Dead only", el("input", { type: "checkbox", name: "dead", value: "1", checked: params.get("dead") === "1" })),
      el("button", { type: "submit", id: "apply" }, "Filter")));
  } else if (page === "event") {
    const id = params.get("id") || "";
    controls.append(el("div", { class: "actions" },
      el("button", { id: "replay", onclick: () => act("/api/replay", { id }, (r) => "Replayed: the event is " + r.state + " again.") }, "Replay"),
      el("button", { id: "purge", class: "danger", onclick: () => {
        if (confirm("Delete this event? Its key is forgotten: a repeat would be a new event.")) {
          act("/api/purge", { id }, () => { location.href = "/console/events"; return "Purged."; });
        }
      } }, "Purge")));
  } else if (page === "dead-letters") {
    controls.append(el("div", { class: "actions" },
      el("button", { id: "retry-selected", onclick: () => {
        const form = new URLSearchParams();
        for (const id of selected) form.append("id", id);
        act("/api/dead-letters/retry", form, (r) => `Replayed ${r.replayed} dead letter(s).`);
      } }, "Retry selected"),
      el("button", { id: "retry-all", onclick: () => act("/api/dead-letters/retry", { all: "1" }, (r) => `Replayed ${r.replayed} dead letter(s).`) }, "Retry all")));
  }
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    content.replaceChildren(...[await pages[page]()].flat(Infinity).filter(Boolean));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (error) {
    say(error.message, true);
  }
  timer = setTimeout(refresh, pollMilliseconds);
}

for (const link of document.querySelectorAll("header nav a")) {
  if (link.dataset.page === page || (page === "event" && link.dataset.page === "events")) link.classList.add("current");
}
buildControls();
refresh();
