(function () {
  "use strict";
  // Sort a table by a clicked column heading. Cells with data-sort sort as numbers
  // (an empty data-sort, a missing figure, sorts last either way); others as text.
  function key(row, col) {
    var cell = row.cells[col];
    var raw = cell.getAttribute("data-sort");
    if (raw === null) return cell.textContent.trim().toLowerCase();
    return raw === "" ? null : Number(raw);
  }
  function compare(a, b, dir) {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return (a < b ? -1 : 1) * dir;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var dir = now === "ascending" ? -1 : now === "descending" ? 1 :
          th.hasAttribute("data-numeric") ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return compare(key(a, col), key(b, col), dir); });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
