// Small behaviours for forms, attached by data attributes (no inline script or handlers):
// - <form data-autosubmit>: submit when one of its selects changes (the button stays for keyboards);
// - [data-remove-form] inside a form loaded in place: the button removes that form;
// - <form data-escape-removes>: Escape inside it removes it.
(function () {
  "use strict";
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.requestSubmit();
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-form]");
    if (button) button.closest("form").remove();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const form = event.target.closest("form[data-escape-removes]");
    if (form) form.remove();
  });
})();
