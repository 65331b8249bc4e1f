(function () {
  "use strict";
  // Show one rule's or one rep's violations when the address ends in #only-RULE (a rule
  // card's link) or #rep-N (a rep's name); any other fragment shows them all. Without
  // this script the same links still jump to the violations or to the rep's group.
  var section = document.getElementById("violations");
  var status = document.getElementById("filter-status");
  if (!section || !status) return;
  var groups = section.querySelectorAll(".rep-group");
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function label(hash, rule) {
    if (rule) {
      var link = section.querySelector('nav a[href="#' + hash + '"]');
      return link ? link.getAttribute("data-title") : rule;
    }
    var group = document.getElementById(hash);
    var rep = group && group.querySelector(".rep");
    return rep ? rep.textContent : hash;
  }
  function apply() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    var rule = hash.indexOf("only-") === 0 ? hash.slice(5) : null;
    var rep = /^rep-\d+$/.test(hash) ? hash : null;
    var reps = 0, rows = 0;
    each(groups, function (group) {
      var rules = " " + group.getAttribute("data-rules") + " ";
      var keep = rep ? group.id === rep : !rule || rules.indexOf(" " + rule + " ") >= 0;
      group.style.display = keep ? "" : "none";
      each(group.querySelectorAll("tr[data-rule]"), function (row) {
        var on = keep && (!rule || row.getAttribute("data-rule") === rule);
        row.style.display = on ? "" : "none";
        if (on) rows += 1;
      });
      var more = group.querySelector("details");
      if (more && keep && (rule || rep)) more.open = true;
      if (keep) reps += 1;
    });
    status.textContent = "";
    status.hidden = !(rule || rep);
    if (status.hidden) return;
    status.appendChild(document.createTextNode("Showing " + label(hash, rule) + " only: " +
      rows + " row" + (rows === 1 ? "" : "s") + " from " + reps + " rep" +
      (reps === 1 ? "" : "s") + " on this page. "));
    var all = document.createElement("a");
    all.href = "#violations";
    all.textContent = "Show all";
    status.appendChild(all);
  }
  window.addEventListener("hashchange", apply);
  apply();
})();
