// The program editor's preview customer, chosen by name: the search box lists the customers found
// (htmx); ↓ moves into the list and ↑/↓ through it, Enter or a click previews with that customer
// without leaving the page (the unsaved wording stays), Esc closes the list. Without this script
// the results are links that open the editor with that customer.
(function () {
  "use strict";
  var search = document.getElementById("preview-find");
  var found = document.getElementById("preview-customers");
  var chosen = document.getElementById("preview-customer");
  if (!search || !found || !chosen) {
    return;
  }

  function links() {
    return Array.prototype.slice.call(found.querySelectorAll("[data-preview-customer]"));
  }

  function close() {
    found.textContent = "";
  }

  function choose(link) {
    chosen.value = link.dataset.previewCustomer;
    search.value = link.textContent.trim();
    close();
    search.focus();
    // The editor's form refreshes its preview on "change" (htmx), with this customer.
    chosen.dispatchEvent(new Event("change", { bubbles: true }));
  }

  found.addEventListener("click", function (event) {
    var link = event.target.closest("[data-preview-customer]");
    if (link) {
      event.preventDefault();
      choose(link);
    }
  });

  search.addEventListener("keydown", function (event) {
    var all = links();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      all[0].focus();
    } else if (event.key === "Enter") {
      event.preventDefault();  // the list follows the typing; Enter takes its first customer
      if (all.length) {
        choose(all[0]);
      }
    } else if (event.key === "Escape") {
      close();
    }
  });

  found.addEventListener("keydown", function (event) {
    var all = links();
    var index = all.indexOf(document.activeElement);
    if (index < 0) {
      return;
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      (all[index + 1] || all[index]).focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (index > 0 ? all[index - 1] : search).focus();
    } else if (event.key === "Escape") {
      close();
      search.focus();
    }
  });
})();
