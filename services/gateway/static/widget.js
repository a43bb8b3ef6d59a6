/* commentstream widget: one <script> tag gives a page its whole comment section.
   Renders into a shadow root (no CSS leaks either way), talks to the gateway it was loaded
   from, and follows the thread live over server-sent events. No framework, no dependency. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[src*='widget.js'][data-thread]");
  if (!script) return;
  const cfg = script.dataset;
  const base = new URL(script.src, location.href).origin;
  const site = cfg.site || "default";
  const thread = cfg.thread || (location.pathname.replace(/[^A-Za-z0-9._~:-]/g, "-").slice(0, 128) || "home");
  const lang = /^fr\b/i.test(cfg.lang || navigator.language || "") ? "fr" : "en";
  const maxDepth = Math.max(1, +cfg.depth || 5);
  const tokenKey = "commentstream:" + site + ":token";

  // Every string the reader sees, in one table.
  const STRINGS = {
    en: {
      heading: (n, t) => (n === 1 ? "One thought" : (n || "No") + " thoughts") + (t ? " on “" + t + "”" : ""),
      leave: "Leave a Reply", replyTo: (n) => "Reply to " + n, comment: "Comment", name: "Name",
      email: "Email", emailNote: "Your email address will never be published.", website: "Website",
      post: "Post Comment", save: "Save", cancel: "Cancel", posting: "Posting…",
      pending: "Pending: the server will publish it shortly.", like: "Like",
      liked: (n) => "Liked by " + n + (n === 1 ? " person" : " people"), reply: "Reply", edit: "Edit",
      del: "Delete", confirmDelete: "Delete this comment?", yesDelete: "Yes, delete",
      deleted: "This comment was deleted.", removed: "This comment was removed by a moderator.", inReplyTo: (n) => "in reply to " + n, says: "says:",
      loadMore: "Load more comments", sort: "Sort by", oldest: "Oldest", newest: "Newest", top: "Top",
      anonymous: "Anonymous", edited: "(edited)", newComment: (n) => "New comment by " + n,
      failed: "It could not be saved: ", error: "Something went wrong. Please try again.",
      whoLikes: "People who like this comment",
      awaiting: "Your comment is awaiting moderation.", heldFor: (r) => "Held for moderation: " + r,
      pinned: "Pinned", closed: "Comments are closed.", report: "Report",
      reportWhy: "Why should a moderator look at this comment?", sendReport: "Send report",
      reported: "Reported. Thank you: a moderator will look at it.", approve: "Approve",
      reject: "Reject", spam: "Spam", pin: "Pin", unpin: "Unpin",
      lock: "Close comments", unlock: "Reopen comments", moderation: "Moderation", ban: "Ban author",
    },
    fr: {
      heading: (n, t) => (n === 1 ? "Une réflexion" : (n || "Aucune") + (n > 1 ? " réflexions" : " réflexion")) + (t ? " sur « " + t + " »" : ""),
      leave: "Laisser un commentaire", replyTo: (n) => "Répondre à " + n, comment: "Commentaire",
      name: "Nom", email: "E-mail", emailNote: "Votre adresse e-mail ne sera jamais publiée.",
      website: "Site web", post: "Publier le commentaire", save: "Enregistrer", cancel: "Annuler",
      posting: "Publication…", pending: "En attente : le serveur va le publier.", like: "J’aime",
      liked: (n) => "Aimé par " + n + (n === 1 ? " personne" : " personnes"), reply: "Répondre",
      edit: "Modifier", del: "Supprimer", confirmDelete: "Supprimer ce commentaire ?",
      yesDelete: "Oui, supprimer", deleted: "Ce commentaire a été supprimé.",
      removed: "Ce commentaire a été retiré par un modérateur.",
      inReplyTo: (n) => "en réponse à " + n, says: "dit :", loadMore: "Afficher plus de commentaires",
      sort: "Trier par", oldest: "Plus anciens", newest: "Plus récents", top: "Les plus aimés",
      anonymous: "Anonyme", edited: "(modifié)", newComment: (n) => "Nouveau commentaire de " + n,
      failed: "Impossible d’enregistrer : ", error: "Une erreur est survenue. Veuillez réessayer.",
      whoLikes: "Personnes qui aiment ce commentaire",
      awaiting: "Votre commentaire est en attente de modération.", heldFor: (r) => "Retenu pour modération : " + r,
      pinned: "Épinglé", closed: "Les commentaires sont fermés.", report: "Signaler",
      reportWhy: "Pourquoi un modérateur devrait-il regarder ce commentaire ?", sendReport: "Envoyer le signalement",
      reported: "Signalé. Merci : un modérateur va le regarder.", approve: "Approuver",
      reject: "Rejeter", spam: "Indésirable", pin: "Épingler", unpin: "Désépingler",
      lock: "Fermer les commentaires", unlock: "Rouvrir les commentaires", moderation: "Modération", ban: "Bannir l’auteur",
    },
  };
  const T = STRINGS[lang];

  const DARK = "--cs-fg:#e8e8e8;--cs-muted:#a8abb0;--cs-accent:#8ab4f8;--cs-border:#3a3d42;--cs-surface:#1f2226;--cs-error:#f2b8b5;--cs-focus:#f9c74f";
  const CSS = `
:host{--cs-fg:#1d1d1f;--cs-muted:#5f6368;--cs-accent:#1a5fb4;--cs-border:#d7d7db;--cs-surface:#fff;--cs-error:#b3261e;--cs-focus:#b35c00;display:block;color:var(--cs-fg);font:var(--cs-font,16px/1.55 system-ui,sans-serif)}
:host([data-theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host(:not([data-theme=light])){${DARK}}}
*{box-sizing:border-box}
h2{font-size:1.35em;margin:0 0 .6em}h3{font-size:1.15em;margin:1.2em 0 .5em}
ol{list-style:none;margin:0;padding:0}
.replies{margin-left:clamp(.75em,4vw,2.5em);border-left:2px solid var(--cs-border);padding-left:.9em}
article{padding:.8em 0;border-bottom:1px solid var(--cs-border)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4em .6em}
.avatar{width:32px;height:32px;border-radius:4px;flex:none}
cite{font-style:normal;font-weight:600}
.meta,.mark,.note{color:var(--cs-muted);font-size:.88em}
.body{overflow-wrap:anywhere}.body p{margin:.4em 0}
.deleted{color:var(--cs-muted);font-style:italic}
footer{display:flex;flex-wrap:wrap;gap:.3em .8em;align-items:center}
button,select,input,textarea{font:inherit;color:inherit}
button{background:none;border:1px solid transparent;border-radius:4px;padding:.15em .45em;color:var(--cs-accent);cursor:pointer}
button:hover{text-decoration:underline}
button[aria-pressed=true]{font-weight:700}
.primary{background:var(--cs-accent);color:var(--cs-surface);padding:.45em 1em;font-weight:600}
a{color:var(--cs-accent)}
:focus-visible{outline:3px solid var(--cs-focus);outline-offset:2px}
form{display:grid;gap:.55em;max-width:40em;margin:.5em 0}
label{display:grid;gap:.2em;font-size:.95em}
input,textarea,select{background:var(--cs-surface);border:1px solid var(--cs-muted);border-radius:4px;padding:.45em}
textarea{min-height:6em;resize:vertical}
[aria-invalid=true]{border-color:var(--cs-error)}
.error{color:var(--cs-error);margin:0;font-size:.9em}
.pending{opacity:.65}
.held{border-left:3px solid var(--cs-muted);padding-left:.6em}
.pin{font-weight:600;color:var(--cs-accent);font-size:.88em}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.bar{margin:.3em 0 .8em}.bar label{display:flex;gap:.5em;align-items:center}`;

  // --- tiny DOM helpers: text always goes in as text, never as markup -------------------
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
  let uid = 0;
  const nextId = (p) => "cs-" + p + "-" + ++uid;

  const identicon = (seed) => {
    const hex = /^[0-9a-f]{16,}$/.test(seed || "") ? seed : "0000000000000000";
    const color = "hsl(" + (parseInt(hex.slice(0, 4), 16) % 360) + " 55% 50%)";
    const bits = parseInt(hex.slice(4, 12), 16);
    let cells = "";
    for (let i = 0; i < 15; i++) {
      if (!((bits >> i) & 1)) continue;
      const x = Math.floor(i / 5), y = i % 5;
      cells += `<rect x="${x}" y="${y}" width="1" height="1"/>` + (x < 2 ? `<rect x="${4 - x}" y="${y}" width="1" height="1"/>` : "");
    }
    const span = h("span", { class: "avatar", "aria-hidden": "true" });
    span.innerHTML = `<svg viewBox="-.5 -.5 6 6" width="32" height="32" fill="${color}"><rect x="-.5" y="-.5" width="6" height="6" fill="#8882"/>${cells}</svg>`;
    return span;
  };

  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const exact = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  const ago = (iso) => {
    const s = (Date.parse(iso) - Date.now()) / 1000;
    const steps = [[60, "second"], [3600, "minute", 60], [86400, "hour", 3600], [2592000, "day", 86400], [31536000, "month", 2592000], [Infinity, "year", 31536000]];
    for (const [limit, unit, div = 1] of steps) if (Math.abs(s) < limit) return relative.format(Math.round(s / div), unit);
  };

  // --- talking to the gateway --------------------------------------------------------------
  // A host site's signed-in user (SSO JWT) wins over the anonymous identity kept per site.
  let token = cfg.ssoToken || localStorage.getItem(tokenKey);
  const api = async (method, path, body) => {
    const headers = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch(base + "/api/v1" + path + sep + "site=" + encodeURIComponent(site), {
      method, headers, body: body && JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (data.author_token && !cfg.ssoToken) localStorage.setItem(tokenKey, (token = data.author_token));
    return { status: res.status, data };
  };
  const ensureIdentity = async () => {
    if (!token) localStorage.setItem(tokenKey, (token = (await api("POST", "/session")).data.token));
  };
  const threadPath = "/threads/" + encodeURIComponent(thread);

  // --- the section ------------------------------------------------------------------------
  const host = document.getElementById("commentstream") || script.parentNode.insertBefore(h("div"), script.nextSibling);
  if (cfg.theme) host.setAttribute("data-theme", cfg.theme);
  const root = host.attachShadow({ mode: "open" });
  const heading = h("h2", { id: "cs-heading" });
  const list = h("ol", { class: "comments" });
  const more = h("button", { class: "more", type: "button", hidden: true, onclick: () => load(false) }, T.loadMore);
  const live = h("p", { class: "sr", "aria-live": "polite" });
  const sortSelect = h("select", { onchange: () => load(true) },
    ["oldest", "newest", "top"].map((s) => h("option", { value: s }, T[s])));
  const status = h("p", { class: "error", role: "alert" });
  const leave = h("section", { "aria-labelledby": "cs-leave" }, h("h3", { id: "cs-leave" }, T.leave), commentForm({}));
  const closedNote = h("p", { class: "closed note", role: "status", hidden: true }, T.closed);
  const modBar = h("div", { class: "bar moderation", hidden: true });
  root.append(h("style", {}, CSS), h("section", { lang, "aria-labelledby": "cs-heading" },
    heading, modBar, h("div", { class: "bar" }, h("label", {}, T.sort, sortSelect)), status, list, more, live,
    leave, closedNote));

  const comments = new Map(); // id -> comment data
  const nodes = new Map(); // id -> <li>
  // While our own post is in flight, live arrivals wait: one of them may be that very post.
  let writing = 0, deferred = [];
  let count = 0, cursor = null, title = cfg.title || "";
  let locked = false, moderator = false;
  const setCount = (n) => { count = n; heading.textContent = T.heading(n, title); };
  // A closed thread shows "Comments are closed" in place of the form, and no Reply buttons.
  const setLocked = (value) => {
    const changed = value !== locked;
    locked = value; leave.hidden = locked; closedNote.hidden = !locked; showModBar();
    if (changed) for (const id of nodes.keys()) refresh(id);
  };
  const showModBar = () => {
    modBar.hidden = !moderator;
    if (!moderator) return;
    const toggle = h("button", { type: "button", onclick: async () => {
      const { status: code, data } = await api(locked ? "DELETE" : "PUT", threadPath + "/lock");
      if (code === 200) load(true, data.position); else status.textContent = T.failed + ((data.error || {}).message || T.error);
    } }, locked ? T.unlock : T.lock);
    modBar.replaceChildren(h("span", { class: "meta" }, T.moderation + ": "), toggle);
  };
  // Whether the reader moderates this site: then the widget shows the moderators' controls.
  const whoAmI = async () => {
    if (!token) return;
    const { status: code, data } = await api("GET", "/me");
    if (code === 200 && data.moderator !== moderator) { moderator = data.moderator; showModBar(); for (const id of nodes.keys()) refresh(id); }
  };

  async function load(fresh, minPosition) {
    const q = new URLSearchParams({ sort: sortSelect.value, limit: "50" });
    if (!fresh && cursor) q.set("cursor", cursor);
    if (minPosition) q.set("min_position", minPosition);
    const { status: code, data } = await api("GET", threadPath + "?" + q);
    if (code !== 200) return (status.textContent = T.error);
    if (fresh) { list.replaceChildren(); comments.clear(); nodes.clear(); }
    title = title || data.title || "";
    setCount(data.count);
    setLocked(!!data.locked);
    const walk = (c, depth) => { place(c, depth); c.replies.forEach((r) => walk(r, depth + 1)); };
    data.comments.forEach((c) => walk(c, 0));
    cursor = data.next_cursor;
    more.hidden = !cursor;
  }

  const depthOf = (id) => { let d = 0; for (let c = comments.get(id); c && c.parent_id; c = comments.get(c.parent_id)) d++; return d; };
  const nameOf = (c) => (c && c.author.name) || T.anonymous;

  // Put a comment in the tree: nested under its parent up to maxDepth, flat below that.
  function place(c, depth, atTop) {
    comments.set(c.id, c);
    const li = h("li", { class: "comment", id: "c-" + c.id });
    nodes.set(c.id, li);
    fill(li, c, depth);
    let parent = c.parent_id && nodes.get(c.parent_id);
    if (parent) {
      for (let up = c.parent_id; depthOf(up) >= maxDepth - 1 && comments.get(up).parent_id; up = comments.get(up).parent_id) parent = nodes.get(comments.get(up).parent_id);
      parent.lastChild.append(li);
    } else if (atTop) list.prepend(li);
    else list.append(li);
    return li;
  }

  function fill(li, c, depth = depthOf(c.id)) {
    const replies = li.querySelector(":scope > ol") || h("ol", { class: "replies" });
    const nameId = nextId("name");
    const who = c.author.website && /^https?:\/\//i.test(c.author.website)
      ? h("a", { href: c.author.website, rel: "nofollow ugc noopener", target: "_blank" }, nameOf(c)) : nameOf(c);
    const body = h("div", { class: "body" });
    const hidden = c.status === "rejected" || c.status === "spam";
    if (c.status === "deleted" || hidden) body.append(h("p", { class: "deleted" }, hidden ? T.removed : T.deleted));
    else if (c.pending) body.append(...c.text.split(/\n{2,}/).map((p) => h("p", {}, p)));
    else body.innerHTML = c.html; // sanitised by the server's allow-list
    // A redraw (a live like, say) keeps what is open under the comment: a form and what was typed.
    const kept = li.querySelector(":scope > article > .slot");
    const slot = kept && c.status !== "deleted" && !c.pending ? kept : h("div", { class: "slot" });
    const parent = comments.get(c.parent_id);
    const held = c.status === "pending";
    const article = h("article", { "aria-labelledby": nameId, class: c.pending ? "pending" : held ? "held" : null },
      h("header", {}, identicon(c.author.avatar), h("cite", { id: nameId }, who), h("span", { class: "meta" }, T.says),
        h("time", { class: "meta", datetime: c.created_at, title: exact.format(new Date(c.created_at)) }, ago(c.created_at)),
        c.edited_at && h("span", { class: "meta" }, T.edited), c.pinned && h("span", { class: "pin" }, T.pinned)),
      depth >= maxDepth && parent && h("p", { class: "mark" }, T.inReplyTo(nameOf(parent))),
      body,
      c.pending ? h("p", { class: "note", role: "status" }, c.pending)
        : held ? [h("p", { class: "note" }, T.awaiting), moderator && moderatorActions(c)]
        : c.status !== "deleted" && !hidden && actions(c, slot),
      slot);
    li.replaceChildren(article, replies);
    const opener = slot.opener && [...article.querySelectorAll("footer button")].find((b) => b.textContent === slot.opener.textContent);
    if (opener && slot.firstChild) { opener.setAttribute("aria-expanded", "true"); slot.opener = opener; }
  }

  function actions(c, slot) {
    const likeButton = h("button", { type: "button", "aria-pressed": String(!!c.likes.liked_by_me), onclick: () => toggleLike(c) }, T.like);
    const likers = h("button", { type: "button", class: "likers", "aria-expanded": "false", hidden: !c.likes.count, onclick: () => showLikers(c, likers, slot) }, T.liked(c.likes.count));
    const mayChange = c.mine && (!c.editable_until || Date.parse(c.editable_until) > Date.now());
    const reply = h("button", { type: "button", "aria-expanded": "false", onclick: () => openForm(slot, reply, { parent: c }) }, T.reply);
    const edit = mayChange && h("button", { type: "button", onclick: () => openForm(slot, edit, { edit: c }) }, T.edit);
    const del = mayChange && h("button", { type: "button", onclick: () => confirmDelete(c, slot, del) }, T.del);
    const report = !c.mine && h("button", { type: "button", "aria-expanded": "false", onclick: () => openReport(c, slot, report) }, T.report);
    return h("footer", {}, likeButton, likers, !locked && reply, edit, del, report, moderator && moderatorActions(c));
  }

  // A moderator's verdicts, in place: approve a held comment; reject, spam, pin a published one.
  function moderatorActions(c) {
    const held = c.status === "pending";
    const act = (action, label) => h("button", { type: "button", class: "mod", onclick: async () => {
      const { status: code, data } = await api("POST", threadPath + "/comments/" + c.id + "/" + action);
      if (code === 200) load(true, data.position); else status.textContent = T.failed + ((data.error || {}).message || T.error);
    } }, label);
    return h("span", { role: "group", "aria-label": T.moderation },
      held && act("approve", T.approve), act("reject", T.reject), act("spam", T.spam),
      !held && !c.parent_id && (c.pinned ? act("unpin", T.unpin) : act("pin", T.pin)),
      !c.mine && h("button", { type: "button", class: "mod", onclick: async () => {
        const { status: code, data } = await api("POST", "/bans", { thread, comment_id: c.id, hide_comments: true, reason: T.ban });
        if (code === 201) load(true, data.position); else status.textContent = T.failed + ((data.error || {}).message || T.error);
      } }, T.ban));
  }

  // "Report": a reason for the moderators, sent once per reader (the server says so after).
  function openReport(c, slot, opener) {
    slot.opener = opener;
    opener.setAttribute("aria-expanded", "true");
    const reason = h("textarea", { name: "reason", required: true, maxlength: "500" });
    const error = h("p", { class: "error", role: "alert" });
    const close = () => { slot.replaceChildren(); opener.setAttribute("aria-expanded", "false"); opener.focus(); };
    const form = h("form", { novalidate: true, "aria-label": T.report },
      h("label", {}, T.reportWhy, reason), error,
      h("div", {}, h("button", { class: "primary", type: "submit" }, T.sendReport), h("button", { type: "button", onclick: close }, T.cancel)));
    form.addEventListener("keydown", (e) => e.key === "Escape" && close());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { error.textContent = T.reportWhy; reason.setAttribute("aria-invalid", "true"); return reason.focus(); }
      await ensureIdentity();
      const { status: code, data } = await api("POST", threadPath + "/comments/" + c.id + "/report", { reason: reason.value.trim() });
      if (code !== 200) { error.textContent = T.failed + ((data.error || {}).message || T.error); return; }
      slot.opener = null;
      opener.setAttribute("aria-expanded", "false");
      const thanks = h("p", { class: "note", role: "status", tabindex: "-1" }, T.reported);
      slot.replaceChildren(thanks);
      thanks.focus();
    });
    slot.replaceChildren(form);
    reason.focus();
  }

  function openForm(slot, opener, opts) {
    slot.opener = opener; // the button of the redrawn comment, after a redraw (see fill)
    const close = () => { const o = slot.opener; slot.opener = null; slot.replaceChildren(); o.setAttribute("aria-expanded", "false"); o.focus(); };
    opener.setAttribute("aria-expanded", "true");
    slot.replaceChildren(commentForm({ ...opts, close }));
    slot.querySelector("textarea").focus();
  }

  // The "Leave a Reply" form, also used inline for replies and edits.
  function commentForm({ parent, edit, close }) {
    const field = (key, label, control, note) => {
      const err = h("p", { class: "error", id: nextId("err") });
      control.setAttribute("aria-describedby", err.id);
      return { key, control, err, el: h("label", {}, label, control, note && h("span", { class: "note" }, note), err) };
    };
    const fields = [field("body", T.comment, h("textarea", { name: "body", required: true, maxlength: "10000" }))];
    if (!edit) fields.push(
      field("author.name", T.name, h("input", { name: "name", autocomplete: "name", maxlength: "80" })),
      field("author.email", T.email, h("input", { name: "email", type: "email", autocomplete: "email" }), T.emailNote),
      field("author.website", T.website, h("input", { name: "website", type: "url", autocomplete: "url", maxlength: "200" })));
    const general = h("p", { class: "error", role: "alert" });
    // A field people never see (bots fill it in), and the time the form was open.
    const honeypot = h("input", { name: "hp", tabindex: "-1", autocomplete: "off", "aria-hidden": "true", style: "position:absolute;left:-9999px;width:1px;height:1px" });
    const opened = performance.now();
    const submit = h("button", { class: "primary", type: "submit" }, edit ? T.save : T.post);
    const form = h("form", { novalidate: true, "aria-label": parent ? T.replyTo(nameOf(parent)) : edit ? T.edit : T.leave },
      fields.map((f) => f.el), edit ? null : honeypot, general,
      h("div", {}, submit, close && h("button", { type: "button", onclick: close }, T.cancel)));
    if (close) form.addEventListener("keydown", (e) => e.key === "Escape" && close());
    if (edit) loadSource();
    // The source is not on the page (the read models keep none): it is asked for when editing.
    async function loadSource() {
      const body = fields[0].control;
      body.disabled = submit.disabled = true;
      const { status: code, data } = await api("GET", threadPath + "/comments/" + edit.id + "/source");
      if (code !== 200) return (general.textContent = T.failed + ((data.error || {}).message || T.error));
      body.value = data.source;
      body.disabled = submit.disabled = false;
      body.focus();
    }
    const saved = JSON.parse(localStorage.getItem("commentstream:author") || "{}");
    for (const f of fields.slice(1)) f.control.value = saved[f.control.name] || "";

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const f of fields) { f.err.textContent = ""; f.control.removeAttribute("aria-invalid"); }
      general.textContent = "";
      const value = (name) => form.elements[name] && form.elements[name].value.trim();
      const author = { name: value("name") || undefined, email: value("email") || undefined, website: value("website") || undefined };
      submit.disabled = true;
      writing++;
      let temp;
      if (!edit) {
        localStorage.setItem("commentstream:author", JSON.stringify({ name: author.name, email: author.email, website: author.website }));
        temp = place({ id: "pending-" + ++uid, parent_id: parent ? parent.id : null, author: { name: author.name, avatar: "" },
          created_at: new Date().toISOString(), status: "visible", likes: { count: 0 }, text: value("body"), pending: T.posting, replies: [] },
        parent ? depthOf(parent.id) + 1 : 0, sortSelect.value === "newest");
      }
      const { status: code, data } = edit
        ? await api("PATCH", threadPath + "/comments/" + edit.id, { body: value("body") })
        : await api("POST", threadPath + "/comments", { body: value("body"), parent_id: parent && parent.id, author, title: cfg.title, url: cfg.url || location.href.split("#")[0], hp: honeypot.value || undefined, elapsed_ms: Math.round(performance.now() - opened) });
      submit.disabled = false;
      if (code === 201 || code === 200) return done(data.position);
      if (code === 202) {
        if (temp) fill(temp, { ...comments.get(temp.id.slice(2)), pending: T.pending });
        return poll(data.status_url, (o) => (o.status === "accepted" ? done(o.position) : fail(o)));
      }
      fail(data.error || {});
      function settle() {
        const waiting = deferred;
        writing--;
        deferred = [];
        return waiting;
      }
      function done(position) {
        settle();
        if (temp) temp.remove();
        if (!edit) form.reset();
        if (close) close();
        load(true, position);
      }
      function fail(err) {
        settle().forEach((c) => upsert(c, true));
        if (temp) temp.remove();
        const f = fields.find((x) => x.key === err.field);
        if (f) { f.err.textContent = err.message; f.control.setAttribute("aria-invalid", "true"); f.control.focus(); }
        else general.textContent = T.failed + (err.message || T.error);
      }
    });
    return form;
  }

  async function poll(url, then) {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(base + url).then((r) => r.json()).catch(() => ({}));
      if (res.status && res.status !== "pending") return then(res);
    }
  }

  function confirmDelete(c, slot, opener) {
    const cancel = () => { slot.replaceChildren(); opener.focus(); };
    const yes = h("button", { type: "button", onclick: async () => {
      const { status: code, data } = await api("DELETE", threadPath + "/comments/" + c.id);
      if (code === 200) load(true, data.position);
      else { slot.replaceChildren(h("p", { class: "error", role: "alert" }, T.failed + ((data.error || {}).message || T.error))); }
    } }, T.yesDelete);
    slot.opener = null;
    slot.replaceChildren(h("p", { role: "group", "aria-label": T.confirmDelete }, T.confirmDelete, " ", yes, " ", h("button", { type: "button", onclick: cancel }, T.cancel)));
    yes.focus();
  }

  // One like request at a time per comment, in the order asked: two in flight at once could
  // reach the server in either order (like, unlike ending up liked).
  const likeChains = new Map();
  function toggleLike(c) {
    const liked = !c.likes.liked_by_me;
    const before = c.likes;
    c.likes = { count: before.count + (liked ? 1 : -1), liked_by_me: liked };
    showLikes(c.id);
    const send = async () => {
      await ensureIdentity();
      const { status: code, data } = await api(liked ? "PUT" : "DELETE", threadPath + "/comments/" + c.id + "/like");
      // 202: queued behind a busy processor; wait for its outcome before the next request.
      const outcome = code === 202 ? await poll(data.status_url, (o) => o) : null;
      if (code === 200 || (outcome && outcome.status === "accepted")) return;
      c.likes = before; showLikes(c.id); status.textContent = T.failed + ((outcome || data.error || {}).message || T.error);
    };
    const chain = (likeChains.get(c.id) || Promise.resolve()).then(send, send);
    likeChains.set(c.id, chain);
    return chain;
  }

  async function showLikers(c, button, slot) {
    if (button.getAttribute("aria-expanded") === "true") { slot.replaceChildren(); return button.setAttribute("aria-expanded", "false"); }
    const { data } = await api("GET", threadPath + "/comments/" + c.id + "/likes?limit=50");
    slot.opener = null;
    slot.replaceChildren(h("ul", { "aria-label": T.whoLikes }, (data.likers || []).map((l) => h("li", {}, l.name || T.anonymous))));
    button.setAttribute("aria-expanded", "true");
  }

  // A like changes two buttons in place: redrawing the comment would replace the one being
  // pressed (a Space whose keyup lands on its replacement clicks nothing).
  function showLikes(id) {
    const c = comments.get(id), footer = nodes.get(id)?.querySelector(":scope > article > footer");
    if (!footer) return refresh(id);
    const [like, likers] = footer.children;
    like.setAttribute("aria-pressed", String(!!c.likes.liked_by_me));
    likers.textContent = T.liked(c.likes.count);
    likers.hidden = !c.likes.count;
  }

  function refresh(id) {
    const li = nodes.get(id);
    if (!li) return;
    const active = root.activeElement && li.firstChild.contains(root.activeElement) ? root.activeElement : null;
    fill(li, comments.get(id));
    if (active && active.isConnected) active.focus(); // in a kept form: moved, so it lost the focus
    else if (active) [...li.firstChild.querySelectorAll("button")].find((b) => b.textContent === active.textContent)?.focus();
  }

  // --- live updates --------------------------------------------------------------------------
  function upsert(c, isNew) {
    const old = comments.get(c.id);
    const li = nodes.get(c.id);
    if (old && li && ["rejected", "spam", "pending"].includes(c.status) && !li.querySelector(":scope > ol > li")) {
      li.remove(); nodes.delete(c.id); comments.delete(c.id); // hidden by a moderator, with no replies
      return;
    }
    if (old) {
      comments.set(c.id, { ...c, mine: old.mine, editable_until: old.editable_until, likes: { ...c.likes, liked_by_me: old.likes.liked_by_me } });
      return refresh(c.id);
    }
    if (!isNew || (c.parent_id ? !nodes.has(c.parent_id) : cursor && sortSelect.value !== "newest")) return;
    if (writing) return void deferred.push(c);
    place(c, c.parent_id ? depthOf(c.parent_id) + 1 : 0, !c.parent_id && sortSelect.value === "newest");
    live.textContent = T.newComment(nameOf(c));
  }

  if (window.EventSource) {
    const events = new EventSource(base + "/api/v1" + threadPath + "/live?site=" + encodeURIComponent(site));
    const on = (type, fn) => events.addEventListener(type, (e) => fn(JSON.parse(e.data)));
    on("comment", (d) => { setCount(d.count); upsert(d.comment, true); });
    on("update", (d) => { setCount(d.count); upsert(d.comment, false); });
    on("likes", (d) => { const c = comments.get(d.id); if (c) { c.likes = { ...c.likes, count: d.count }; showLikes(d.id); } });
    on("thread", (d) => setLocked(!!d.locked));
  }

  // A host page that signs its user in after the widget loaded: commentstreamSignIn(jwt).
  window.commentstreamSignIn = (ssoToken) => { token = ssoToken; cfg.ssoToken = ssoToken; load(true); whoAmI(); };

  setCount(0);
  load(true);
  whoAmI();
})();
