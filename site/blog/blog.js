// The blog's pages: the article list (/blog/) and an article with its comments (/blog/a/{id}).
// No build step, no libraries: the API is at the page's own origin; every text is set as
// text, never as HTML.
"use strict";

(function () {
  const API = window.location.origin;
  const PAGE_SIZE = 10;
  const COMMENTS_PAGE_SIZE = 20;
  // The server's rules (events/blog.py CommentRequestSchema), checked here first. An email
  // address as events/emails.py takes it (the same checks as the entry page).
  const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*$/;
  const LDH_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const IDN_LABEL = /^[\p{L}\p{M}\p{N}]([\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
  const NON_ASCII = /[^\x00-\x7f]/;
  const DECIMAL = /^\p{Nd}+$/u;
  const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

  const $ = (id) => document.getElementById(id);

  async function getJson(path) {
    const response = await fetch(`${API}${path}`, { headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    return { ok: response.ok, status: response.status, body: body };
  }

  function errorCode(answer) {
    return answer.body && answer.body.error ? answer.body.error.code : null;
  }

  function formatDate(iso) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function problem(state, message) {
    state.textContent = message;
    state.classList.add("problem");
  }

  // --- the article list -------------------------------------------------------------

  async function showList() {
    const state = $("list-state");
    const cursor = new URLSearchParams(window.location.search).get("cursor");
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set("cursor", cursor);
    $("newest").hidden = !cursor;
    let answer;
    try {
      answer = await getJson(`/v1/articles?${query}`);
    } catch (err) {
      problem(state, "The articles could not be loaded. Check your connection and reload the page.");
      return;
    }
    if (!answer.ok) {
      problem(state, errorCode(answer) === "invalid_cursor"
        ? "This page of the list is out of date: start from the newest articles."
        : "The articles could not be loaded. Please try again later.");
      return;
    }
    const list = $("articles");
    for (const article of answer.body.articles) {
      const item = element("li", "article");
      item.id = `article-${article.article_id}`;
      item.dataset.articleId = article.article_id;
      const heading = element("h2");
      const link = element("a", "article-link", article.title);
      link.href = `/blog/a/${encodeURIComponent(article.article_id)}`;
      heading.append(link);
      item.append(heading, element("p", "meta", `By ${article.author}, ${formatDate(article.published_at)}`));
      item.append(element("p", "excerpt", article.excerpt));
      list.append(item);
    }
    state.textContent = answer.body.articles.length ? "" : cursor ? "No older articles." : "No articles yet.";
    const older = $("older");
    older.hidden = !answer.body.next_cursor;
    if (answer.body.next_cursor) older.href = `/blog/?cursor=${encodeURIComponent(answer.body.next_cursor)}`;
  }

  // --- an article and its comments --------------------------------------------------

  const articleId = decodeURIComponent(window.location.pathname.replace(/\/+$/, "").split("/").pop());
  const articlePath = `/v1/articles/${encodeURIComponent(articleId)}`;
  let commentsCursor = null;

  async function showArticle() {
    const state = $("article-state");
    let answer;
    try {
      answer = await getJson(articlePath);
    } catch (err) {
      $("article-title").textContent = "The article could not be loaded";
      problem(state, "Check your connection and reload the page.");
      return;
    }
    if (!answer.ok) {
      const code = errorCode(answer);
      $("article-title").textContent = code === "article_unpublished" ? "This article is no longer published"
        : answer.status === 404 ? "No such article" : "The article could not be loaded";
      problem(state, answer.status === 404 ? "Find another one in the list of articles." : "Please try again later.");
      return;
    }
    const article = answer.body;
    document.title = `${article.title} · The blog`;
    $("article-title").textContent = article.title;
    let meta = `By ${article.author}`;
    if (article.published_at) meta += `, ${formatDate(article.published_at)}`;
    if (article.changed_at) meta += ` (edited ${formatDate(article.changed_at)})`;
    $("article-meta").textContent = meta;
    const content = $("article-content");
    for (const paragraph of article.content.split(/\n\s*\n/)) content.append(element("p", "", paragraph));
    if (article.media && article.media.url) {
      $("article-media-link").href = article.media.url;
      $("article-media-link").textContent = `The article's ${article.media.type}`;
      $("article-media").hidden = false;
    }
    $("comments-section").hidden = false;
    if (article.published) {
      $("comment-section").hidden = false;
    } else {
      state.textContent = "A draft: not open for comments.";
    }
    await loadComments();
  }

  function addComment(comment) {
    const item = element("li", "comment");
    item.id = `comment-${comment.comment_id}`;
    item.dataset.commentId = comment.comment_id;
    const who = element("p", "meta");
    who.append(element("span", "comment-author", comment.author), ` · ${formatDate(comment.created_at)}`);
    item.append(who, element("p", "comment-body", comment.body));
    $("comments").append(item);
  }

  async function loadComments() {
    const state = $("comments-state");
    const more = $("more-comments");
    const query = new URLSearchParams({ limit: String(COMMENTS_PAGE_SIZE) });
    if (commentsCursor) query.set("cursor", commentsCursor);
    more.disabled = true;
    let answer;
    try {
      answer = await getJson(`${articlePath}/comments?${query}`);
    } catch (err) {
      answer = { ok: false, status: 0, body: null };
    } finally {
      more.disabled = false;
    }
    if (!answer.ok) {
      problem(state, "The comments could not be loaded. Please try again later.");
      return;
    }
    state.classList.remove("problem");
    answer.body.comments.forEach(addComment);
    commentsCursor = answer.body.next_cursor;
    more.hidden = !commentsCursor;
    state.textContent = $("comments").children.length ? "" : "No comments yet.";
  }

  // --- the comment form: errors next to their fields, as on the entry page ----------

  const form = $("comment-form");
  // One Idempotency-Key per comment as written: a retry of the same text is the same comment.
  let pendingKey = null;

  function showFieldError(field, message) {
    const input = $(field);
    const slot = $(`${field}-error`);
    if (!input || !slot || !form.contains(input)) return false;
    input.setAttribute("aria-invalid", "true");
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
    if (first) first.focus();
    else if (!$("form-error").hidden) $("form-error").focus();
  }

  // Shows an API error answer ({"error": {"code", "message", "fields"}}) on the form.
  function showApiError(status, body) {
    const error = (body && body.error) || { message: `Unexpected answer (HTTP ${status}).` };
    let placed = false;
    for (const [field, messages] of Object.entries(error.fields || {})) {
      const text = [].concat(messages).join(" ");
      if (!showFieldError(field, text)) showFormError(field === "_body" ? text : `${field}: ${text}`);
      placed = true;
    }
    if (!placed) showFormError(error.message);
    else if ($("form-error").hidden) showFormError("Please correct the fields marked below.");
  }

  function validEmail(address) {
    const at = address.lastIndexOf("@");
    const local = address.slice(0, at);
    const labels = address.slice(at + 1).split(".");
    if (at < 1 || local.length > 64 || !EMAIL_LOCAL.test(local)) return false;
    if (labels.length < 2 || DECIMAL.test(labels[labels.length - 1])) return false;
    return labels.every((label) => LDH_LABEL.test(label) || (NON_ASCII.test(label) && IDN_LABEL.test(label)));
  }

  function check(comment) {
    const problems = {};
    if (!comment.author) problems.author = "Enter your name.";
    else if (comment.author.length > 100) problems.author = "At most 100 characters.";
    else if (FORBIDDEN.test(comment.author)) problems.author = "Contains characters that are not allowed.";
    if (!comment.email) problems.email = "Enter your email address.";
    else if (comment.email.length > 254 || !validEmail(comment.email)) problems.email = "Not a valid email address.";
    if (!comment.body) problems.body = "Write your comment.";
    else if (comment.body.length > 5000) problems.body = "At most 5,000 characters.";
    return problems;
  }

  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function submit(event) {
    event.preventDefault();
    clearErrors();
    const comment = { author: $("author").value.trim(), email: $("email").value.trim(), body: $("body").value.trim() };
    const problems = check(comment);
    if (Object.keys(problems).length) {
      for (const [field, message] of Object.entries(problems)) showFieldError(field, message);
      focusFirstError();
      return;
    }
    const button = $("submit");
    button.disabled = true;
    button.textContent = "Sending…";
    pendingKey = pendingKey || randomKey();
    try {
      const response = await fetch(`${API}${articlePath}/comments`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": pendingKey },
        body: JSON.stringify(comment),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
      if (!response.ok) {
        showApiError(response.status, body);
        return;
      }
      pendingKey = null;
      form.hidden = true;
      $("comment-id").textContent = body.comment_id;
      $("thanks").hidden = false;
      $("thanks-heading").focus();
    } catch (err) {
      showFormError("Your comment could not be sent. Check your connection and try again.");
    } finally {
      button.disabled = false;
      button.textContent = "Send my comment";
      focusFirstError();
    }
  }

  function writeAnother() {
    $("body").value = "";
    clearErrors();
    $("thanks").hidden = true;
    form.hidden = false;
    $("body").focus();
  }

  if (document.body.dataset.page === "list") {
    showList();
  } else if (document.body.dataset.page === "article") {
    form.addEventListener("submit", submit);
    // A changed comment is a new one (a new key); a changed field loses its stale error.
    form.addEventListener("input", (event) => {
      pendingKey = null;
      const input = event.target;
      if (input.getAttribute("aria-invalid")) {
        input.removeAttribute("aria-invalid");
        const slot = $(`${input.id}-error`);
        if (slot) slot.textContent = "";
      }
    });
    $("more-comments").addEventListener("click", loadComments);
    $("another").addEventListener("click", writeAnother);
    showArticle();
  }
})();
