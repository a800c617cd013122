// Small progressive enhancements; every page works without this file.
(function () {
  // Close an open dropdown (<details>) when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("details[open]").forEach(function (d) { d.removeAttribute("open"); });
    }
  });
})();
