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
    }
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

// Settings → Connections: the search box filters the table's rows by their
// text. Without this file the box stays hidden and every row shows.
document.querySelectorAll("input[data-filter]").forEach(function (search) {
  var table = document.getElementById(search.getAttribute("data-filter"));
  if (!table) return;
  var empty = document.getElementById(search.id + "-empty");
  search.hidden = false;
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var text = (tr.getAttribute("data-search") || tr.textContent).toLowerCase();
      var hit = q === "" || text.indexOf(q) !== -1;
      tr.hidden = !hit;
      if (hit) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  });
});

// My integrations' create form: show only the fields of the chosen type.
// Without this file every field shows and the server ignores the others.
document.querySelectorAll(".kind-form").forEach(function (form) {
  var sync = function () {
    var chosen = form.querySelector("input[name=kind]:checked");
    var kind = chosen ? chosen.value : "public";
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== kind;
    });
  };
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
});
