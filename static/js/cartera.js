// Page behaviour declared with data attributes, so that no template needs inline script
// (the Content-Security-Policy allows scripts from our static files only).
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form.
  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
    // A header checkbox [data-select-all] ticks every client of the table.
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("#client-table input[name=clients]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  // <input data-select-on-focus>: focusing selects the whole value, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    // <form data-confirm="question">: submits only once the user confirms.
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // <form data-current-query>: posts the page's current querystring in its "query" field.
    if (form.hasAttribute("data-current-query") && form.elements.query) {
      form.elements.query.value = window.location.search.slice(1);
    }
  });

  // Filters and sorting reload only the table (htmx) and push the new querystring: the export
  // links follow it, so that they always download what the list shows.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    document.querySelectorAll("[data-export-base]").forEach(function (link) {
      link.href = link.dataset.exportBase + window.location.search;
    });
  });
})();
