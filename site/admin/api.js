// The admin API as the console calls it: same origin, the key in the x-api-key header only.
// The key lives in this tab's sessionStorage (never a cookie, never a URL).

const STORED = "fleet-console-key";

let key = sessionStorage.getItem(STORED);

export function signedIn() {
  return Boolean(key);
}

export function signIn(typed) {
  key = typed;
  sessionStorage.setItem(STORED, typed);
}

export function signOut() {
  key = null;
  sessionStorage.removeItem(STORED);
}

/** An error the API answered (its status, code, message and fields), or a network failure (status 0). */
export class ApiFailure extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

async function failure(response) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not JSON: the status says enough
  }
  const fields = error.fields || {};
  const named = Object.entries(fields).map(([name, problems]) => `${name}: ${problems.join(" ")}`);
  const message = [error.message || `The API answered ${response.status}.`, ...named].join(" ");
  return new ApiFailure(response.status, error.code || "http_error", message, fields);
}

/** The response of a call, refused (ApiFailure) unless 2xx. */
export async function call(method, path, { body, headers } = {}) {
  const sent = { "x-api-key": key || "", ...(headers || {}) };
  const options = { method, headers: sent, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (exc) {
    throw new ApiFailure(0, "network", `The API could not be reached (${exc.message}).`);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/** The JSON of a GET. */
export async function read(path) {
  return (await call("GET", path)).json();
}

export function campaignPath(campaignId, rest = "") {
  return `/v1/campaigns/${encodeURIComponent(campaignId)}${rest}`;
}
