// The public survey page (templates/surveys/public/): behaviour without inline script.
// - [data-autosubmit]: the score the customer clicked in the email is posted at once (a mail
//   scanner's GET never gets here), so one click records it; without script a button does it.
// - [data-once]: a form is submitted once; a second click while it is on its way does nothing.
// - [data-opened]: tells the server a person opened the page (the results' "opened").
(function () {
  "use strict";
  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending === "1") { event.preventDefault(); return; }
      form.dataset.sending = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("disabled");
      });
    });
  }
  document.querySelectorAll("form[data-once]").forEach(submitOnce);
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });
  document.querySelectorAll("form[data-opened]").forEach(function (form) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token || !window.fetch) { return; }
    var body = new FormData();
    body.append("csrfmiddlewaretoken", token.value);
    body.append("step", "opened");
    fetch(form.getAttribute("action"), {method: "POST", body: body, credentials: "same-origin"}).catch(function () {});
  });
})();
