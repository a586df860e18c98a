// The campaign form: the message field is an e-mail's message, or the talking points of a phone
// or visit campaign. Its label and help follow the chosen channel (texts in data attributes,
// translated by the server).
(function () {
  "use strict";

  function follow(channel) {
    const body = document.querySelector("[data-talk-label]");
    if (!body || !channel) {
      return;
    }
    const kind = channel.value === "email" || channel.value === "" ? "email" : "talk";
    const field = body.closest("[data-field]");
    const label = field.querySelector("label");
    const help = field.querySelector(".form-text");
    label.textContent = body.dataset[kind + "Label"];
    if (help) {
      help.textContent = body.dataset[kind + "Help"];
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-channel]")) {
      follow(event.target);
    }
  });
  follow(document.querySelector("[data-channel]"));
})();
