// The local fleet's live view: polls /_local/dashboard.json and redraws; replays by POST.
// Every text is set as text (never as HTML): queue names, errors and bodies come from the fleet.
"use strict";

const STATE_URL = "/_local/dashboard.json";
const REPLAY_URL = "/_local/dashboard/replay";
const POLL_MS = 1500;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function button(label, id, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

// --- queues ---------------------------------------------------------------------------

const queueRows = new Map();

function queueRow(queue) {
  let found = queueRows.get(queue.name);
  if (found) return found;
  const tr = document.createElement("tr");
  tr.id = `queue-${queue.name}`;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = queue.name;
  tr.appendChild(th);
  found = {
    tr,
    visible: cell(tr, "0", "n visible"),
    inFlight: cell(tr, "0", "n in-flight"),
    dead: cell(tr, "0", "n dead"),
    actions: cell(tr, "", "actions"),
  };
  found.note = document.createElement("span");
  found.dryRun = button("Dry run", `dry-run-${queue.name}`, () => replay(queue.name, true));
  found.replay = button("Replay", `replay-${queue.name}`, () => replay(queue.name, false));
  found.actions.append(found.dryRun, found.replay, found.note);
  $("queues").tBodies[0].appendChild(tr);
  queueRows.set(queue.name, found);
  return found;
}

function drawQueues(queues) {
  for (const queue of queues) {
    const row = queueRow(queue);
    row.visible.textContent = queue.visible;
    row.inFlight.textContent = queue.in_flight;
    row.dead.textContent = queue.dead_lettered;
    const troubled = queue.replayable > 0;
    row.tr.classList.toggle("troubled", troubled);
    row.dryRun.hidden = row.replay.hidden = !troubled;
    row.note.textContent = troubled
      ? (queue.parks_failures_of ? ` ${queue.replayable} parked for ${queue.parks_failures_of}` : ` from ${queue.dead_letter_queue}`)
      : "";
  }
}

// --- triggers -------------------------------------------------------------------------

const triggerRows = new Map();

function triggerRow(trigger) {
  let found = triggerRows.get(trigger.name);
  if (found) return found;
  const tr = document.createElement("tr");
  tr.dataset.trigger = trigger.name;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = trigger.name;
  tr.appendChild(th);
  found = { handled: cell(tr, "0", "n handled"), failed: cell(tr, "0", "n failed"), rate: cell(tr, "0", "n rate") };
  const chart = cell(tr, "", "chart");
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "rate");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  found.handledPath = document.createElementNS(SVG, "path");
  found.handledPath.setAttribute("class", "handled");
  found.failedPath = document.createElementNS(SVG, "path");
  found.failedPath.setAttribute("class", "failed");
  found.title = document.createElementNS(SVG, "title");
  svg.append(found.title, found.handledPath, found.failedPath);
  chart.appendChild(svg);
  found.svg = svg;
  $("triggers").tBodies[0].appendChild(tr);
  triggerRows.set(trigger.name, found);
  return found;
}

// One bar a second; the height is the second's count over the window's busiest second.
function bars(values, top, height) {
  let d = "";
  values.forEach((v, x) => {
    if (v > 0) {
      const h = Math.max(1, (v / top) * height);
      d += `M${x} ${height}v${-h.toFixed(2)}h1v${h.toFixed(2)}z`;
    }
  });
  return d;
}

function drawTriggers(triggers) {
  for (const trigger of triggers) {
    const row = triggerRow(trigger);
    const series = trigger.per_second;
    const width = series.handled.length;
    const height = 36;
    const top = Math.max(1, ...series.handled);
    const lastMinute = series.handled.slice(-60).reduce((a, b) => a + b, 0) / 60;
    row.handled.textContent = trigger.handled;
    row.failed.textContent = trigger.failed;
    row.rate.textContent = lastMinute.toFixed(1);
    row.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    row.handledPath.setAttribute("d", bars(series.handled, top, height));
    row.failedPath.setAttribute("d", bars(series.failed, top, height));
    row.title.textContent = `${trigger.name}: at most ${top} record(s) a second over the window`;
  }
  $("window").textContent = triggers.length ? Math.round(triggers[0].per_second.handled.length / 60) : 5;
}

// --- failures, outbox, status ---------------------------------------------------------

function drawFailures(failures) {
  const body = $("failures").tBodies[0];
  body.replaceChildren();
  for (const failure of failures) {
    const tr = document.createElement("tr");
    cell(tr, new Date(failure.at * 1000).toLocaleTimeString());
    cell(tr, failure.trigger);
    const id = cell(tr, "", "record");
    const code = document.createElement("code");
    code.textContent = failure.record_id;
    id.appendChild(code);
    cell(tr, failure.error, "error");
    body.appendChild(tr);
  }
  $("failures").hidden = failures.length === 0;
  $("no-failures").hidden = failures.length > 0;
}

function drawStatus(state) {
  const status = $("status");
  const workers = state.workers;
  const time = new Date(state.now * 1000).toLocaleTimeString();
  if (workers.reporting) {
    status.textContent = `Updated ${time}; the workers are reporting.`;
  } else if (workers.written_at) {
    status.textContent = `Updated ${time}; the workers last reported ${Math.round(state.now - workers.written_at)} s ago (stopped, or reloading).`;
  } else {
    status.textContent = `Updated ${time}; no stats from the workers yet.`;
  }
  status.classList.toggle("stale", !workers.reporting);
}

function percent(rate) {
  return rate === null || rate === undefined ? "-" : `${(rate * 100).toFixed(2)} %`;
}

// The bounce and complaint rates over 24 hours, as `fleet status` prints them.
function drawEmailHealth(health) {
  if (!health) return;
  $("bounce-rate").textContent = `${health.bounced} (${percent(health.bounce_rate)})`;
  $("complaint-rate").textContent = `${health.complained} (${percent(health.complaint_rate)})`;
  $("bounce-alarm").textContent = percent(health.bounce_alarm_rate);
  $("complaint-alarm").textContent = percent(health.complaint_alarm_rate);
  $("suppressed").textContent = health.suppressed;
  const alarms = $("email-alarms");
  alarms.textContent = health.alarms.length ? `ALARM: ${health.alarms.join("; ")}.` : "";
  alarms.hidden = !health.alarms.length;
}

async function poll() {
  try {
    const answer = await fetch(STATE_URL, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const state = await answer.json();
    drawQueues(state.queues);
    drawTriggers(state.triggers);
    drawFailures(state.failures);
    $("emails").textContent = state.emails_accepted;
    drawEmailHealth(state.email_health);
    drawStatus(state);
  } catch (error) {
    $("status").textContent = `The API did not answer (${error.message}); trying again.`;
    $("status").classList.add("stale");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// --- replay ---------------------------------------------------------------------------

async function replay(queue, dryRun) {
  const panel = $("replay");
  const items = $("replay-items");
  panel.hidden = false;
  $("replay-title").textContent = dryRun ? `Dry run of ${queue}...` : `Replaying ${queue}...`;
  items.replaceChildren();
  $("replay-note").textContent = "";
  try {
    const answer = await fetch(REPLAY_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ queue, dry_run: dryRun }),
    });
    const outcome = await answer.json();
    if (!answer.ok) throw new Error(outcome.error ? outcome.error.message : `HTTP ${answer.status}`);
    if (outcome.dry_run) {
      $("replay-title").textContent = `Dry run of ${queue}: ${outcome.items.length} would go from ${outcome.source} to ${outcome.target}`;
      for (const item of outcome.items) {
        const li = document.createElement("li");
        li.className = "replay-item";
        const id = document.createElement("code");
        id.textContent = item.id;
        li.append(id, document.createTextNode(` ${item.summary}`));
        items.appendChild(li);
      }
    } else {
      $("replay-title").textContent = `Replayed ${queue}: ${outcome.moved} went from ${outcome.source} to ${outcome.target}`;
      if (outcome.still_failing) $("replay-note").textContent = `${outcome.still_failing} still failing, left where they were.`;
    }
  } catch (error) {
    $("replay-title").textContent = `${dryRun ? "Dry run" : "Replay"} of ${queue} failed: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", poll);
