// Progressive enhancement only: every page works without this file.
"use strict";

// A destructive button stays disabled until the typed confirmation matches.
document.querySelectorAll("[data-must-equal]").forEach((input) => {
  const form = input.form;
  const button = form && form.querySelector("[data-enable-when-confirmed]");
  if (!button) return;
  const sync = () => { button.disabled = input.value !== input.dataset.mustEqual; };
  input.addEventListener("input", sync);
  sync();
});

// Copy buttons: <button data-copy="#element-id">.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    await navigator.clipboard.writeText(source.textContent.trim());
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});
