// The config-flow wizard, rendered generically from a FlowView: no integration-specific code.
import { api, errorBox, h, me, show } from "./core.js";

// ---------------------------------------------------------------- config-flow wizard
export async function viewAdd(domain) {
  if (me && me.is_admin) {
    const scope = h("select", { id: "scope" }, ...["user", "org", "global", "group"].map((s) => h("option", { value: s }, s)));
    const group = h("input", { type: "text", id: "group" });
    show(h("form", { class: "card", onsubmit: async (e) => {
      e.preventDefault();
      await startFlow({ domain, scope: scope.value, group_id: scope.value === "group" ? group.value : null });
    } },
      h("h2", {}, `Add ${domain}`),
      h("div", { class: "field" }, h("label", { for: "scope" }, "Scope"), scope),
      h("div", { class: "field" }, h("label", { for: "group" }, "Group (group scope only)"), group),
      h("button", { type: "submit", class: "primary" }, "Continue")));
    return;
  }
  await startFlow({ domain, scope: "user" });
}

async function startFlow(start) {
  try { renderFlow(await api("POST", "/api/flows", start)); } catch (err) { show(errorBox(err)); }
}

const INPUT_TYPES = { text: "text", entity: "text", device: "text", area: "text", duration: "text",
  date: "date", time: "time", datetime: "datetime-local", color: "color", number: "number",
  password: "password", secret: "password" };

function fieldControl(f, id, describedBy, invalid, typed) {
  const common = { id, name: f.name, required: f.required, "aria-describedby": describedBy || null, "aria-invalid": invalid ? "true" : null };
  const value = typed !== undefined ? typed : f.default;
  if (f.type === "bool") return h("input", { ...common, type: "checkbox", checked: value === true, required: false });
  if (f.type === "select") {
    const sel = h("select", { ...common, multiple: f.multiple },
      f.required || f.multiple ? null : h("option", { value: "" }, "—"),
      ...f.options.map((o) => h("option", { value: o.value, selected: value === o.value || (Array.isArray(value) && value.includes(o.value)) }, o.label)));
    return sel;
  }
  const secret = f.type === "password" || f.type === "secret";
  return h("input", { ...common, type: INPUT_TYPES[f.type] || "text",
    // Secret fields are write-only: never prefilled, never remembered by the browser.
    value: secret || value === null || value === undefined ? null : value,
    autocomplete: secret ? "new-password" : "off", placeholder: f.placeholder,
    min: f.min, max: f.max, step: f.type === "number" ? "any" : null, maxlength: f.max_length });
}

function readValue(f, el) {
  if (f.type === "bool") return el.checked;
  if (f.type === "select" && f.multiple) return Array.from(el.selectedOptions).map((o) => o.value);
  const v = el.value;
  if (v === "") return undefined;
  if (f.type === "number") return Number(v);
  return v;
}

// ``typed``: what was just submitted, so a form shown again with errors keeps the user's non-secret input.
function renderFlow(view, typed = {}) {
  if (view.type === "create_entry") {
    show(h("div", { class: "card", role: "status" },
      h("h2", {}, "Entry created"),
      h("p", {}, `${view.domain}: `, h("strong", {}, view.title || view.entry_id)),
      h("a", { href: "#/entries" }, "Go to entries")));
    return;
  }
  if (view.type === "abort") {
    show(h("div", { class: "card" }, h("h2", {}, "Not added"),
      h("p", { class: "alert", role: "alert" }, view.reason ? view.reason.text : "The flow stopped."),
      h("a", { href: "#/integrations" }, "Back to integrations")));
    return;
  }
  const controls = [];
  const fields = view.fields.map((f) => {
    const id = `f-${f.name}`;
    const err = view.errors[f.name];
    const ids = [f.description ? `${id}-hint` : null, err ? `${id}-err` : null].filter(Boolean).join(" ");
    if (f.type === "note") {
      return h("div", { class: "field note" }, h("p", {}, h("strong", {}, f.label)), f.description ? h("p", {}, f.description) : null,
        f.image ? h("img", { src: f.image, alt: f.label }) : null);
    }
    const control = fieldControl(f, id, ids, Boolean(err), typed[f.name]);
    controls.push([f, control]);
    const label = h("label", { for: id }, f.label, f.required ? h("span", { "aria-hidden": "true" }, " *") : null);
    const wrap = f.type === "bool" ? [control, " ", label] : [label, control];
    return h("div", { class: "field" }, ...wrap,
      f.description ? h("span", { class: "hint", id: `${id}-hint` }, f.description) : null,
      err ? h("p", { class: "error", id: `${id}-err` }, err.text) : null);
  });
  const base = view.errors.base ? h("p", { class: "alert", role: "alert" }, view.errors.base.text) : null;
  const submit = h("button", { type: "submit", class: "primary" }, "Submit");
  const form = h("form", { class: "card", "aria-labelledby": "flow-title", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const input = {};
    for (const [f, el] of controls) {
      const v = readValue(f, el);
      if (v !== undefined) input[f.name] = v;
    }
    submit.disabled = true;
    try {
      const next = await api("POST", `/api/flows/${view.flow_id}`, input);
      const kept = next.step_id === view.step_id ? Object.fromEntries(Object.entries(input).filter(
        ([k]) => !controls.some(([f]) => f.name === k && (f.type === "password" || f.type === "secret")))) : {};
      renderFlow(next, kept);
    }
    catch (err) { form.prepend(errorBox(err)); submit.disabled = false; }
  } },
    h("h2", { id: "flow-title" }, view.title || `Add ${view.domain}`),
    view.description ? h("p", {}, view.description) : null,
    base, ...fields,
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", onclick: async () => {
        try { await api("DELETE", `/api/flows/${view.flow_id}`); } catch { /* already gone */ }
        location.hash = "#/integrations";
      } }, "Cancel")));
  show(form);
  const firstInvalid = form.querySelector("[aria-invalid=true]") || form.querySelector("input, select");
  if (firstInvalid) firstInvalid.focus();
}

