/* The admin's export page: the "select all" box ticks or clears every field box (no inline handlers: CSP). */
(function () {
  "use strict";
  function init() {
    var toggle = document.getElementById("select-all-toggle");
    if (!toggle) return;
    toggle.addEventListener("change", function () {
      var boxes = document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]');
      Array.prototype.forEach.call(boxes, function (box) {
        if (box !== toggle) box.checked = toggle.checked;
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
