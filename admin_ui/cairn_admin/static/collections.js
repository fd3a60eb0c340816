// The schema editor, as progressive enhancement: every form works without this file.
"use strict";

// A field row shows the options of its type only.
function syncOptions(row) {
  const select = row.querySelector("[data-type-select]");
  if (!select) return;
  row.querySelectorAll("[data-types]").forEach((box) => {
    const applies = box.dataset.types.split(" ").includes(select.value);
    box.hidden = !applies && !box.classList.contains("invalid");
  });
}

function syncRemoved(row) {
  const remove = row.querySelector("[data-remove] input");
  if (remove) row.classList.toggle("removed", remove.checked);
}

function wireRow(row) {
  const select = row.querySelector("[data-type-select]");
  if (select) select.addEventListener("change", () => syncOptions(row));
  const remove = row.querySelector("[data-remove] input");
  if (remove) remove.addEventListener("change", () => syncRemoved(row));
  syncOptions(row);
  syncRemoved(row);
}

document.querySelectorAll("[data-row]").forEach(wireRow);

// Without the script, a type change needs a round trip to show its options.
document.querySelectorAll("[data-no-script]").forEach((el) => { el.hidden = true; });

// "Add field" / "Add index": a new row from the <template>, no round trip.
document.querySelectorAll("[data-add-row]").forEach((button) => {
  const kind = button.dataset.addRow;
  const form = button.form;
  const rows = form.querySelector(`[data-rows="${kind}"]`);
  const template = form.querySelector(`template[data-template="${kind}"]`);
  const count = form.querySelector(`[data-count="${kind}"]`);
  if (!rows || !template || !count) return;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    const index = Number(count.value);
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replaceAll("__i__", String(index));
    const row = holder.firstElementChild;
    rows.appendChild(row);
    count.value = String(index + 1);
    wireRow(row);
    const first = row.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  });
});

// Focus the row the server just added (no-script "Add field" round trip, or a reload).
const editor = document.getElementById("schema-form");
if (editor && editor.dataset.focus) {
  const target = document.getElementById(editor.dataset.focus);
  if (target) target.focus();
}

// Rules: typing an expression chooses "Expression"; leaving the input checks it.
if (editor) {
  editor.querySelectorAll("[data-rule-input]").forEach((input) => {
    const action = input.dataset.ruleInput;
    const fieldset = input.closest(".rule");
    const message = document.getElementById(`e-rule-${action}`);
    const expr = editor.querySelector(`input[name="rule-${action}-mode"][value="expr"]`);
    input.addEventListener("input", () => {
      if (input.value.trim() && expr) expr.checked = true;
      fieldset.classList.remove("valid");
    });
    input.addEventListener("blur", async () => {
      if (!input.value.trim()) {
        message.textContent = "";
        input.removeAttribute("aria-invalid");
        fieldset.classList.remove("invalid", "valid");
        return;
      }
      const body = new FormData(editor);
      body.set("rule_action", action);
      try {
        const response = await fetch(editor.dataset.checkUrl, {
          method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
        });
        if (!response.ok) return;
        const { errors } = await response.json();
        message.textContent = errors.join("; ");
        const bad = errors.length > 0;
        fieldset.classList.toggle("invalid", bad);
        fieldset.classList.toggle("valid", !bad);
        if (bad) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      } catch (_) {
        // Offline or the server is away: the check on "Review plan" still runs.
      }
    });
  });
}

// The plan: "Apply" waits for the destructive confirmation.
document.querySelectorAll("[data-enables]").forEach((box) => {
  const button = document.getElementById(box.dataset.enables);
  if (!button) return;
  const sync = () => { button.disabled = !box.checked; };
  box.addEventListener("change", sync);
  sync();
});
