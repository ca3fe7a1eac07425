// Entities of the entries you can see: a filterable table (read-only; agents act on entities through tools).
import { api, h, show } from "./core.js";

export async function viewEntities() {
  const entries = await api("GET", "/api/entries");
  const entry = h("select", { id: "ent-entry" }, h("option", { value: "" }, "all entries"),
    ...entries.map((e) => h("option", { value: e.id }, `${e.title} (${e.domain})`)));
  const type = h("input", { type: "text", id: "ent-type", placeholder: "any type", pattern: "[a-z][a-z0-9_]*" });
  const results = h("div", { "aria-live": "polite" });

  async function load() {
    const params = new URLSearchParams();
    if (entry.value) params.set("entry_id", entry.value);
    if (type.value.trim()) params.set("type", type.value.trim());
    const rows = await api("GET", `/api/entities?${params}`);
    if (!rows.length) { results.replaceChildren(h("p", { class: "muted" }, "No entities.")); return; }
    results.replaceChildren(h("table", {}, h("caption", { class: "visually-hidden" }, "Entities"),
      h("thead", {}, h("tr", {}, ...["Entity", "Type", "State", "Attributes", "Actions", "Entry", "Last seen"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...rows.map((e) => h("tr", {},
        h("th", { scope: "row" }, h("code", {}, e.entity_id)),
        h("td", {}, e.type),
        h("td", {}, e.state === null ? "—" : e.state),
        h("td", { class: "mono" }, JSON.stringify(e.attributes)),
        h("td", {}, e.actions.join(", ") || "—"),
        h("td", {}, h("code", {}, e.domain)),
        h("td", {}, new Date(e.last_seen).toLocaleString()))))));
  }

  const form = h("form", { class: "card", "aria-label": "Filter entities", onsubmit: async (ev) => { ev.preventDefault(); await load(); } },
    h("div", { class: "field" }, h("label", { for: "ent-entry" }, "Entry"), entry),
    h("div", { class: "field" }, h("label", { for: "ent-type" }, "Type"), type),
    h("button", { type: "submit", class: "primary" }, "Filter"));
  show(h("h2", {}, "Entities"), form, results);
  await load();
}
