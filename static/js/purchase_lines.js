// The purchase form's lines: add and remove lines (a Django formset with a template row), offer
// the products matching what is typed (a <datalist> filled from the server), prefill the unit
// price from the product's list price, show each line's total and the purchase's total as the
// server will compute them, and add a product to the catalogue without leaving the page.
(function () {
  "use strict";

  const form = document.querySelector("[data-purchase-form]");
  if (!form) {
    return;
  }
  const body = form.querySelector("[data-lines]");
  const template = form.querySelector("[data-line-template]");
  const totalForms = form.querySelector("input[name=lines-TOTAL_FORMS]");
  const options = document.getElementById("product-options");
  const amount = form.querySelector("[data-purchase=amount]");
  const grandTotal = form.querySelector("[data-purchase-total]");
  const language = document.documentElement.lang || undefined;
  const money = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function number(input) {
    const value = parseFloat((input && input.value || "").replace(",", "."));
    return Number.isFinite(value) ? value : null;
  }

  // In cents and halves away from zero, as core/money.cents rounds each line on the server.
  function lineCents(quantity, price, discount) {
    // In cents; toPrecision drops the binary noise (1.005 * 100 = 100.49999…) before rounding.
    const exact = Number((quantity * price * (100 - discount)).toPrecision(12));
    return Math.sign(exact) * Math.round(Math.abs(exact));
  }

  function field(row, name) {
    return row.querySelector("[data-line=" + name + "]");
  }

  function liveRows() {
    return Array.from(body.querySelectorAll("[data-line-row]")).filter(function (row) {
      return !row.hidden;
    });
  }

  function recompute() {
    let sum = 0;
    let itemised = false;
    liveRows().forEach(function (row) {
      const cell = row.querySelector("[data-line-total]");
      const quantity = number(field(row, "quantity"));
      const price = number(field(row, "unit_price"));
      const discount = number(field(row, "discount")) || 0;
      if (!field(row, "product").value.trim() || quantity === null || price === null) {
        cell.textContent = "";
        return;
      }
      const cents = lineCents(quantity, price, discount);
      cell.textContent = money.format(cents / 100);
      sum += cents;
      itemised = true;
    });
    grandTotal.textContent = itemised ? money.format(sum / 100) : "";
    if (amount) {
      // With lines the amount is their sum (computed again on the server); without, it is typed.
      amount.readOnly = itemised;
      if (itemised) {
        amount.value = (sum / 100).toFixed(2);
      }
    }
  }

  function optionFor(name) {
    return Array.from(options.options).find(function (option) {
      return option.value === name;
    });
  }

  function prefillPrice(row) {
    const price = field(row, "unit_price");
    const option = optionFor(field(row, "product").value);
    if (option && (price.value === "" || price.dataset.fromCatalogue === "1")) {
      price.value = option.dataset.price;
      price.dataset.fromCatalogue = "1";
    }
    recompute();
  }

  let pending = null;
  function offer(row) {
    const text = field(row, "product").value;
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      const url = form.dataset.optionsUrl + "?q=" + encodeURIComponent(text);
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          options.innerHTML = html;
          prefillPrice(row);
        });
    }, 150);
  }

  function addLine(values) {
    const index = parseInt(totalForms.value, 10);
    const holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    const row = holder.querySelector("[data-line-row]");
    body.appendChild(row);
    totalForms.value = String(index + 1);
    if (values) {
      field(row, "product").value = values.name;
      field(row, "unit_price").value = values.price;
      field(row, "unit_price").dataset.fromCatalogue = "1";
    }
    recompute();
    return row;
  }

  form.addEventListener("input", function (event) {
    const row = event.target.closest("[data-line-row]");
    if (!row) {
      return;
    }
    if (event.target.dataset.line === "product") {
      prefillPrice(row);
      offer(row);
    } else if (event.target.dataset.line === "unit_price") {
      event.target.dataset.fromCatalogue = "0"; // typed by the user: a later product choice keeps it
    }
    recompute();
  });

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-add-line]")) {
      field(addLine(), "product").focus();
    }
    const remove = event.target.closest("[data-remove-line]");
    if (remove) {
      // Kept in the formset, marked deleted: the other lines keep their numbers.
      const row = remove.closest("[data-line-row]");
      row.querySelector("input[name$=-DELETE]").checked = true;
      row.hidden = true;
      recompute();
    }
  });

  // A product added to the catalogue from here goes into an empty line, or a new one.
  const quick = document.querySelector("[data-quick-product]");
  if (quick) {
    quick.addEventListener("submit", function (event) {
      event.preventDefault();
      const errors = quick.querySelector("[data-quick-errors]");
      const done = quick.querySelector("[data-quick-done]");
      fetch(quick.action, { method: "POST", body: new FormData(quick), credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
        .then(function (result) {
          const ok = result[0];
          const data = result[1];
          errors.classList.toggle("d-none", ok);
          errors.textContent = ok ? "" : (data.errors || []).join(" ");
          if (!ok) {
            return;
          }
          const option = document.createElement("option");
          option.value = data.name;
          option.dataset.price = data.price;
          options.appendChild(option);
          const empty = liveRows().find(function (row) { return !field(row, "product").value.trim(); });
          if (empty) {
            field(empty, "product").value = data.name;
            field(empty, "unit_price").value = data.price;
            field(empty, "unit_price").dataset.fromCatalogue = "1";
            recompute();
          } else {
            addLine(data);
          }
          done.textContent = (quick.dataset.doneText || "") + " " + data.name;
          quick.reset();
        });
    });
  }

  recompute();
})();
