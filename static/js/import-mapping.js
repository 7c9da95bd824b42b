// The import's mapping step: what the first row of the file becomes under the mapping chosen,
// updated as the columns are mapped, and the file read again as soon as its encoding or delimiter
// changes. Without this script the page works the same, with its "Read again" button.
(function () {
  "use strict";

  var form = document.getElementById("mapping-form");
  var data = document.getElementById("import-sample");
  if (!form || !data) {
    return;
  }
  var sample = JSON.parse(data.textContent);
  var summary = document.getElementById("mapping-summary");
  var list = document.getElementById("mapping-summary-fields");
  var warning = document.getElementById("mapping-summary-warning");
  var NAME_SOURCES = ["name", "contact_name", "contact_first_name", "contact_last_name"];

  form.querySelectorAll("[data-reread]").forEach(function (select) {
    select.addEventListener("change", function () {
      document.getElementById("reread").click();
    });
  });

  function selects() {
    return Array.prototype.slice.call(form.querySelectorAll("select[data-column]"));
  }

  function combine(target, values) {
    var present = values.filter(function (value) { return value.trim() !== ""; });
    if (!present.length) {
      return "";
    }
    var joiner = sample.joined[target];
    if (joiner === undefined) {
      return present[0];
    }
    return present.map(function (value) { return value.trim(); }).join(joiner);
  }

  function render() {
    var row = sample.rows[0] || [];
    var fields = {};
    var order = [];
    selects().forEach(function (select) {
      var target = select.value;
      if (!target) {
        return;
      }
      if (!fields[target]) {
        fields[target] = [];
        order.push(target);
      }
      fields[target].push(row[Number(select.dataset.column)] || "");
    });
    var values = {};
    order.forEach(function (target) { values[target] = combine(target, fields[target]); });
    var person = (values.contact_name || "").trim() ||
      [values.contact_first_name || "", values.contact_last_name || ""]
        .map(function (part) { return part.trim(); }).filter(Boolean).join(" ");
    var shown = [];
    if (!(values.name || "").trim() && person) {
      shown.push(["name", person + " (the contact's name)"]);
    }
    order.forEach(function (target) {
      if (target !== "contact_first_name" && target !== "contact_last_name") {
        shown.push([target, target === "contact_name" ? person : values[target]]);
      }
    });
    if ((fields.contact_first_name || fields.contact_last_name) && !fields.contact_name) {
      shown.push(["contact_name", person]);
    }
    list.replaceChildren();
    shown.forEach(function (pair) {
      var term = document.createElement("dt");
      term.className = "col-sm-4 fw-normal text-muted";
      term.textContent = sample.labels[pair[0]] || pair[0];
      var value = document.createElement("dd");
      value.className = "col-sm-8 mb-0 text-break";
      value.textContent = pair[1] || "—";
      list.append(term, value);
    });
    var named = NAME_SOURCES.some(function (target) { return fields[target]; });
    warning.hidden = named;
    warning.textContent = named ? "" :
      "Map a column to the customer name, or to the contact's name for customers who are people.";
    summary.hidden = !sample.rows.length && named;
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("select[data-column]")) {
      var guess = event.target.parentElement.querySelector(".import-guess");
      if (guess) {
        guess.hidden = true;  // the suggestion no longer describes the choice
      }
      render();
    }
  });
  render();
})();
