// Small behaviours for forms, attached by data attributes (no inline script or handlers, which the
// Content-Security-Policy forbids); delegated from the document, so forms loaded in place by htmx
// behave the same:
// - <form data-autosubmit> or <select data-autosubmit>: submit when a select changes (a button
//   stays for keyboards and for pages without script);
// - [data-remove-form] inside a form loaded in place: the button removes that form (Cancel);
// - <form data-escape-removes>: Escape inside it removes it;
// - <textarea data-ctrl-enter-submits>: Ctrl+Enter (⌘+Enter) submits its form;
// - <input type=checkbox data-select-all="SELECTOR">: ticks or unticks every box SELECTOR finds;
// - <input data-enter-does-not-submit>: Enter in it does not submit its form (only the button does);
// - [data-autofocus-wide]: focused when the page (or the part htmx loads) arrives on a wide screen
//   only; on a phone focus would pop the keyboard up over the page the user came to read.
(function () {
  "use strict";
  const wide = window.matchMedia("(min-width: 768px)");
  const focusWide = (root) => {
    const field = wide.matches && root.querySelector && root.querySelector("[data-autofocus-wide]");
    if (field) field.focus();
  };
  document.addEventListener("DOMContentLoaded", () => focusWide(document));
  document.addEventListener("htmx:load", (event) => { if (event.target !== document.body) focusWide(event.target); });
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.tagName === "SELECT" && (target.matches("[data-autosubmit]") || target.closest("form[data-autosubmit]"))) {
      target.form.requestSubmit();
    }
    if (target.matches("input[type=checkbox][data-select-all]")) {
      document.querySelectorAll(target.dataset.selectAll).forEach((box) => { box.checked = target.checked; });
    }
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-form]");
    if (button) button.closest("form").remove();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input[data-enter-does-not-submit]")) {
      event.preventDefault();
    } else if (event.key === "Escape") {
      const form = event.target.closest("form[data-escape-removes]");
      if (form) form.remove();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea[data-ctrl-enter-submits]")) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
})();
