// agentrt console: vanilla JS over the HTTP API, no build step (native ES modules).
import { viewChat, viewSessions } from "./chat.js";
import { viewEntities } from "./entities.js";
import { api, badge, errorBox, getAuth, h, main, me, refreshMe, route, setAuth, setRerender, show, toast } from "./core.js";
import { viewAdd } from "./wizard.js";

function viewAuth() {
  const auth = getAuth() || { mode: "header", value: "dev" };
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const modeHeader = h("input", { type: "radio", name: "mode", id: "mode-header", value: "header", checked: auth.mode === "header" });
  const modeToken = h("input", { type: "radio", name: "mode", id: "mode-token", value: "token", checked: auth.mode === "token" });
  const value = h("input", { type: auth.mode === "token" ? "password" : "text", id: "auth-value", name: "value",
    autocomplete: "off", spellcheck: "false", value: auth.mode === "header" ? auth.value : "", required: true,
    "aria-describedby": "auth-hint" });
  const syncType = () => { value.type = modeToken.checked ? "password" : "text"; };
  modeHeader.addEventListener("change", syncType);
  modeToken.addEventListener("change", syncType);
  const form = h("form", { class: "card", "aria-labelledby": "auth-title", onsubmit: async (e) => {
    e.preventDefault();
    setAuth({ mode: modeToken.checked ? "token" : "header", value: value.value.trim() });
    await refreshMe();
    if (me) { toast(`Signed in as ${me.sub}`); location.hash = "#/integrations"; }
    else status.textContent = "Those credentials were not accepted.";
  } },
    h("h2", { id: "auth-title" }, "Sign in"),
    h("fieldset", {}, h("legend", {}, "How to identify"),
      h("div", {}, modeHeader, h("label", { for: "mode-header" }, " Principal (dev mode only)")),
      h("div", {}, modeToken, h("label", { for: "mode-token" }, " Bearer token"))),
    h("div", { class: "field" },
      h("label", { for: "auth-value" }, "Principal or token"),
      h("span", { class: "hint", id: "auth-hint" },
        "Principal: sub[;org=ORG;groups=a,b;admin] — e.g. alice;org=acme. Token: from `agentrt token --sub alice`. Kept in this tab only.")),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Sign in"),
      h("button", { type: "button", onclick: async () => { setAuth(null); await refreshMe(); toast("Signed out"); } }, "Sign out")),
    status);
  form.querySelector(".field").insertBefore(value, form.querySelector(".hint"));
  show(form);
}


// ---------------------------------------------------------------- integrations
async function viewIntegrations() {
  const rows = await api("GET", "/api/integrations");
  const body = h("tbody");
  for (const it of rows) {
    const usable = it.status === "loaded" && it.loaded_here && it.enabled;
    const actions = h("td", { class: "actions" });
    if (usable && it.allowed_scopes.length) {
      actions.append(h("a", { class: "button", href: `#/add/${it.domain}`, "aria-label": `Add ${it.name}` }, "Add"));
    }
    if (me && me.is_admin) {
      actions.append(h("button", { type: "button", onclick: async () => {
        await api("PATCH", `/api/integrations/${it.domain}`, { enabled: !it.enabled });
        toast(`${it.name} ${it.enabled ? "disabled" : "enabled"}`);
        route();
      } }, it.enabled ? "Disable" : "Enable"));
    }
    body.append(h("tr", {},
      h("th", { scope: "row" }, it.name, h("br"), h("code", {}, it.domain)),
      h("td", {}, badge(it.status, it.status === "loaded" ? "ok" : "bad"), " ",
        it.enabled ? badge("enabled", "ok") : badge("disabled", "bad"), it.error_key ? [" ", h("code", {}, it.error_key)] : null),
      h("td", {}, it.trust_tier === "untrusted" ? badge("untrusted", "warn") : "trusted"),
      h("td", {}, it.required_tier_override ? `${it.required_tier_override} (override)` : it.required_tier),
      h("td", {}, it.allowed_scopes.join(", ") || "none"),
      actions));
  }
  show(h("h2", {}, "Integrations"),
    h("table", {}, h("caption", { class: "visually-hidden" }, "Installed integrations"),
      h("thead", {}, h("tr", {}, ...["Integration", "Status", "Trust", "Required tier", "Scopes", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
      body));
}


// ---------------------------------------------------------------- entries
async function viewEntries() {
  const entries = await api("GET", "/api/entries");
  const body = h("tbody");
  for (const e of entries) {
    const actions = h("td", { class: "actions" });
    if (e.manageable) {
      actions.append(
        h("a", { class: "button", href: `#/entries/${e.id}` }, "Edit"),
        h("button", { type: "button", onclick: async () => { await api("POST", `/api/entries/${e.id}/reload`); toast(`${e.title} will be set up afresh`); route(); } }, "Reload"),
        h("button", { type: "button", onclick: async () => { await api("PATCH", `/api/entries/${e.id}`, { disabled: !e.disabled }); route(); } }, e.disabled ? "Enable" : "Disable"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`Delete ${e.title}? Its secrets are deleted too.`)) return;
          await api("DELETE", `/api/entries/${e.id}`); toast(`${e.title} deleted`); route();
        } }, "Delete"));
    }
    const secrets = Object.entries(e.secrets).map(([k, v]) => h("div", {}, h("code", {}, k), " ", h("span", { class: "mono" }, v)));
    body.append(h("tr", {},
      h("th", { scope: "row" }, e.title),
      h("td", {}, h("code", {}, e.domain)),
      h("td", {}, e.scope),
      h("td", {}, badge(e.state, e.state === "loaded" ? "ok" : e.state.includes("error") ? "bad" : ""), e.disabled ? [" ", badge("disabled", "bad")] : null),
      h("td", {}, secrets.length ? secrets : h("span", { class: "muted" }, "none")),
      actions));
  }
  show(h("h2", {}, "Config entries"),
    entries.length ? h("table", {}, h("caption", { class: "visually-hidden" }, "Config entries you can see"),
      h("thead", {}, h("tr", {}, ...["Title", "Integration", "Scope", "State", "Secrets", "Actions"].map((c) => h("th", { scope: "col" }, c)))), body)
      : h("p", {}, "No entries yet. ", h("a", { href: "#/integrations" }, "Add one from an integration.")));
}

async function viewEntry(id) {
  const e = await api("GET", `/api/entries/${id}`);
  const title = h("input", { type: "text", id: "e-title", value: e.title, required: true });
  const dataInputs = Object.entries(e.data).filter(([, v]) => typeof v === "string" || typeof v === "number")
    .map(([k, v]) => [k, h("input", { type: "text", id: `e-d-${k}`, value: v })]);
  const secretInputs = Object.entries(e.secrets).map(([k, mask]) => [k, mask,
    h("input", { type: "password", id: `e-s-${k}`, autocomplete: "new-password", placeholder: `unchanged (${mask})`, "aria-describedby": `e-s-${k}-hint` })]);
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    const data = {};
    for (const [k, el] of dataInputs) data[k] = typeof e.data[k] === "number" ? Number(el.value) : el.value;
    // The masked round trip: an untouched secret goes back as its mask and keeps the stored value.
    const secrets = {};
    for (const [k, mask, el] of secretInputs) secrets[k] = el.value === "" ? mask : el.value;
    try {
      await api("PATCH", `/api/entries/${id}`, { title: title.value, data, secrets, expected_revision: e.revision });
      toast("Saved"); location.hash = "#/entries";
    } catch (err) { form.prepend(errorBox(err)); }
  } },
    h("h2", {}, `Edit ${e.title}`),
    h("div", { class: "field" }, h("label", { for: "e-title" }, "Title"), title),
    ...dataInputs.map(([k, el]) => h("div", { class: "field" }, h("label", { for: el.id }, k), el)),
    ...secretInputs.map(([k, , el]) => h("div", { class: "field" }, h("label", { for: el.id }, `${k} (secret)`), el,
      h("span", { class: "hint", id: `${el.id}-hint` }, "Write-only. Leave empty to keep the stored value."))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"), h("a", { class: "button", href: "#/entries" }, "Cancel")));
  show(form);
}


// ---------------------------------------------------------------- router
const ROUTES = [
  [/^#\/auth$/, () => viewAuth()],
  [/^#\/integrations$/, () => viewIntegrations()],
  [/^#\/add\/([a-z][a-z0-9_]*)$/, (m) => viewAdd(m[1])],
  [/^#\/entries$/, () => viewEntries()],
  [/^#\/entries\/([\w.:-]+)$/, (m) => viewEntry(m[1])],
  [/^#\/entities$/, () => viewEntities()],
  [/^#\/sessions$/, () => viewSessions()],
  [/^#\/chat\/([\w.:-]+)$/, (m) => viewChat(m[1])],
];

async function render() {
  const hash = location.hash || "#/integrations";
  if (!getAuth() && hash !== "#/auth") { location.hash = "#/auth"; return; }
  for (const a of document.querySelectorAll("nav a")) {
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  for (const [pattern, view] of ROUTES) {
    const m = hash.match(pattern);
    if (m) {
      try { await view(m); } catch (err) { show(errorBox(err)); }
      // Move focus to the new content for keyboard and screen-reader users, unless a view placed it already.
      if (!main().contains(document.activeElement)) main().focus({ preventScroll: true });
      return;
    }
  }
  show(h("p", {}, "Nothing here. ", h("a", { href: "#/integrations" }, "Integrations")));
}

setRerender(render);
window.addEventListener("hashchange", render);
await refreshMe();
await render();
