// The ideal profile's criteria: each value field offers the values of its row's attribute
// (datalist icp-values-<attribute>), and "Add a criterion" adds an empty row (Django's formset).
(function () {
  "use strict";
  const rows = document.getElementById("icp-rows");
  if (!rows) return;
  function linkList(row) {
    const attribute = row.querySelector("[data-icp-attribute]");
    const value = row.querySelector("[data-icp-value]");
    if (!attribute || !value) return;
    const update = function () {
      if (attribute.value) value.setAttribute("list", "icp-values-" + attribute.value);
      else value.removeAttribute("list");
    };
    attribute.addEventListener("change", update);
    update();
  }
  rows.querySelectorAll("tr").forEach(linkList);
  const add = document.querySelector("[data-icp-add]");
  const template = document.getElementById("icp-empty-row");
  const total = document.querySelector("input[name='criteria-TOTAL_FORMS']");
  if (!add || !template || !total) return;
  add.addEventListener("click", function () {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    linkList(rows.lastElementChild);
  });
})();
