/* commentstream moderators' console (/moderate): the queues of a site, verdicts one at a time
   or in bulk, keyboard first (j/k to move, a/r/s to act, x to select), each comment's history
   from the log. No framework; every text goes in as text, comment bodies are the server's
   sanitised HTML. */
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const lang = /^fr\b/i.test(params.get("lang") || navigator.language || "") ? "fr" : "en";
  document.documentElement.lang = lang;
  const STRINGS = {
    en: {
      title: "Moderation", signIn: "Sign in", key: "Admin key or single sign-on token",
      site: "Site", signOut: "Sign out", notModerator: "This key does not moderate this site.",
      badKey: "This key was refused.", queues: "Queues", pending: "Pending", reported: "Reported",
      spam: "Spam", search: "Search by author", selectAll: "Select all", selected: (n) => n + " selected",
      approveSel: "Approve selected", rejectSel: "Reject selected", spamSel: "Spam selected",
      approve: "Approve", reject: "Reject", markSpam: "Spam", pin: "Pin", lock: "Close thread",
      history: "History", hideHistory: "Hide history", select: (n) => "Select the comment by " + n,
      by: (n) => "Comment by " + n, anonymous: "Anonymous", thread: "thread",
      verdicts: (h) => "approved " + (h.approved || 0) + " · rejected " + (h.rejected || 0) + " · spam " + (h.spam || 0),
      heldFor: "Held for", reports: (n) => "Reported " + n + (n === 1 ? " time" : " times"),
      empty: "Nothing waiting here.", done: { approve: "Approved.", reject: "Rejected.", spam: "Marked as spam.", pin: "Pinned.", lock: "Thread closed." },
      doneMany: (n, a) => n + " comments: " + a, failed: "Failed: ", keys: "Keys: j/k move, a approve, r reject, s spam, x select, h history.",
      newItems: (n) => n + " new in the queue", score: (s) => "Spam score " + s.toFixed(2),
      ban: "Ban author", banned: "Author banned.", banReason: "banned from the moderators' console",
    },
    fr: {
      title: "Modération", signIn: "Se connecter", key: "Clé d’administration ou jeton d’authentification unique",
      site: "Site", signOut: "Se déconnecter", notModerator: "Cette clé ne modère pas ce site.",
      badKey: "Cette clé a été refusée.", queues: "Files", pending: "En attente", reported: "Signalés",
      spam: "Indésirables", search: "Rechercher par auteur", selectAll: "Tout sélectionner", selected: (n) => n + " sélectionné(s)",
      approveSel: "Approuver la sélection", rejectSel: "Rejeter la sélection", spamSel: "Sélection indésirable",
      approve: "Approuver", reject: "Rejeter", markSpam: "Indésirable", pin: "Épingler", lock: "Fermer le fil",
      history: "Historique", hideHistory: "Masquer l’historique", select: (n) => "Sélectionner le commentaire de " + n,
      by: (n) => "Commentaire de " + n, anonymous: "Anonyme", thread: "fil",
      verdicts: (h) => "approuvés " + (h.approved || 0) + " · rejetés " + (h.rejected || 0) + " · indésirables " + (h.spam || 0),
      heldFor: "Retenu pour", reports: (n) => "Signalé " + n + " fois",
      empty: "Rien en attente ici.", done: { approve: "Approuvé.", reject: "Rejeté.", spam: "Marqué indésirable.", pin: "Épinglé.", lock: "Fil fermé." },
      doneMany: (n, a) => n + " commentaires : " + a, failed: "Échec : ", keys: "Touches : j/k se déplacer, a approuver, r rejeter, s indésirable, x sélectionner, h historique.",
      newItems: (n) => n + " nouveau(x) dans la file", score: (s) => "Score de spam " + s.toFixed(2).replace(".", ","),
      ban: "Bannir l’auteur", banned: "Auteur banni.", banReason: "banni depuis la console de modération",
    },
  };
  const T = STRINGS[lang];
  const QUEUES = ["pending", "reported", "spam"];
  const VERBS = { approve: T.approve, reject: T.reject, spam: T.markSpam };

  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    el.append(...kids.flat().filter((k) => k != null && k !== false));
    return el;
  };
  const main = document.getElementById("console");
  const store = sessionStorage;
  let token = store.getItem("commentstream:moderate:token");
  let site = params.get("site") || store.getItem("commentstream:moderate:site") || "default";
  let queue = "pending", items = [], sizes = {}, selected = new Set(), focused = 0, filter = "";
  let timer = null;

  const api = async (method, path, body) => {
    const headers = { Accept: "application/json", Authorization: "Bearer " + token };
    if (body) headers["Content-Type"] = "application/json";
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch("/api/v1" + path + sep + "site=" + encodeURIComponent(site), { method, headers, body: body && JSON.stringify(body) });
    return { status: res.status, data: await res.json().catch(() => ({})) };
  };

  // --- signing in ----------------------------------------------------------------------------
  function signInForm(message) {
    clearInterval(timer);
    const key = h("input", { type: "password", name: "key", required: true, autocomplete: "current-password" });
    const siteInput = h("input", { name: "site", value: site, required: true, pattern: "[A-Za-z0-9._~:-]{1,64}" });
    const error = h("p", { class: "error", role: "alert" }, message || "");
    const form = h("form", { "aria-labelledby": "signin" },
      h("label", {}, T.key, key), h("label", {}, T.site, siteInput), error,
      h("div", {}, h("button", { class: "primary", type: "submit" }, T.signIn)));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      token = key.value.trim(); site = siteInput.value.trim() || "default";
      const { status, data } = await api("GET", "/me");
      if (status !== 200) { error.textContent = T.badKey; return key.focus(); }
      if (!data.moderator) { error.textContent = T.notModerator; return key.focus(); }
      store.setItem("commentstream:moderate:token", token); store.setItem("commentstream:moderate:site", site);
      openConsole();
    });
    main.replaceChildren(h("h1", { id: "signin" }, T.title + " · " + T.signIn), form);
    key.focus();
  }

  // --- the console ---------------------------------------------------------------------------
  const live = h("p", { class: "sr", "aria-live": "polite" });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": T.queues });
  const list = h("ol", { class: "items", "aria-label": T.queues });
  const countNote = h("span", { class: "meta" });
  const selectAll = h("input", { type: "checkbox", onchange: () => { selected = new Set(selectAll.checked ? shown().map(ref) : []); draw(); } });
  const search = h("input", { type: "search", "aria-label": T.search, placeholder: T.search, oninput: () => { filter = search.value.trim().toLowerCase(); focused = 0; draw(); } });
  const ref = (item) => item.thread + "/" + item.id;
  const nameOf = (item) => item.author.name || T.anonymous;
  const shown = () => items.filter((i) => !filter || nameOf(i).toLowerCase().includes(filter) || i.author.id.toLowerCase().includes(filter));

  function openConsole() {
    main.replaceChildren(
      h("h1", {}, T.title + " · " + site),
      h("div", { class: "toolbar" }, search, h("button", { type: "button", onclick: signOut }, T.signOut)),
      tabs,
      h("div", { class: "bulk" }, h("label", {}, selectAll, " ", T.selectAll), countNote,
        ...Object.entries({ approve: T.approveSel, reject: T.rejectSel, spam: T.spamSel }).map(([action, label]) =>
          h("button", { type: "button", onclick: () => bulk(action) }, label))),
      h("p", { class: "muted" }, T.keys), list, live);
    main.addEventListener("keydown", keys);
    refresh(true);
    clearInterval(timer);
    timer = setInterval(() => refresh(false), 2000); // new items arrive while the console is open
  }

  function signOut() { store.removeItem("commentstream:moderate:token"); token = null; signInForm(); }

  async function refresh(reset) {
    const { status, data } = await api("GET", "/moderation/queue?status=" + queue + "&limit=200");
    if (status === 401 || status === 403) return signInForm(T.notModerator);
    if (status !== 200) return;
    const before = new Set(items.map(ref));
    const arrived = data.items.filter((i) => !before.has(ref(i))).length;
    const same = !reset && arrived === 0 && data.items.length === items.length && JSON.stringify(data.sizes) === JSON.stringify(sizes);
    items = data.items; sizes = data.sizes;
    const present = new Set(items.map(ref));
    selected = new Set([...selected].filter((r) => present.has(r)));
    if (same) return;
    if (!reset && arrived) live.textContent = T.newItems(arrived);
    draw();
  }

  function drawTabs() {
    tabs.replaceChildren(...QUEUES.map((name) => h("button", {
      type: "button", role: "tab", "aria-selected": String(name === queue), id: "tab-" + name,
      onclick: () => { queue = name; focused = 0; selected.clear(); refresh(true); },
    }, T[name] + " (" + (sizes[name] || 0) + ")")));
  }

  function draw() {
    drawTabs();
    const visible = shown();
    focused = Math.min(focused, Math.max(0, visible.length - 1));
    const hadFocus = list.contains(document.activeElement) && document.activeElement.classList.contains("item");
    list.replaceChildren(...(visible.length ? visible.map(drawItem) : [h("li", { class: "muted" }, T.empty)]));
    countNote.textContent = T.selected(selected.size);
    selectAll.checked = visible.length > 0 && visible.every((i) => selected.has(ref(i)));
    if (hadFocus) itemAt(focused)?.focus();
  }

  function drawItem(item, index) {
    const name = nameOf(item);
    const checkbox = h("input", { type: "checkbox", "aria-label": T.select(name), checked: selected.has(ref(item)),
      onchange: () => { checkbox.checked ? selected.add(ref(item)) : selected.delete(ref(item)); countNote.textContent = T.selected(selected.size); } });
    const body = h("div", { class: "body" });
    body.innerHTML = item.html; // sanitised by the server's allow-list
    const history = h("div", { class: "slot" });
    const historyButton = h("button", { type: "button", "aria-expanded": "false", onclick: () => toggleHistory(item, history, historyButton) }, T.history);
    const article = h("article", { class: "item", tabindex: index === focused ? "0" : "-1", "aria-label": T.by(name), "data-ref": ref(item), onfocus: () => { focused = index; roving(); } },
      h("header", {}, checkbox, h("strong", {}, name), h("span", { class: "meta" }, T.verdicts(item.author.history)),
        h("span", { class: "meta" }, T.thread + " " + item.thread),
        h("time", { class: "meta", datetime: item.created_at }, new Date(item.created_at).toLocaleString(lang))),
      item.held_for.length ? h("p", { class: "meta" }, T.heldFor + ": ", ...item.held_for.map((r) => h("span", { class: "reason" }, r))) : null,
      item.spam_score != null ? h("p", { class: "meta" }, T.score(item.spam_score)) : null,
      item.reports ? h("p", { class: "meta" }, T.reports(item.reports) + ": " + item.report_reasons.join(" · ")) : null,
      body,
      h("footer", {},
        ...Object.entries(VERBS).map(([action, label]) => h("button", { type: "button", onclick: () => act(item, action) }, label)),
        item.status === "approved" && !item.parent_id && h("button", { type: "button", onclick: () => act(item, "pin") }, T.pin),
        h("button", { type: "button", onclick: () => lockThread(item) }, T.lock),
        h("button", { type: "button", onclick: () => ban(item) }, T.ban),
        historyButton),
      history);
    return h("li", {}, article);
  }

  const itemAt = (i) => list.children[i]?.querySelector(".item");
  function roving() { [...list.children].forEach((li, i) => li.querySelector(".item")?.setAttribute("tabindex", i === focused ? "0" : "-1")); }

  async function act(item, action, quiet) {
    const { status, data } = await api("POST", "/threads/" + encodeURIComponent(item.thread) + "/comments/" + item.id + "/" + action);
    if (status !== 200) { live.textContent = T.failed + ((data.error || {}).message || status); return false; }
    if (action !== "pin") { items = items.filter((i) => ref(i) !== ref(item)); selected.delete(ref(item)); if (sizes[queue]) sizes[queue]--; }
    if (!quiet) { live.textContent = T.done[action]; draw(); itemAt(focused)?.focus(); }
    return true;
  }

  async function bulk(action) {
    const chosen = items.filter((i) => selected.has(ref(i)));
    let done = 0;
    for (const item of chosen) if (await act(item, action, true)) done++;
    live.textContent = T.doneMany(done, T.done[action]);
    draw();
  }

  // Ban the author's identity and hide their comments; their queued comments go as spam.
  async function ban(item) {
    const { status, data } = await api("POST", "/bans", { identity: item.author.id, reason: T.banReason, hide_comments: true });
    if (status !== 201) { live.textContent = T.failed + ((data.error || {}).message || status); return; }
    for (const other of items.filter((i) => i.author.id === item.author.id)) await act(other, "spam", true);
    live.textContent = T.banned;
    draw();
  }

  async function lockThread(item) {
    const { status, data } = await api("PUT", "/threads/" + encodeURIComponent(item.thread) + "/lock");
    live.textContent = status === 200 ? T.done.lock : T.failed + ((data.error || {}).message || status);
  }

  async function toggleHistory(item, slot, button) {
    if (button.getAttribute("aria-expanded") === "true") { slot.replaceChildren(); button.textContent = T.history; return button.setAttribute("aria-expanded", "false"); }
    const { data } = await api("GET", "/moderation/history?thread=" + encodeURIComponent(item.thread) + "&comment_id=" + item.id);
    slot.replaceChildren(h("ol", { class: "history", "aria-label": T.history }, (Array.isArray(data) ? data : []).map((line) =>
      h("li", {}, h("time", { datetime: line.occurred_at }, new Date(line.occurred_at).toLocaleString(lang)), " · " + line.actor + " · " + line.change))));
    button.textContent = T.hideHistory;
    button.setAttribute("aria-expanded", "true");
  }

  function keys(e) {
    if (e.target.matches("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    const inItem = e.target.closest(".item");
    if (e.target.matches("button") && !inItem && !["j", "k"].includes(e.key)) return;
    const visible = shown();
    const item = visible[focused];
    const move = (to) => { focused = Math.max(0, Math.min(visible.length - 1, to)); roving(); itemAt(focused)?.focus(); };
    const inList = document.activeElement?.classList.contains("item");
    switch (e.key) {
      case "j": case "ArrowDown": move(inList ? focused + 1 : focused); break; // from elsewhere: to the list
      case "k": case "ArrowUp": move(inList ? focused - 1 : focused); break;
      case "a": if (item) act(item, "approve"); break;
      case "r": if (item) act(item, "reject"); break;
      case "s": if (item) act(item, "spam"); break;
      case "x": if (item) { selected.has(ref(item)) ? selected.delete(ref(item)) : selected.add(ref(item)); draw(); itemAt(focused)?.focus(); } break;
      case "h": if (item) itemAt(focused)?.querySelector("footer button[aria-expanded]")?.click(); break;
      default: return;
    }
    e.preventDefault();
  }

  if (token) openConsole(); else signInForm();
})();
