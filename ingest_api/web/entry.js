// The campaign entry page. No build step, no libraries: the API is at this page's own
// origin, the campaign id is the last segment of its path (/c/{campaign_id}).
"use strict";

(function () {
  const API = window.location.origin;
  const campaignId = decodeURIComponent(window.location.pathname.replace(/\/+$/, "").split("/").pop());

  // The server's rules (events/schemas.py SubmissionRequestSchema), checked here first.
  // An email address as events/emails.py takes it: an ASCII dot-atom before the @, and
  // after it a DNS name of two or more labels whose last is not all digits; a label is
  // LDH, or letters, marks, digits and inner hyphens of any script (the server converts
  // those to punycode, and refuses a name that has no exact punycode form).
  const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*$/;
  const LDH_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const IDN_LABEL = /^[\p{L}\p{M}\p{N}]([\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
  const NON_ASCII = /[^\x00-\x7f]/;
  const DECIMAL = /^\p{Nd}+$/u;
  const PHONE = /^\+?[0-9][0-9 ().-]{4,22}[0-9]$/;
  const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]$/;
  const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
  // Server field names that belong to the photo input.
  const PHOTO_FIELDS = ["upload_key", "content_type", "content_length"];

  const $ = (id) => document.getElementById(id);
  const form = $("entry-form");
  let limits = { content_types: ["image/jpeg", "image/png", "image/webp"], max_bytes: 10 * 1024 * 1024 };
  // The photo already sent to S3, so that fixing a typo does not upload it again.
  let uploaded = null;

  function formatBytes(n) {
    return n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MB` : `${Math.round(n / 1024)} KB`;
  }

  function formatDate(iso) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
  }

  async function loadCampaign() {
    const state = $("campaign-state");
    let response;
    try {
      response = await fetch(`${API}/v1/campaigns/${encodeURIComponent(campaignId)}`, {
        headers: { Accept: "application/json" },
      });
    } catch (err) {
      $("campaign-name").textContent = "The campaign could not be loaded";
      state.textContent = "Check your connection and reload the page.";
      return;
    }
    if (!response.ok) {
      $("campaign-name").textContent = response.status === 404 ? "No such campaign" : "The campaign could not be loaded";
      state.textContent = response.status === 404 ? "Check the address of this page." : "Please try again later.";
      return;
    }
    const campaign = await response.json();
    document.title = `${campaign.name}: enter`;
    $("campaign-name").textContent = campaign.name;
    limits = campaign.uploads || limits;
    $("photo-max").textContent = formatBytes(limits.max_bytes);
    if (campaign.open) {
      state.textContent = `Open for entries until ${formatDate(campaign.closes_at)}.`;
      state.className = "state open";
      form.hidden = false;
    } else {
      const opensLater = new Date(campaign.opens_at) > new Date();
      state.textContent = opensLater
        ? `Not open yet: entries open on ${formatDate(campaign.opens_at)}.`
        : `Closed: entries closed on ${formatDate(campaign.closes_at)}.`;
      state.className = "state closed";
    }
  }

  // --- errors next to their fields --------------------------------------------------

  function inputFor(field) {
    return PHOTO_FIELDS.includes(field) ? $("photo") : $(field);
  }

  function showFieldError(field, message) {
    const input = inputFor(field);
    if (!input || !$(`${input.id}-error`)) {
      return false;
    }
    input.setAttribute("aria-invalid", "true");
    const slot = $(`${input.id}-error`);
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    return true;
  }

  function showFormError(message) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
  }

  function clearErrors() {
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll(".error").forEach((el) => (el.textContent = ""));
    $("form-error").hidden = true;
    $("form-error").textContent = "";
  }

  function focusFirstError() {
    const first = form.querySelector("[aria-invalid='true']");
    if (first) {
      first.focus();
    } else if (!$("form-error").hidden) {
      $("form-error").focus();
    }
  }

  // Shows an API error answer ({"error": {"code", "message", "fields"}}) on the form.
  function showApiError(status, body) {
    const error = (body && body.error) || { message: `Unexpected answer (HTTP ${status}).` };
    let placed = false;
    for (const [field, messages] of Object.entries(error.fields || {})) {
      const text = [].concat(messages).join(" ");
      if (!showFieldError(field, text)) {
        showFormError(`${field}: ${text}`);
      }
      placed = true;
    }
    if (!placed) {
      showFormError(error.message);
    } else if ($("form-error").hidden) {
      showFormError("Please correct the fields marked below.");
    }
  }

  // --- client-side checks -----------------------------------------------------------

  function readForm() {
    const text = (id) => $(id).value.trim();
    return {
      first_name: text("first_name"),
      last_name: text("last_name"),
      email: text("email"),
      phone: text("phone"),
      postal_code: text("postal_code"),
      consent: $("consent").checked,
      photo: $("photo").files[0] || null,
    };
  }

  function validEmail(address) {
    const at = address.lastIndexOf("@");
    const local = address.slice(0, at);
    const labels = address.slice(at + 1).split(".");
    if (at < 1 || local.length > 64 || !EMAIL_LOCAL.test(local)) return false;
    if (labels.length < 2 || DECIMAL.test(labels[labels.length - 1])) return false;
    return labels.every((label) => LDH_LABEL.test(label) || (NON_ASCII.test(label) && IDN_LABEL.test(label)));
  }

  function check(entry) {
    const problems = {};
    for (const [field, label] of [["first_name", "first name"], ["last_name", "last name"]]) {
      if (!entry[field]) problems[field] = `Enter your ${label}.`;
      else if (entry[field].length > 100) problems[field] = "At most 100 characters.";
      else if (FORBIDDEN.test(entry[field])) problems[field] = "Contains characters that are not allowed.";
    }
    if (!entry.email) problems.email = "Enter your email address.";
    else if (entry.email.length > 254 || !validEmail(entry.email)) problems.email = "Not a valid email address.";
    if (entry.phone && !PHONE.test(entry.phone)) problems.phone = "Not a valid phone number.";
    if (entry.postal_code && !POSTAL_CODE.test(entry.postal_code)) problems.postal_code = "Not a valid postal code.";
    if (!entry.photo) problems.photo = "Choose a photo of your receipt.";
    else if (!limits.content_types.includes(entry.photo.type)) problems.photo = "The photo must be a JPEG, PNG or WebP image.";
    else if (entry.photo.size < 1) problems.photo = "The photo is empty.";
    else if (entry.photo.size > limits.max_bytes) problems.photo = `The photo must be at most ${formatBytes(limits.max_bytes)}.`;
    if (!entry.consent) problems.consent = "Consent is required.";
    return problems;
  }

  // --- sending ----------------------------------------------------------------------

  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function postJson(path, body, headers) {
    const response = await fetch(`${API}${path}`, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, headers || {}),
      body: JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (err) {
      answer = null;
    }
    return { ok: response.ok, status: response.status, body: answer };
  }

  // Sends the file straight to S3 with the presigned POST; resolves once S3 has it.
  function sendToS3(post, file, progress) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(post.fields)) data.append(name, value);
      data.append("file", file); // S3 ignores every field after the file
      const xhr = new XMLHttpRequest();
      xhr.open("POST", post.url);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          progress.value = 100;
          resolve();
        } else {
          reject(new Error(`The photo was refused (HTTP ${xhr.status}).`));
        }
      });
      xhr.addEventListener("error", () => reject(new Error("The photo could not be sent. Check your connection.")));
      xhr.send(data);
    });
  }

  async function uploadPhoto(file) {
    if (uploaded && uploaded.file === file) return uploaded.key;
    const asked = await postJson(`/v1/campaigns/${encodeURIComponent(campaignId)}/uploads`, {
      content_type: file.type,
      content_length: file.size,
    });
    if (!asked.ok) {
      showApiError(asked.status, asked.body);
      return null;
    }
    const box = $("upload");
    const progress = $("upload-progress");
    progress.value = 0;
    box.hidden = false;
    await sendToS3(asked.body, file, progress);
    uploaded = { file: file, key: asked.body.key };
    return asked.body.key;
  }

  async function submit(event) {
    event.preventDefault();
    clearErrors();
    const entry = readForm();
    const problems = check(entry);
    if (Object.keys(problems).length) {
      for (const [field, message] of Object.entries(problems)) showFieldError(field, message);
      focusFirstError();
      return;
    }
    const button = $("submit");
    button.disabled = true;
    button.textContent = "Sending…";
    try {
      const uploadKey = await uploadPhoto(entry.photo);
      if (!uploadKey) return;
      const body = {
        first_name: entry.first_name,
        last_name: entry.last_name,
        email: entry.email,
        consent: true,
        upload_key: uploadKey,
      };
      if (entry.phone) body.phone = entry.phone;
      if (entry.postal_code) body.postal_code = entry.postal_code;
      const sent = await postJson(`/v1/campaigns/${encodeURIComponent(campaignId)}/submissions`, body, {
        "Idempotency-Key": randomKey(),
      });
      if (!sent.ok) {
        showApiError(sent.status, sent.body);
        return;
      }
      form.hidden = true;
      $("submission-id").textContent = sent.body.submission_id;
      $("thanks").hidden = false;
      $("thanks-heading").focus();
    } catch (err) {
      showFormError(err.message || "Something went wrong. Please try again.");
    } finally {
      button.disabled = false;
      button.textContent = "Send my entry";
      focusFirstError();
    }
  }

  form.addEventListener("submit", submit);
  // A new photo must be uploaded again; a changed field loses its stale error.
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (input.getAttribute("aria-invalid")) {
      input.removeAttribute("aria-invalid");
      const slot = $(`${input.id}-error`);
      if (slot) slot.textContent = "";
    }
  });
  loadCampaign();
})();
