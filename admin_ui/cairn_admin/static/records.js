// Record forms, progressive enhancement only: without this file a relation is a plain id
// field and JSON is checked by the server alone.
"use strict";

// A field the server refused stops looking refused once it is edited.
document.querySelectorAll(".rec-field.invalid").forEach((field) => {
  const control = field.querySelector("[name^='f.']");
  const error = field.querySelector(":scope > p.error");
  if (!control || !error) return;
  control.addEventListener("input", () => {
    field.classList.remove("invalid");
    control.removeAttribute("aria-invalid");
    error.hidden = true;
  }, { once: true });
});

// JSON fields: say at once whether the text parses, and keep a broken value from being sent.
document.querySelectorAll("textarea[data-json]").forEach((area) => {
  const note = document.createElement("p");
  note.className = "error";
  note.id = area.id + "-json";
  note.hidden = true;
  area.insertAdjacentElement("afterend", note);
  const field = area.closest(".field");
  const check = () => {
    const text = area.value.trim();
    let problem = "";
    if (text) {
      try { JSON.parse(text); } catch (err) { problem = "Not valid JSON: " + err.message; }
    }
    note.textContent = problem;
    note.hidden = !problem;
    if (problem) area.setAttribute("aria-invalid", "true");
    else area.removeAttribute("aria-invalid");
    field.classList.toggle("invalid", Boolean(problem));
    const described = (area.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== note.id);
    if (problem) described.unshift(note.id);
    area.setAttribute("aria-describedby", described.join(" "));
    return !problem;
  };
  area.addEventListener("input", check);
  area.form.addEventListener("submit", (event) => {
    if (!check()) { event.preventDefault(); area.focus(); }
  });
});

// Relation pickers: search the related collection by text and fill in the id.
let pickers = 0;
document.querySelectorAll("[data-lookup]").forEach((target) => {
  const n = ++pickers;
  const multiple = target.hasAttribute("data-multiple");
  const collection = target.dataset.collection;
  const box = document.createElement("div");
  box.className = "picker";
  const search = document.createElement("input");
  search.type = "search";
  search.id = "picker-" + n;
  search.placeholder = "Search " + collection + " by text or id…";
  search.autocomplete = "off";
  search.setAttribute("role", "combobox");
  search.setAttribute("aria-autocomplete", "list");
  search.setAttribute("aria-expanded", "false");
  search.setAttribute("aria-controls", "picker-list-" + n);
  search.setAttribute("aria-label", "Search " + collection + " for " + (target.labels[0] ? target.labels[0].textContent : "a record"));
  const list = document.createElement("ul");
  list.id = "picker-list-" + n;
  list.className = "picker-list";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  const note = document.createElement("p");
  note.className = "picker-note";
  note.setAttribute("aria-live", "polite");
  box.append(search, list);
  target.insertAdjacentElement("afterend", box);
  box.insertAdjacentElement("afterend", note);

  let results = [];
  let active = -1;
  let timer = 0;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    list.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      const li = list.children[index];
      search.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (item) => {
    if (multiple) {
      const ids = target.value.split(/[\s,]+/).filter(Boolean);
      if (!ids.includes(item.id)) ids.push(item.id);
      target.value = ids.join("\n");
      note.textContent = "Added " + item.label + ".";
    } else {
      target.value = item.id;
      note.textContent = "Selected " + item.label + ".";
    }
    target.dispatchEvent(new Event("input", { bubbles: true }));
    search.value = "";
    close();
  };
  const show = (items, error) => {
    results = items;
    list.replaceChildren();
    items.forEach((item, i) => {
      const li = document.createElement("li");
      li.id = "picker-" + n + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const label = document.createElement("span");
      label.textContent = item.label;
      const id = document.createElement("small");
      id.textContent = "…" + item.id.slice(-8);
      li.append(label, id);
      li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
      list.append(li);
    });
    list.hidden = items.length === 0;
    search.setAttribute("aria-expanded", String(items.length > 0));
    note.textContent = error || (items.length ? items.length + " found; arrow keys to choose." : "No " + collection + " match.");
    highlight(items.length ? 0 : -1);
  };
  const ask = async (text) => {
    const mine = ++asked;
    try {
      const response = await fetch(target.dataset.lookup + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      const body = await response.json();
      if (mine === asked) show(body.items || [], body.error);
    } catch (err) {
      if (mine === asked) show([], "The search failed; enter the id instead.");
    }
  };

  search.addEventListener("input", () => {
    clearTimeout(timer);
    asked++; // answers to earlier text no longer count
    close();
    timer = setTimeout(() => ask(search.value), 180);
  });
  search.addEventListener("focus", () => { if (!results.length) ask(search.value); });
  search.addEventListener("blur", () => setTimeout(close, 120));
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { ask(search.value); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + results.length) % results.length);
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0) { event.preventDefault(); choose(results[active]); }
    } else if (event.key === "Escape") {
      close();
    }
  });

  // Name the record the field already points at.
  const first = target.value.split(/[\s,]+/).filter(Boolean);
  if (!multiple && first.length === 1) {
    fetch(target.dataset.lookup + "?q=" + encodeURIComponent(first[0]), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((body) => {
        const found = (body.items || []).find((item) => item.id === first[0]);
        if (found && target.value === first[0]) note.textContent = "Currently " + found.label + ".";
      })
      .catch(() => {});
  }
});
