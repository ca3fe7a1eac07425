// Sessions and the chat view, with pending tool approvals to approve or deny.
import { api, errorBox, h, route, show, toast } from "./core.js";

// ---------------------------------------------------------------- sessions and chat
export async function viewSessions() {
  const sessions = await api("GET", "/api/sessions");
  const profile = h("input", { type: "text", id: "profile", placeholder: "default profile" });
  const form = h("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const s = await api("POST", "/api/sessions", profile.value ? { model_profile: profile.value } : {});
      location.hash = `#/chat/${s.session_id}`;
    } catch (err) { form.append(errorBox(err)); }
  } },
    h("h2", {}, "Chat"),
    h("div", { class: "field" }, h("label", { for: "profile" }, "Model profile"), profile),
    h("button", { type: "submit", class: "primary" }, "New session"));
  const list = h("ul", {}, ...sessions.map((s) => h("li", {},
    h("a", { href: `#/chat/${s.session_id}` }, s.session_id.slice(0, 12)), ` — ${s.model_profile}, ${s.status}, started ${new Date(s.created_at).toLocaleString()}`)));
  show(form, h("h3", {}, "Your sessions"), sessions.length ? list : h("p", { class: "muted" }, "None yet."));
}

export async function viewChat(id) {
  const log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const approvals = h("section", { class: "approvals", "aria-labelledby": "approvals-title", hidden: true });
  const state = h("p", { class: "muted", id: "chat-state", "aria-live": "polite" });
  const text = h("textarea", { id: "message", name: "message", required: true, rows: 2 });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const busy = (on) => { send.disabled = on; text.disabled = on; state.textContent = on ? "working…" : state.textContent; };

  async function loadTranscript() {
    const items = [];
    let offset = 0;
    for (;;) {
      const page = await api("GET", `/api/sessions/${id}/transcript?offset=${offset}&limit=200`);
      items.push(...page.lines);
      if (page.next_offset === null) break;
      offset = page.next_offset;
    }
    log.replaceChildren(...items.map((l) => h("li", { class: l.role }, h("span", { class: "role" }, `${l.role}:`), l.text)));
    log.scrollTop = log.scrollHeight;
  }

  function renderResult(result) {
    if (result.status === "awaiting_approval") renderApprovals(result.pending_approvals);
    else approvals.hidden = true;
    state.textContent = result.status === "failed" ? `Turn ${result.turn} failed: ${result.error}` : `Turn ${result.turn}: ${result.status.replace("_", " ")}`;
  }

  function renderApprovals(pending) {
    if (!pending.length) { approvals.hidden = true; return; }
    approvals.replaceChildren(h("h3", { id: "approvals-title" }, "Waiting for your approval"),
      ...pending.map((call) => {
        const decide = async (decision) => {
          busy(true);
          try {
            const result = await api("POST", `/api/sessions/${id}/approvals/${encodeURIComponent(call.tool_call_id)}`, { decision });
            renderResult(result);
            await loadTranscript();
          } catch (err) { approvals.append(errorBox(err)); }
          finally { busy(false); }
        };
        return h("div", { class: "approval" },
          h("p", {}, h("code", {}, call.tool_name), h("span", { class: "mono" }, `(${call.args_preview})`),
            " — ", call.approval_reason === "untrusted_integration" ? "from an untrusted integration" : call.approval_reason),
          h("div", { class: "actions" },
            h("button", { type: "button", class: "primary", onclick: () => decide("approve"), "aria-label": `Approve ${call.tool_name}` }, "Approve"),
            h("button", { type: "button", class: "danger", onclick: () => decide("deny"), "aria-label": `Deny ${call.tool_name}` }, "Deny")));
      }));
    approvals.hidden = false;
    approvals.querySelector("button").focus();
  }

  const form = h("form", { class: "composer", "aria-label": "Send a message", onsubmit: async (e) => {
    e.preventDefault();
    const message = text.value.trim();
    if (!message) return;
    busy(true);
    log.append(h("li", { class: "user" }, h("span", { class: "role" }, "user:"), message));
    text.value = "";
    try { renderResult(await api("POST", `/api/sessions/${id}/messages`, { text: message })); await loadTranscript(); }
    catch (err) { state.textContent = `${err.message} (${err.key || "error"})`; }
    finally { busy(false); text.focus(); }
  } }, h("label", { for: "message", class: "visually-hidden" }, "Message"), text, send);
  text.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });

  const session = await api("GET", `/api/sessions/${id}`);
  show(h("div", { class: "chat" },
    h("h2", {}, `Session ${id.slice(0, 12)}`, " ", h("span", { class: "muted" }, `(${session.model_profile}, ${session.status})`)),
    log, approvals, state, session.status === "active" ? form : h("p", {}, "This session has ended."),
    session.status === "active" ? h("div", { class: "actions" }, h("button", { type: "button", onclick: async () => {
      await api("POST", `/api/sessions/${id}/end`); toast("Session ending"); route();
    } }, "End session")) : null));
  await loadTranscript();
  if (session.live && session.live.pending_approvals.length) renderApprovals(session.live.pending_approvals);
  text.focus();
}

