// A client chosen by typing (the client form's "referred by"): as the user types, the input's
// <datalist> is filled with the matching clients they may see (clients:client_options). Each
// option is written "Name (#id)", which is what the server reads back.
(function () {
  "use strict";

  document.querySelectorAll("[data-client-options]").forEach(function (input) {
    const options = document.getElementById(input.getAttribute("list"));
    if (!options) {
      return;
    }
    let pending = null;
    input.addEventListener("input", function () {
      const text = input.value.trim();
      window.clearTimeout(pending);
      if (text.length < 2 || /#\d+\)?$/.test(text)) {
        return; // too short to search, or a client already chosen
      }
      pending = window.setTimeout(function () {
        const url = input.dataset.optionsUrl + "?q=" + encodeURIComponent(text);
        fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : ""; })
          .then(function (html) { options.innerHTML = html; });
      }, 200);
    });
  });
})();
