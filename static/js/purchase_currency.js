// The purchase form asks for an exchange rate only when the purchase is not in the business
// currency; left empty, the server takes the rates table's rate for the purchase's date.
(() => {
  const form = document.querySelector("[data-purchase-form]");
  const currency = form && form.querySelector("[data-currency]");
  const rate = form && form.querySelector("[data-exchange-rate]");
  if (!currency || !rate) return;
  const box = rate.closest("[class*='col-']") || rate.parentElement;
  const show = () => { box.hidden = currency.value === form.dataset.businessCurrency; };
  currency.addEventListener("change", show);
  show();
})();
