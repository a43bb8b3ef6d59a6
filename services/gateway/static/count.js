/* commentstream counts: fills every [data-commentstream-count="thread"] on a listing page
   with "25 thoughts", in one request per site. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[src*='count.js']");
  const base = new URL(script.src, location.href).origin;
  const fr = /^fr\b/i.test((script && script.dataset.lang) || document.documentElement.lang || navigator.language || "");
  const label = (n) => fr
    ? (n === 0 ? "Aucune réflexion" : n === 1 ? "1 réflexion" : n + " réflexions")
    : (n === 0 ? "No thoughts yet" : n === 1 ? "1 thought" : n + " thoughts");
  const bySite = {};
  for (const el of document.querySelectorAll("[data-commentstream-count]")) {
    const site = el.dataset.commentstreamSite || (script && script.dataset.site) || "default";
    (bySite[site] = bySite[site] || []).push(el);
  }
  for (const [site, elements] of Object.entries(bySite)) {
    const query = new URLSearchParams({ site });
    for (const thread of new Set(elements.map((el) => el.dataset.commentstreamCount))) query.append("thread", thread);
    fetch(base + "/api/v1/counts?" + query)
      .then((r) => (r.ok ? r.json() : {}))
      .then((counts) => {
        for (const el of elements) {
          const n = counts[el.dataset.commentstreamCount];
          if (typeof n === "number") el.textContent = label(n);
        }
      })
      .catch(() => {});
  }
})();
