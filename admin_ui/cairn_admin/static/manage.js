// Project management pages, progressive enhancement only: every form works without this file.
"use strict";

// <form data-confirm="Question?">: ask before sending (destructive one-click actions).
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// OAuth provider form: the discovery URL only matters for a generic OpenID Connect provider.
// (Never hidden while it holds a value: an error about it must stay visible.)
{
  const preset = document.querySelector("[data-preset-select]");
  const discovery = document.querySelector("[data-discovery-field]");
  const input = discovery && discovery.querySelector("input");
  if (preset && discovery && input) {
    const sync = () => { discovery.hidden = preset.value !== "" && input.value === ""; };
    preset.addEventListener("change", sync);
    sync();
  }
}
