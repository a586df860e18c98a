// The purchase form asks for an exchange rate only when the purchase is not in the business
// currency. Left empty, the server takes the rates table's rate for the purchase's date: the field
// shows that rate (or says there is none) as the currency or the date change.
(() => {
  const form = document.querySelector("[data-purchase-form]");
  const currency = form && form.querySelector("[data-currency]");
  const rate = form && form.querySelector("[data-exchange-rate]");
  if (!currency || !rate) return;
  const date = form.querySelector("input[name=date]");
  const box = rate.closest("[class*='col-']") || rate.parentElement;
  const hint = document.createElement("div");
  hint.className = "form-text";
  hint.setAttribute("data-rate-hint", "");
  hint.setAttribute("aria-live", "polite");
  rate.after(hint);
  let asked = 0;

  const lookUp = () => {
    const mine = ++asked;
    const query = new URLSearchParams({ currency: currency.value, date: date ? date.value : "" });
    fetch(`${form.dataset.rateUrl}?${query}`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data || mine !== asked) return;
        rate.placeholder = data.rate || "";
        hint.textContent = data.rate ? `${form.dataset.rateFound} ${data.rate}` : data.message;
      })
      .catch(() => {});
  };
  const show = () => {
    box.hidden = currency.value === form.dataset.businessCurrency;
    if (!box.hidden) lookUp();
  };
  currency.addEventListener("change", show);
  if (date) date.addEventListener("change", () => { if (!box.hidden) lookUp(); });
  show();
})();
