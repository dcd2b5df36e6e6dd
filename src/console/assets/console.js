// deckd console: live review counts over Server-Sent Events. Pages work without it.
"use strict";
(function () {
  const body = document.body;
  if (!body.dataset.events || !window.EventSource) return;
  const source = new EventSource(body.dataset.events);
  source.addEventListener("queue", async (event) => {
    let counts;
    try { counts = JSON.parse(event.data); } catch (_) { return; }
    for (const el of document.querySelectorAll("[data-count-total]")) {
      el.textContent = String(counts.total);
      el.classList.toggle("zero", counts.total === 0);
    }
    for (const deck of counts.decks) {
      for (const el of document.querySelectorAll(`[data-count-deck="${deck.hash}"]`)) {
        el.textContent = String(deck.pending);
        el.classList.toggle("zero", deck.pending === 0);
      }
    }
    const list = document.getElementById("queue-list");
    if (list && list.dataset.src) {
      const response = await fetch(list.dataset.src, { credentials: "same-origin" });
      if (response.ok) list.innerHTML = await response.text();
    }
  });
})();
