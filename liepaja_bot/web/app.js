// The web demo's page: renders the chats the server streams (server-sent events, the whole
// state each time) and sends what the people on the page do. Only what changed is redrawn, so
// an edit appears in place and the keyboard focus stays where it was.
"use strict";

const chats = new Map(); // pane id -> its elements and what they show
let tabsShown = "";
let activeResident = null;
let wanted = null; // a resident just added: select it when it arrives

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) el.append(child);
  }
  return el;
}

async function post(chat, url, body) {
  chat.error.textContent = "";
  chat.notice.textContent = "";
  const options = body instanceof FormData
    ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  try {
    const response = await fetch(url, options);
    if (response.ok) return true;
    const answer = await response.json().catch(() => ({}));
    chat.error.textContent = answer.error || `The demo answered ${response.status}.`;
  } catch (error) {
    chat.error.textContent = "The demo is not reachable: is it still running?";
  }
  return false;
}

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

function coordinates([lat, lon]) {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

function richText(html) {
  const el = h("div", { class: "text" });
  el.innerHTML = html; // made by the server from Telegram's tags only, everything else escaped
  return el;
}

function fileView(file) {
  if (file.kind === "sticker") return h("div", { class: "attachment" }, `${file.emoji || "🖼"} sticker`);
  if (file.inline) {
    return h("a", { href: file.url, target: "_blank", "aria-label": "Open the photo" },
      h("img", { class: "photo", src: file.url, alt: "Photo" }));
  }
  const icon = { voice: "🎤", audio: "🎵", video: "🎬" }[file.kind] || "📄";
  return h("div", { class: "attachment" }, `${icon} `,
    h("a", { href: file.url, download: file.name }, file.name), ` (${size(file.size)})`);
}

function messageView(chat, m) {
  const article = h("article", { class: m.mine ? "msg mine" : "msg", "data-key": m.key });
  if (!m.mine) article.append(h("div", { class: "sender" }, m.sender));
  if (m.reply) article.append(h("div", { class: "quote" }, h("b", {}, m.reply.sender), " ", m.reply.text));
  if (m.file) article.append(fileView(m.file));
  if (m.venue) {
    article.append(h("div", { class: "place" }, "📍 ", h("b", {}, m.venue.title), h("br"),
      m.venue.address, h("br"), h("small", {}, coordinates(m.location))));
  } else if (m.location) {
    article.append(h("div", { class: "place" }, `📍 Location: ${coordinates(m.location)}`));
  }
  if (m.contact) article.append(h("div", { class: "place" }, `👤 ${m.contact.name}, ${m.contact.phone}`));
  if (m.html) article.append(richText(m.html));
  if (m.caption) article.append(richText(m.caption));
  article.append(h("div", { class: "meta" }, (m.edited ? "edited · " : "") + m.time));
  if (m.buttons.length) {
    const grid = h("div", { class: "buttons" });
    for (const row of m.buttons) {
      grid.append(h("div", { class: "row" }, ...row.map((b) => b.url
        ? h("a", { href: b.url, target: "_blank", rel: "noopener noreferrer", "data-label": b.label }, `${b.label} ↗`)
        : h("button", { type: "button", "data-label": b.label,
          onclick: () => post(chat, `/chat/${chat.id}/press`, { message: m.id, label: b.label }) }, b.label))));
    }
    article.append(grid);
  }
  if (m.bot) {
    article.append(h("button", { type: "button", class: "reply-to", "data-label": "↩",
      title: "Reply to this message", "aria-label": "Reply to this message",
      onclick: () => replyTo(chat, m) }, "↩"));
  }
  return article;
}

function replyTo(chat, m) {
  chat.replyTo = m.id;
  chat.replyingText.textContent = `Replying to: ${m.html ? richText(m.html).textContent : m.sender}`;
  chat.replying.hidden = false;
  chat.input.focus();
}

function cancelReply(chat) {
  chat.replyTo = null;
  chat.replying.hidden = true;
}

// Puts `fresh` where `old` was; the focus, if it was inside, goes to the same button or the input.
function replace(chat, old, fresh) {
  const focused = document.activeElement;
  const had = old && old.contains(focused);
  const label = had && focused.dataset ? focused.dataset.label : null;
  if (old) old.replaceWith(fresh);
  if (had) {
    const same = [...fresh.querySelectorAll("[data-label]")].find((el) => el.dataset.label === label);
    (same || chat.input).focus();
  }
}

function chatView(pane) {
  const chat = { id: pane.id, items: new Map(), keys: "", noticeId: null, replyTo: null };
  chat.log = h("div", { class: "log", role: "log", tabindex: "0", "aria-label": `Messages with ${pane.title}` });
  chat.notice = h("p", { class: "notice", role: "status" });
  chat.keyboard = h("div", { class: "keys", "aria-label": "Keyboard" });
  chat.error = h("p", { class: "error", role: "alert" });
  chat.input = h("input", { type: "text", "aria-label": `Message as ${pane.me}`, placeholder: "Message", autocomplete: "off" });
  chat.replyingText = h("span");
  chat.replying = h("div", { class: "replying", hidden: true }, chat.replyingText,
    h("button", { type: "button", onclick: () => { cancelReply(chat); chat.input.focus(); } }, "Cancel reply"));
  const fileId = `file-${pane.id}`;
  const fileInput = h("input", { type: "file", id: fileId, class: "file-input", "aria-label": "Send a photo or a file",
    onchange: async () => {
      const [file] = fileInput.files;
      if (!file) return;
      const form = new FormData();
      form.append("file", file, file.name);
      await post(chat, `/chat/${pane.id}/upload`, form);
      fileInput.value = "";
    } });
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      const text = chat.input.value.trim();
      if (!text) return;
      const body = chat.replyTo === null ? { text } : { text, reply_to: chat.replyTo };
      if (await post(chat, `/chat/${pane.id}/send`, body)) {
        chat.input.value = "";
        cancelReply(chat);
      }
    } },
    fileInput, h("label", { for: fileId, class: "file-label" }, "📎 File"),
    h("button", { type: "button", class: "location", title: "Share a location in Liepāja",
      onclick: () => post(chat, `/chat/${pane.id}/location`, {}) }, "📍 Location"),
    chat.input, h("button", { type: "submit", class: "send" }, "Send"));
  chat.el = h("div", { class: "chat", id: `chat-${pane.id}`, "data-pane": pane.id },
    chat.log, chat.notice, chat.keyboard, h("div", { class: "composer" }, chat.replying, form, chat.error));
  if (pane.kind === "resident") {
    chat.el.setAttribute("role", "tabpanel");
    chat.el.setAttribute("aria-labelledby", `tab-${pane.id}`);
    chat.el.hidden = true;
    document.getElementById("resident-chats").append(chat.el);
  } else {
    document.getElementById("staff-chats").append(chat.el);
  }
  return chat;
}

function renderChat(pane) {
  const chat = chats.get(pane.id) || chatView(pane);
  chats.set(pane.id, chat);
  const log = chat.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  let grew = false;
  const present = new Set();
  for (const m of pane.messages) {
    present.add(m.key);
    const json = JSON.stringify(m);
    const shown = chat.items.get(m.key);
    if (shown && shown.json === json) continue;
    const fresh = messageView(chat, m);
    if (shown) replace(chat, shown.el, fresh);
    else { log.append(fresh); grew = true; }
    chat.items.set(m.key, { json, el: fresh });
  }
  for (const [key, shown] of chat.items) {
    if (present.has(key)) continue;
    if (shown.el.contains(document.activeElement)) chat.input.focus();
    shown.el.remove();
    chat.items.delete(key);
  }
  const keys = JSON.stringify(pane.keyboard);
  const keysChanged = keys !== chat.keys;
  if (keysChanged) {
    chat.keys = keys;
    const fresh = h("div", { class: "keys", "aria-label": "Keyboard" }, ...pane.keyboard.map((row) =>
      h("div", { class: "row" }, ...row.map((key) => h("button", { type: "button", "data-label": key.label,
        title: key.kind === "contact" ? "Shares your phone number" : key.kind === "location" ? "Shares a location in Liepāja" : null,
        onclick: () => post(chat, `/chat/${pane.id}/key`, { label: key.label }) }, key.label)))));
    replace(chat, chat.keyboard, fresh);
    chat.keyboard = fresh;
  }
  // Keep the newest message in view, also when a keyboard appearing shrinks the log.
  if ((grew || keysChanged) && atBottom) log.scrollTop = log.scrollHeight;
  if (pane.notice && pane.notice.id !== chat.noticeId) {
    chat.noticeId = pane.notice.id;
    chat.notice.textContent = pane.notice.text;
    chat.notice.classList.toggle("alert", pane.notice.alert);
  }
}

function markTabs() {
  for (const tab of document.querySelectorAll("#resident-tabs [role=tab]")) {
    const selected = tab.dataset.pane === activeResident;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  for (const [paneId, chat] of chats) {
    if (chat.el.getAttribute("role") === "tabpanel") chat.el.hidden = paneId !== activeResident;
  }
}

function selectResident(id, focus) {
  activeResident = id;
  markTabs();
  const chat = chats.get(id);
  if (chat) {
    chat.log.scrollTop = chat.log.scrollHeight;
    if (focus) chat.input.focus();
  }
}

function renderTabs(residents) {
  const shown = JSON.stringify(residents.map((p) => [p.id, p.title]));
  if (shown === tabsShown) return;
  tabsShown = shown;
  const tabs = document.getElementById("resident-tabs");
  tabs.replaceChildren(...residents.map((p) => h("button", {
    type: "button", role: "tab", id: `tab-${p.id}`, "data-pane": p.id, "aria-controls": `chat-${p.id}`,
    onclick: () => selectResident(p.id, false),
    onkeydown: (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const index = (residents.findIndex((r) => r.id === p.id) + step + residents.length) % residents.length;
      selectResident(residents[index].id, false);
      document.getElementById(`tab-${residents[index].id}`).focus();
    } }, p.title)));
  markTabs();
}

function render(state) {
  for (const pane of state.panes) renderChat(pane);
  const residents = state.panes.filter((p) => p.kind === "resident");
  renderTabs(residents);
  if (wanted && chats.has(wanted)) { selectResident(wanted, true); wanted = null; }
  else if (!activeResident && residents.length) selectResident(residents[0].id, false);
}

function connect() {
  const status = document.getElementById("connection");
  const source = new EventSource("/events");
  source.onopen = () => { status.textContent = "Live (offline: nothing leaves this computer)."; };
  source.onerror = () => { status.textContent = "Disconnected — is the demo still running? Retrying…"; };
  source.onmessage = (event) => render(JSON.parse(event.data));
}

document.getElementById("new-resident").addEventListener("submit", async (event) => {
  event.preventDefault();
  const language = document.getElementById("new-language").value;
  const response = await fetch("/residents", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ language }),
  });
  if (!response.ok) return;
  const pane = (await response.json()).pane;
  if (chats.has(pane)) selectResident(pane, true);
  else wanted = pane;
});

connect();
