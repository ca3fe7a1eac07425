// Console core: DOM helper, auth storage, the API client. Values from the server are always
// inserted as text (textContent), never as HTML.
const AUTH_KEY = "agentrt.auth";
export const main = () => document.getElementById("main");

// ---------------------------------------------------------------- helpers
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes);
}

export function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 4000);
}

export function badge(text, kind) { return h("span", { class: `badge ${kind || ""}` }, text); }

export class ApiError extends Error {
  constructor(status, key, message) { super(message); this.status = status; this.key = key; }
}

// ---------------------------------------------------------------- auth
export function getAuth() {
  try { return JSON.parse(sessionStorage.getItem(AUTH_KEY)) || null; } catch { return null; }
}
export function setAuth(auth) {
  if (auth) sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth)); else sessionStorage.removeItem(AUTH_KEY);
}

export async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const auth = getAuth();
  if (auth && auth.mode === "token") headers["Authorization"] = `Bearer ${auth.value}`;
  if (auth && auth.mode === "header") headers["X-Agentrt-Principal"] = auth.value;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const key = (data && data.error) || `http_${res.status}`;
    throw new ApiError(res.status, key, (data && data.message) || res.statusText);
  }
  return data;
}

export function errorBox(err) {
  const text = err instanceof ApiError ? `${err.message} (${err.key})` : String(err.message || err);
  return h("p", { class: "alert", role: "alert" }, text);
}

export let me = null;
export async function refreshMe() {
  const who = document.getElementById("who");
  me = null;
  if (!getAuth()) { who.textContent = "not signed in"; return; }
  try {
    me = await api("GET", "/api/me");
    who.textContent = `signed in as ${me.sub}${me.org_id ? " @ " + me.org_id : ""}${me.is_admin ? " (admin)" : ""}`;
  } catch (err) {
    who.textContent = `credentials rejected: ${err.key || err.message}`;
  }
}


// Views re-render the current page after an action; the router registers itself here.
let rerender = () => {};
export function setRerender(fn) { rerender = fn; }
export function route() { return rerender(); }
