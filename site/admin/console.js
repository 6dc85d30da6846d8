// The review console: sign in with a key, a campaign's entries with their photos, review
// from the keyboard, the outcome (codes, export, draw). Only the admin API, same origin.
import { ApiFailure, call, campaignPath, read, signIn, signOut, signedIn } from "./api.js";
import { details, el, fill, when } from "./dom.js";

const $ = (id) => document.getElementById(id);
const PAGE = 25;

const state = {
  scopes: [],
  campaigns: [],
  campaign: null,
  cursor: null, // the cursor of the page shown (null: the first)
  nextCursor: null,
  entries: [], // the page shown
  selected: -1,
  decisions: new Map(), // submission id -> {decision, reason, state: pending|done|failed, key, message}
  open: null, // the entry shown large
  loadToken: 0,
};

const canWrite = () => state.scopes.includes("campaigns:write");
const fullName = (e) => [e.first_name, e.last_name].filter(Boolean).join(" ") || "(no name)";

// --- sign in and out -----------------------------------------------------------------------

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const typed = $("api-key").value.trim();
  if (!typed) {
    fill($("sign-in-error"), "Type the API key.");
    return;
  }
  signIn(typed);
  $("api-key").value = "";
  await start();
});

$("sign-out").addEventListener("click", () => {
  signOut();
  state.scopes = [];
  state.campaigns = [];
  state.campaign = null;
  state.decisions.clear();
  fill($("entries"));
  fill($("entry-view-body"));
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("signed-in-as").hidden = true;
  $("sign-in").hidden = false;
  fill($("sign-in-error"));
  $("api-key").focus();
});

async function start() {
  let listing;
  try {
    listing = await read("/v1/campaigns");
  } catch (error) {
    signOut();
    $("sign-in").hidden = false;
    $("console").hidden = true;
    const refused = error instanceof ApiFailure && (error.status === 401 || error.status === 403);
    fill($("sign-in-error"), refused ? `This key is not accepted: ${error.message}` : error.message);
    return;
  }
  state.scopes = listing.key.scopes;
  state.campaigns = listing.campaigns;
  fill($("sign-in-error"));
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  fill($("signed-in-as"), `Signed in as ${listing.key.name}${canWrite() ? "" : " (read only)"}`);
  $("signed-in-as").hidden = false;
  $("shortcuts").hidden = !canWrite();
  const select = fill($("campaign"), el("option", { value: "" }, "Choose a campaign"));
  for (const campaign of state.campaigns) {
    select.append(el("option", { value: campaign.campaign_id }, `${campaign.name} (${campaign.campaign_id})`));
  }
  $("no-campaign").hidden = state.campaigns.length > 0;
  select.focus();
}

// --- a campaign's entries ------------------------------------------------------------------

$("campaign").addEventListener("change", () => {
  state.campaign = state.campaigns.find((c) => c.campaign_id === $("campaign").value) || null;
  closeEntry();
  $("entries-panel").hidden = !state.campaign;
  $("outcome-panel").hidden = !state.campaign;
  if (!state.campaign) return;
  loadPage(null);
  loadOutcome();
});

for (const id of ["filter-status", "filter-flagged", "filter-unreviewed"]) {
  $(id).addEventListener("change", () => loadPage(null));
}
$("filters").addEventListener("submit", (event) => event.preventDefault());
$("next-page").addEventListener("click", () => loadPage(state.nextCursor));
$("first-page").addEventListener("click", () => loadPage(null));

function listQuery(cursor) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  if ($("filter-flagged").checked) query.set("flagged", "true");
  if ($("filter-unreviewed").checked) query.set("reviewed", "false");
  if (cursor) query.set("cursor", cursor);
  return query;
}

async function loadPage(cursor) {
  const token = ++state.loadToken;
  const campaign = state.campaign;
  fill($("entries-status"), "Loading entries…");
  let page;
  try {
    page = await read(campaignPath(campaign.campaign_id, `/entries?${listQuery(cursor)}`));
  } catch (error) {
    if (token === state.loadToken) fill($("entries-status"), `The entries could not be loaded: ${error.message}`);
    return;
  }
  if (token !== state.loadToken) return; // a newer page was asked for meanwhile
  state.cursor = cursor;
  state.nextCursor = page.next_cursor;
  state.entries = page.entries;
  state.selected = -1;
  renderEntries();
  const more = page.next_cursor ? " More on the next page." : "";
  const count = page.entries.length;
  const none = count === 0 ? "No entries here." : `${count} ${count === 1 ? "entry" : "entries"}, newest first.`;
  fill($("entries-status"), none + more);
  $("next-page").hidden = !page.next_cursor;
  $("first-page").hidden = !cursor;
}

function renderEntries() {
  const list = fill($("entries"));
  state.entries.forEach((entry, index) => list.append(entryCard(entry, index)));
}

function entryCard(entry, index) {
  const name = fullName(entry);
  const photo = entry.thumbnail
    ? el("img", { src: entry.thumbnail, alt: `Receipt of ${name}`, width: 128, height: 128, class: "thumb" })
    : el("div", { class: "thumb none" }, "No photo");
  const card = el(
    "li",
    { class: "entry", tabindex: -1, dataset: { id: entry.submission_id }, "aria-label": `Entry of ${name}` },
    photo,
    el(
      "div",
      { class: "entry-main" },
      el("h3", {}, name),
      entrySummary(entry),
      flagNote(entry),
      reviewArea(entry),
      el("div", { class: "actions" }, el("button", { type: "button", onclick: () => openEntry(entry.submission_id) }, `Open ${name}`), reviewButtons(entry)),
    ),
  );
  card.addEventListener("focus", () => {
    state.selected = index;
  });
  return card;
}

function entrySummary(entry) {
  const answers = Object.entries(entry.answers || {}).map(([q, a]) => `${q}: ${typeof a === "string" ? a : JSON.stringify(a)}`);
  return details([
    ["Status", entry.status],
    ["Email", entry.email],
    ["Email status", entry.email_status],
    ["Phone", entry.phone],
    ["Postal code", entry.postal_code],
    ["Received", when(entry.received_at)],
    ["Answers", answers.join("; ")],
    ["Code", entry.code],
  ]);
}

function flagNote(entry) {
  const copies = entry.duplicate_receipt || [];
  if (!copies.length) return null;
  return el("p", { class: "flag" }, `Flagged: its photo copies ${copies.length === 1 ? "another entry's" : `${copies.length} other entries'`}`);
}

// --- review --------------------------------------------------------------------------------

function reviewArea(entry) {
  return el("p", { class: "review", role: "status", dataset: { review: entry.submission_id } }, reviewText(entry));
}

function reviewText(entry) {
  const pending = state.decisions.get(entry.submission_id);
  if (pending) {
    const what = pending.decision === "approved" ? "Approve" : `Reject (${pending.reason})`;
    if (pending.state === "pending") return `${what}: sending…`;
    if (pending.state === "failed") return `${what}: not saved, still pending. ${pending.message}`;
    return pending.decision === "approved" ? "Approved (accepted by the API)" : `Rejected: ${pending.reason} (accepted by the API)`;
  }
  const review = entry.review;
  if (!review) return "Not reviewed";
  const by = review.key_name ? ` by ${review.key_name}` : "";
  return review.decision === "approved" ? `Approved${by}` : `Rejected${by}: ${review.reason || ""}`;
}

function reviewButtons(entry, where = "list") {
  if (!canWrite()) return null;
  const name = fullName(entry);
  const reasonId = `${where}-reason-${entry.submission_id}`;
  const reasonForm = el(
    "form",
    { class: "reason", hidden: true, dataset: { reason: entry.submission_id } },
    el("label", { for: reasonId }, "Reason for rejecting"),
    el("input", { id: reasonId, type: "text", maxlength: 500, required: true }),
    el("button", { type: "submit" }, `Confirm rejecting ${name}`),
    el("button", { type: "button", onclick: (e) => { e.target.closest("form").hidden = true; } }, "Cancel"),
  );
  reasonForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = reasonForm.querySelector("input").value.trim();
    if (!reason) {
      reasonForm.querySelector("input").focus();
      return;
    }
    reasonForm.hidden = true;
    decide(entry, "rejected", reason);
  });
  return el(
    "span",
    { class: "review-buttons" },
    el("button", { type: "button", class: "approve", onclick: () => decide(entry, "approved") }, `Approve ${name}`),
    el("button", { type: "button", class: "reject", onclick: () => askReason(entry) }, `Reject ${name}`),
    reasonForm,
  );
}

function askReason(entry) {
  const where = state.open === entry.submission_id ? "#entry-view-body" : "#entries";
  for (const form of document.querySelectorAll(`${where} form[data-reason="${CSS.escape(entry.submission_id)}"]`)) {
    form.hidden = false;
    form.querySelector("input").focus();
    return;
  }
}

function newKey() {
  return `console-${crypto.randomUUID()}`;
}

async function decide(entry, decision, reason = null) {
  const id = entry.submission_id;
  const known = state.decisions.get(id);
  // A retry of the same decision reuses its Idempotency-Key: the API applies it once.
  const same = known && known.decision === decision && known.reason === reason && known.state !== "done";
  const pending = { decision, reason, state: "pending", key: same ? known.key : newKey(), message: "" };
  state.decisions.set(id, pending);
  showReview(entry);
  const body = decision === "rejected" ? { decision, reason } : { decision };
  try {
    await call("PATCH", campaignPath(state.campaign.campaign_id, `/entries/${encodeURIComponent(id)}`), {
      body,
      headers: { "Idempotency-Key": pending.key },
    });
    pending.state = "done";
  } catch (error) {
    pending.state = "failed";
    pending.message = error.message;
  }
  showReview(entry);
}

function showReview(entry) {
  for (const node of document.querySelectorAll(`[data-review="${CSS.escape(entry.submission_id)}"]`)) {
    fill(node, reviewText(entry));
    node.classList.toggle("failed", state.decisions.get(entry.submission_id)?.state === "failed");
  }
}

// --- the large view ------------------------------------------------------------------------

async function openEntry(id) {
  const campaign = state.campaign;
  state.open = id;
  const view = $("entry-view");
  fill($("entry-view-body"), el("p", { role: "status" }, "Loading the entry…"));
  view.hidden = false;
  view.focus();
  let entry;
  try {
    entry = await read(campaignPath(campaign.campaign_id, `/entries/${encodeURIComponent(id)}`));
  } catch (error) {
    fill($("entry-view-body"), el("p", { class: "error", role: "alert" }, `The entry could not be loaded: ${error.message}`));
    return;
  }
  if (state.open !== id) return;
  const listed = state.entries.find((e) => e.submission_id === id) || entry;
  fill($("entry-view-heading"), `Entry of ${fullName(entry)}`);
  const sides = el("div", { class: "side-by-side" }, largeSide(entry, "This entry"));
  for (const copy of entry.copies || []) sides.append(largeSide(copy, "The entry it copies"));
  fill(
    $("entry-view-body"),
    entry.copies && entry.copies.length ? el("p", { class: "flag" }, "Flagged: its photo is a copy of the photo beside it.") : null,
    sides,
    el("p", { class: "review", role: "status", dataset: { review: id } }, reviewText(listed)),
    el("div", { class: "actions" }, reviewButtons(listed, "large")),
  );
}

function largeSide(entry, caption) {
  const name = fullName(entry);
  const large = entry.upload?.thumbnails?.["1024"] || entry.upload?.thumbnails?.["256"];
  const photo = large
    ? el("img", { src: large, alt: `Receipt of ${name}`, class: "large-photo" })
    : el("p", { class: "thumb none" }, `No photo (${entry.upload?.status || "none sent"})`);
  return el(
    "figure",
    { class: "side" },
    photo,
    el(
      "figcaption",
      {},
      el("strong", {}, `${caption}: ${name}`),
      details([
        ["Entry id", entry.submission_id],
        ["Status", entry.status],
        ["Email", entry.email],
        ["Email status", entry.email_status],
        ["Phone", entry.phone],
        ["Postal code", entry.postal_code],
        ["Received", when(entry.received_at)],
        ["Answers", Object.entries(entry.answers || {}).map(([q, a]) => `${q}: ${a}`).join("; ")],
        ["Code", entry.code],
        ["Review", entry.review ? `${entry.review.decision}${entry.review.reason ? `: ${entry.review.reason}` : ""}` : "not reviewed"],
      ]),
    ),
  );
}

function closeEntry() {
  state.open = null;
  $("entry-view").hidden = true;
  fill($("entry-view-body"));
}

$("close-entry").addEventListener("click", () => {
  const id = state.open;
  closeEntry();
  const card = id && document.querySelector(`li.entry[data-id="${CSS.escape(id)}"]`);
  if (card) card.focus();
});

// --- the keyboard --------------------------------------------------------------------------

function select(index) {
  const cards = document.querySelectorAll("#entries > li.entry");
  if (!cards.length) return;
  state.selected = Math.max(0, Math.min(cards.length - 1, index));
  cards[state.selected].focus();
  cards[state.selected].scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  // Letters typed into a field are the field's (a checkbox or a button takes none).
  const typing = "input:not([type=checkbox]):not([type=radio]), select, textarea, [contenteditable]";
  if (target instanceof HTMLElement && target.closest(typing)) {
    if (event.key === "Escape" && target.closest("form.reason")) target.closest("form.reason").hidden = true;
    return;
  }
  if ($("console").hidden || !state.campaign) return;
  const current = state.open
    ? state.entries.find((e) => e.submission_id === state.open)
    : state.entries[state.selected];
  switch (event.key) {
    case "j":
      select(state.selected + 1);
      break;
    case "k":
      select(state.selected - 1);
      break;
    case "o":
      if (current) openEntry(current.submission_id);
      break;
    case "Escape":
      if (state.open) $("close-entry").click();
      break;
    case "a":
      if (current && canWrite()) decide(current, "approved");
      break;
    case "r":
      if (current && canWrite()) {
        event.preventDefault(); // the r is not typed into the reason
        askReason(current);
      }
      break;
    default:
      return;
  }
});

// --- the outcome ---------------------------------------------------------------------------

async function loadOutcome() {
  const campaign = state.campaign;
  fill($("codes"), "Loading…");
  fill($("export-status"));
  fill($("draw-error"));
  fill($("verification"));
  read(campaignPath(campaign.campaign_id, "/codes")).then(
    (codes) => {
      if (state.campaign !== campaign) return;
      fill($("codes"), codes.gives_codes
        ? `${codes.available} codes available, ${codes.given} given, ${codes.waitlisted} entries waitlisted`
        : "This campaign gives no codes.");
    },
    (error) => fill($("codes"), `The codes could not be loaded: ${error.message}`),
  );
  await loadDraw(campaign);
}

async function loadDraw(campaign) {
  let found;
  try {
    found = await read(campaignPath(campaign.campaign_id, "/draw"));
  } catch (error) {
    fill($("draw"), el("p", { class: "error" }, `The draw could not be loaded: ${error.message}`));
    return;
  }
  if (state.campaign !== campaign) return;
  showDraw(found);
}

function showDraw(found) {
  const box = fill($("draw"));
  const made = found.commitment;
  $("draw-form").hidden = true;
  $("verify-draw").hidden = true;
  if (!made) {
    box.append(el("p", {}, "No draw is committed. An operator commits it before the campaign closes, with ",
      el("code", {}, `fleet campaigns draw ${found.campaign_id} --commit`), " (the seed is shown to them only)."));
    return;
  }
  box.append(
    el("p", {}, `Committed at ${when(made.committed_at)}, ${made.committed_after_opening ? "after" : "before"} the campaign opened, with ${made.entries_at_commit} entries stored then.`),
    details([["Sha256 of the seed", made.seed_sha256], ["The campaign closes", when(found.closes_at)]]),
  );
  const draw = found.draw;
  if (draw) {
    box.append(drawResult(draw));
    $("verify-draw").hidden = false;
    return;
  }
  if (!found.closed) {
    box.append(el("p", {}, "The draw runs once the campaign has closed."));
    return;
  }
  $("draw-form").hidden = !canWrite();
  if (!canWrite()) box.append(el("p", {}, "The campaign has closed; a key with campaigns:write runs its draw."));
}

function drawResult(draw) {
  return el(
    "div",
    { class: "draw-result" },
    el("p", {}, `Drawn at ${when(draw.drawn_at)} among ${draw.eligible} eligible entries.`),
    details([["Seed", draw.seed], ["Digest of the eligible ids", draw.digest]]),
    el("h4", {}, `Winners (${draw.winners.length})`),
    el("ol", { class: "winners", id: "winners" }, draw.winners.map((id) => el("li", {}, id))),
  );
}

$("draw-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const campaign = state.campaign;
  fill($("draw-error"));
  const winners = Number($("draw-winners").value);
  const seed = $("draw-seed").value.trim();
  try {
    const response = await call("POST", campaignPath(campaign.campaign_id, "/draw"), { body: { winners, seed } });
    await response.json();
  } catch (error) {
    fill($("draw-error"), `The draw was not run: ${error.message}`);
    return;
  }
  $("draw-seed").value = "";
  await loadDraw(campaign);
});

$("verify-draw").addEventListener("click", async () => {
  const campaign = state.campaign;
  fill($("verification"), el("p", { role: "status" }, "Verifying…"));
  let checked;
  try {
    checked = await read(campaignPath(campaign.campaign_id, "/draw/verification"));
  } catch (error) {
    fill($("verification"), el("p", { class: "error", role: "alert" }, `Not verified: ${error.message}`));
    return;
  }
  fill(
    $("verification"),
    el("ul", { class: "checks" }, checked.checks.map((c) => el("li", { class: c.held ? "ok" : "failed" }, `${c.held ? "ok" : "FAILED"}: ${c.check}`))),
    el("p", { role: "status", id: "verdict" }, checked.verified ? "Verified: the committed seed, the frozen entries and the same winners." : "Not verified."),
    checked.entries_changed ? el("p", { class: "hint" }, `${checked.eligible_now} entries are eligible today, not the frozen ones: the draw stands on the frozen ids.`) : null,
  );
});

$("download-export").addEventListener("click", async () => {
  const campaign = state.campaign;
  fill($("export-status"), "Preparing the export…");
  let blob;
  try {
    blob = await (await call("GET", campaignPath(campaign.campaign_id, "/export"))).blob();
  } catch (error) {
    fill($("export-status"), `The export failed: ${error.message}`);
    return;
  }
  // The key travels in a header, so the file is fetched here and handed over as a blob.
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: `${campaign.campaign_id}-entries.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  fill($("export-status"), `Downloaded ${campaign.campaign_id}-entries.csv (${blob.size} bytes).`);
});

if (signedIn()) start();
else $("api-key").focus();
