// Small progressive enhancements; every page works without this file.
(function () {
  // Close an open dropdown (<details class="switcher">) when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("details.switcher[open]").forEach(function (d) { d.removeAttribute("open"); });
      var nav = document.getElementById("nav-open");
      if (nav) nav.checked = false;
    }
  });

  // Menus stay inside the viewport: one that would cross the left edge is
  // anchored on its left instead; arrow keys move between its items.
  document.querySelectorAll("details.switcher").forEach(function (d) {
    var menu = d.querySelector(".menu");
    if (!menu) return;
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      menu.classList.remove("flip-left");
      if (menu.getBoundingClientRect().left < 8) menu.classList.add("flip-left");
    });
    menu.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      var items = Array.prototype.filter.call(
        menu.querySelectorAll("a, button, input, select"),
        function (el) { return !el.disabled && el.offsetParent !== null; });
      if (!items.length) return;
      var i = items.indexOf(document.activeElement);
      i = e.key === "ArrowDown" ? (i + 1) % items.length : (i <= 0 ? items.length - 1 : i - 1);
      items[i].focus();
      e.preventDefault();
    });
  });

  // The Menu button on phones answers Enter and Space like a button.
  document.querySelectorAll(".nav-toggle").forEach(function (t) {
    t.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        var nav = document.getElementById(t.getAttribute("for"));
        if (nav) nav.checked = !nav.checked;
        e.preventDefault();
      }
    });
  });

  // Page picker: filter by title, keep the count of selected pages.
  document.querySelectorAll(".picker").forEach(function (picker) {
    var search = picker.querySelector(".picker-search");
    var form = picker.closest("form");
    var count = form && form.querySelector(".picker-count");
    if (search) {
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase();
        picker.querySelectorAll(".picker-list li").forEach(function (li) {
          var t = li.querySelector(".picker-title").textContent.toLowerCase();
          li.hidden = q !== "" && t.indexOf(q) === -1;
        });
      });
      // Enter in the search box must not submit the consent form.
      search.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    }
    if (count) {
      picker.addEventListener("change", function () {
        var n = picker.querySelectorAll("input[type=checkbox]:checked").length;
        count.textContent = n + (n === 1 ? " page selected" : " pages selected");
      });
    }
  });
})();

// Copy buttons: copy the named field's value to the clipboard.
document.querySelectorAll("[data-copy]").forEach(function (btn) {
  btn.addEventListener("click", function () {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { btn.textContent = "Copied"; };
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, done); } else { document.execCommand("copy"); done(); }
  });
});

// Page ••• menu: filter the connections that can be added.
document.querySelectorAll(".conn-search").forEach(function (search) {
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var menu = search.closest(".menu");
    menu.querySelectorAll(".conn-list li").forEach(function (li) {
      li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) === -1;
    });
  });
});
