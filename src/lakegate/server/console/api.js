// The HTTP API as the console calls it: the session cookie travels by itself; every change
// carries the session's CSRF token. Errors become ApiError with the server's code and hint.

let csrf = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `the server answered ${status}`);
    this.status = status;
    this.code = e.code || `http.${status}`;
    this.hint = e.hint || null;
    this.position = e.position || null;
  }
}

export function setCsrf(token) {
  csrf = token;
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export async function call(method, path, { json, body, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  if (method !== "GET" && csrf) init.headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { error: { code: "console.offline", message: "lakegate cannot be reached", hint: "is the server running?" } });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { message: text.slice(0, 300) } };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && path !== "/v1/session") onSignedOut(error);
    throw error;
  }
  return data;
}

export const get = (path, opts) => call("GET", path, opts);
export const post = (path, json, opts = {}) => call("POST", path, { ...opts, json });
export const put = (path, json) => call("PUT", path, { json });
export const patch = (path, json) => call("PATCH", path, { json });
export const del = (path) => call("DELETE", path);

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
