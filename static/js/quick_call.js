// "Log a call" (clients/quick_views.py): a link [data-quick-call] loads its form into the page's
// #quick-call-modal with htmx and opens the dialog; pages without the dialog follow the link.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-quick-call]");
    const modal = document.getElementById("quick-call-modal");
    if (!link || !modal || !window.htmx || !window.bootstrap || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    const content = modal.querySelector("[data-quick-call-content]");
    content.replaceChildren();
    window.htmx.ajax("GET", link.href, { target: content, swap: "innerHTML" });
    window.bootstrap.Modal.getOrCreateInstance(modal).show();
  });

  // The form's first field takes the focus once loaded (a salesperson picks the outcome at once).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.matches("[data-quick-call-content]")) {
      const first = event.target.querySelector("select, input:not([type=hidden]), textarea");
      if (first) {
        first.focus();
      }
    }
  });
})();
