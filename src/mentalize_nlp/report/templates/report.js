"use strict";
(function () {
  var table = document.getElementById("transcript-table");
  var panel = document.getElementById("filters");
  if (!table || !panel) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var byLabel = document.getElementById("filter-label");
  var bySpeaker = document.getElementById("filter-speaker");
  var reset = document.getElementById("filter-reset");
  var status = document.getElementById("filter-status");

  function matches(row, label, speaker) {
    var labels = (row.getAttribute("data-labels") || "").split(" ").filter(Boolean);
    var okLabel = label === "all" || (label === "any" ? labels.length > 0 :
      label === "none" ? labels.length === 0 : labels.indexOf(label) !== -1);
    var okSpeaker = speaker === "all" || row.getAttribute("data-speaker") === speaker;
    return okLabel && okSpeaker;
  }

  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var show = matches(row, byLabel.value, bySpeaker.value);
      row.hidden = !show;
      if (show) { shown += 1; }
    });
    status.textContent = "Showing " + shown + " of " + rows.length + " utterances";
  }

  function showAll() {
    byLabel.value = "all";
    bySpeaker.value = "all";
    apply();
  }

  // A link to a turn that the filter hides shows every turn again, so the jump lands.
  function hiddenRow(id) {
    var row = id ? document.getElementById(id) : null;
    return row && row.hidden ? row : null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link && hiddenRow(decodeURIComponent(link.getAttribute("href").slice(1)))) { showAll(); }
  });
  window.addEventListener("hashchange", function () {
    var row = hiddenRow(decodeURIComponent(window.location.hash.slice(1)));
    if (row) { showAll(); row.scrollIntoView(); }
  });
  byLabel.addEventListener("change", apply);
  bySpeaker.addEventListener("change", apply);
  reset.addEventListener("click", showAll);
  panel.hidden = false;
  apply();
})();
