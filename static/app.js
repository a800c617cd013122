// Small progressive enhancements; every page works without this file.
(function () {
  // Close an open dropdown (<details class="switcher">) when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  // Escape closes an open menu and gives focus back to the button that
  // opened it (WAI-ARIA APG menu button), wherever focus was.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var back = null;
      document.querySelectorAll("details.switcher[open]").forEach(function (d) {
        d.removeAttribute("open");
        back = d.querySelector("summary") || back;
      });
      if (back) { back.focus(); return; }
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
    var itemsOf = function () {
      return Array.prototype.filter.call(
        menu.querySelectorAll("a, button, input, select"),
        function (el) { return !el.disabled && el.offsetParent !== null; });
    };
    // ArrowDown on the ••• (or switcher) button opens the menu at its first item.
    var summary = d.querySelector("summary");
    if (summary) summary.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown") return;
      e.preventDefault();
      d.open = true;
      var items = itemsOf();
      if (items.length) items[0].focus();
    });
    menu.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      var items = itemsOf();
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

  // Page picker (templates/picker.html): a tree of checkboxes (WAI-ARIA APG
  // tree: one Tab stop, arrows move, Right/Left expand/collapse or go in and
  // out, Home/End, Space ticks). It opens with the top-level pages collapsed
  // (but those holding a ticked page), the search box focused. A ticked page
  // carries its sub-pages along (never into a private one), so they show
  // ticked and disabled, "included with" it, and the count is of pages that
  // will be shared. A search lists matches flat, each with its path.
  // Without this script every row shows and the form posts every ticked box.
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var list = picker.querySelector(".picker-list");
    if (!list) return;
    var details = picker.querySelector("details");
    var rows = Array.prototype.slice.call(list.children);
    var search = picker.querySelector(".picker-search");
    var count = picker.querySelector(".picker-count");
    var names = picker.querySelector(".picker-names");
    var empty = picker.querySelector(".picker-empty");
    var nomatch = picker.querySelector(".picker-nomatch");
    var depth = function (li) { return +li.getAttribute("data-depth"); };
    var box = function (li) { return li.querySelector("input[type=checkbox]"); };
    var kids = function (li) { return li.getAttribute("data-kids") === "true"; };
    var byId = {}, children = {};
    rows.forEach(function (li) {
      byId[li.getAttribute("data-id")] = li;
      var p = li.getAttribute("data-parent") || "";
      if (!byId[p]) p = "";
      (children[p] = children[p] || []).push(li);
      // The tree is one Tab stop: its rows take focus, not their controls.
      li.tabIndex = -1;
      box(li).tabIndex = -1;
      var chevron = li.querySelector("button.chevron");
      if (chevron) chevron.tabIndex = -1;
    });

    function recount() {
      var stack = [], n = 0, ticked = [];
      rows.forEach(function (li) {
        var d = depth(li), b = box(li), note = li.querySelector(".picker-note");
        var priv = li.getAttribute("data-private") === "true";
        while (stack.length && stack[stack.length - 1].d >= d) stack.pop();
        var carrier = null;
        if (!priv) {
          for (var k = stack.length - 1; k >= 0; k--) {
            if (stack[k].ticked) { carrier = stack[k].title; break; }
            if (stack[k].priv) break;
          }
        }
        if (carrier) {
          b.checked = true; b.disabled = true;
          note.textContent = "included with " + carrier;
        } else {
          b.disabled = false;
          b.checked = li.getAttribute("data-own") === "1";
          note.textContent = "";
          if (b.checked) ticked.push(li.getAttribute("data-title"));
        }
        li.setAttribute("aria-checked", b.checked ? "true" : "false");
        if (b.checked) n++;
        stack.push({ d: d, title: li.getAttribute("data-title"), ticked: !carrier && b.checked, priv: priv });
      });
      if (count) count.textContent = n + (n === 1 ? " page will be shared" : " pages will be shared");
      if (names) {
        names.textContent = ticked.length === 0 ? "" : ": " + ticked.slice(0, 3).join(", ") +
          (ticked.length > 3 ? " and " + (ticked.length - 3) + " more" : "");
      }
      if (empty) empty.hidden = n !== 0;
    }

    function setOpen(li, open) {
      if (!kids(li)) return;
      var chevron = li.querySelector(".chevron");
      li.classList.toggle("collapsed", !open);
      li.setAttribute("aria-expanded", open ? "true" : "false");
      chevron.setAttribute("aria-expanded", open ? "true" : "false");
      chevron.setAttribute("aria-label", (open ? "Collapse " : "Expand ") + li.getAttribute("data-title"));
      chevron.textContent = open ? "▾" : "▸";
    }

    var query = function () { return search ? search.value.trim().toLowerCase() : ""; };

    function show() {
      var q = query(), hits = 0;
      list.classList.toggle("searching", q !== "");
      var collapsedAt = null;
      rows.forEach(function (li) {
        var path = li.querySelector(".picker-path");
        if (q !== "") {
          li.hidden = li.getAttribute("data-title").toLowerCase().indexOf(q) === -1;
          path.hidden = path.textContent === "";
          if (!li.hidden) hits++;
          return;
        }
        path.hidden = true;
        var d = depth(li);
        if (collapsedAt !== null && d <= collapsedAt) collapsedAt = null;
        li.hidden = collapsedAt !== null;
        if (collapsedAt === null && li.classList.contains("collapsed")) collapsedAt = d;
      });
      if (nomatch) {
        nomatch.hidden = q === "" || hits > 0;
        nomatch.textContent = nomatch.hidden ? "" : "No pages match “" + search.value.trim() + "”";
      }
      // The Tab stop stays on a row that shows.
      var current = list.querySelector("li[tabindex='0']");
      if (!current || current.hidden) focusable(visible()[0]);
    }

    var visible = function () { return rows.filter(function (li) { return !li.hidden; }); };
    function focusable(li) {
      rows.forEach(function (r) { if (r.tabIndex === 0 && r !== li) r.tabIndex = -1; });
      if (li) li.tabIndex = 0;
    }
    function moveTo(li) {
      if (!li) return;
      focusable(li);
      li.focus();
    }

    // Opens with the top-level pages collapsed, except those holding a
    // ticked page.
    rows.forEach(function (li) { if (depth(li) === 0) setOpen(li, false); });
    rows.forEach(function (li) {
      if (li.getAttribute("data-own") !== "1") return;
      for (var p = byId[li.getAttribute("data-parent")]; p; p = byId[p.getAttribute("data-parent")]) setOpen(p, true);
    });

    rows.forEach(function (li) {
      var chevron = li.querySelector(".chevron");
      if (kids(li)) {
        chevron.removeAttribute("data-idle");
        chevron.addEventListener("click", function () {
          setOpen(li, li.classList.contains("collapsed"));
          show();
        });
      }
      box(li).addEventListener("change", function () {
        if (!box(li).disabled) li.setAttribute("data-own", box(li).checked ? "1" : "");
        recount();
      });
    });

    // Select all / Select none: the top-level pages, or a parent's sub-pages.
    function selectLevel(parent, on) {
      (children[parent] || []).forEach(function (li) { li.setAttribute("data-own", on ? "1" : ""); });
      recount();
    }
    picker.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("[data-select]");
      if (!b) return;
      selectLevel(b.getAttribute("data-parent") || "", b.getAttribute("data-select") === "all");
    });

    list.addEventListener("focusin", function (e) {
      var li = e.target.closest("li");
      if (li) focusable(li);
    });
    list.addEventListener("keydown", function (e) {
      var li = e.target.closest("li");
      if (!li || e.target !== li) return;
      var shown = visible(), i = shown.indexOf(li);
      var flat = list.classList.contains("searching");
      var parent = byId[li.getAttribute("data-parent")];
      switch (e.key) {
        case "ArrowDown": moveTo(shown[i + 1]); break;
        case "ArrowUp": moveTo(i > 0 ? shown[i - 1] : null); break;
        case "Home": moveTo(shown[0]); break;
        case "End": moveTo(shown[shown.length - 1]); break;
        case "ArrowRight":
          if (flat || !kids(li)) break;
          if (li.classList.contains("collapsed")) { setOpen(li, true); show(); } else moveTo(shown[i + 1]);
          break;
        case "ArrowLeft":
          if (flat) break;
          if (kids(li) && !li.classList.contains("collapsed")) { setOpen(li, false); show(); } else moveTo(parent);
          break;
        case " ":
        case "Enter":
          if (!box(li).disabled) box(li).click();
          break;
        case "a":
          // Ctrl+A (Cmd+A): every page at this level, as Select all does.
          if (!(e.ctrlKey || e.metaKey)) return;
          selectLevel(parent ? parent.getAttribute("data-id") : "", true);
          break;
        default: return;
      }
      e.preventDefault();
    });

    if (search) {
      search.addEventListener("input", show);
      search.addEventListener("keydown", function (e) {
        // Enter in the search box must not submit the form; Down enters the tree.
        if (e.key === "Enter") e.preventDefault();
        if (e.key === "ArrowDown") { e.preventDefault(); moveTo(visible()[0]); }
      });
    }
    // Opening the picker puts the cursor in its search box.
    if (details && search) {
      details.querySelector("summary").addEventListener("click", function () {
        setTimeout(function () {
          if (!details.open) return;
          // The whole picker in view (its tree is sized to fit), footer
          // included; the cursor in the search.
          picker.scrollIntoView({ block: "end" });
          search.focus({ preventScroll: true });
        }, 0);
      });
    }
    show();
    recount();
  });

  // The sidebar's page tree (WAI-ARIA APG tree of links): one Tab stop (the
  // current page), Up/Down/Home/End move, Right expands or goes to the first
  // sub-page, Left collapses or goes to the parent, Enter opens. Chevrons
  // collapse a subtree; what is collapsed is remembered per workspace in
  // localStorage. Without this script every page shows.
  document.querySelectorAll("ul.page-tree").forEach(function (tree) {
    var items = Array.prototype.slice.call(tree.children);
    if (!items.length) return;
    var depth = function (li) { return +li.getAttribute("data-depth"); };
    var link = function (li) { return li.querySelector("a"); };
    var key = "pagegrant.tree.collapsed." + (tree.getAttribute("data-workspace") || "");
    var closed = {};
    try { (JSON.parse(localStorage.getItem(key) || "[]") || []).forEach(function (id) { closed[id] = true; }); } catch (err) { closed = {}; }
    var parentOf = function (i) {
      for (var k = i - 1; k >= 0; k--) if (depth(items[k]) < depth(items[i])) return items[k];
      return null;
    };
    var kids = items.map(function (li, i) { return !!items[i + 1] && depth(items[i + 1]) > depth(li); });
    // The current page always shows: its ancestors open.
    var current = tree.querySelector("li.current");
    if (current) {
      for (var p = parentOf(items.indexOf(current)); p; p = parentOf(items.indexOf(p))) delete closed[p.getAttribute("data-id")];
    }
    function save() {
      try { localStorage.setItem(key, JSON.stringify(Object.keys(closed))); } catch (err) { /* private mode: not remembered */ }
    }
    function show() {
      var collapsedAt = null;
      items.forEach(function (li, i) {
        var d = depth(li);
        if (collapsedAt !== null && d <= collapsedAt) collapsedAt = null;
        li.hidden = collapsedAt !== null;
        if (!kids[i]) return;
        var open = !closed[li.getAttribute("data-id")];
        link(li).setAttribute("aria-expanded", open ? "true" : "false");
        // Drawn by CSS (::before), so the link's text stays the title.
        li.querySelector(".tree-chev").setAttribute("data-chev", open ? "▾" : "▸");
        if (collapsedAt === null && !open) collapsedAt = d;
      });
    }
    function toggle(li, open) {
      if (open) delete closed[li.getAttribute("data-id")]; else closed[li.getAttribute("data-id")] = true;
      save();
      show();
    }
    var visible = function () { return items.filter(function (li) { return !li.hidden; }); };
    function moveTo(li) {
      if (!li) return;
      items.forEach(function (x) { link(x).tabIndex = -1; });
      link(li).tabIndex = 0;
      link(li).focus();
    }
    items.forEach(function (li, i) {
      link(li).tabIndex = -1;
      if (!kids[i]) return;
      var chev = li.querySelector(".tree-chev");
      chev.classList.add("has-kids");
      chev.setAttribute("title", "Show or hide sub-pages");
      chev.addEventListener("click", function (e) {
        e.preventDefault();
        e.stopPropagation();
        toggle(li, !!closed[li.getAttribute("data-id")]);
      });
    });
    link(current || items[0]).tabIndex = 0;
    show();
    tree.addEventListener("focusin", function (e) {
      var li = e.target.closest("li");
      if (!li) return;
      items.forEach(function (x) { link(x).tabIndex = x === li ? 0 : -1; });
    });
    tree.addEventListener("keydown", function (e) {
      var li = e.target.closest("li");
      if (!li) return;
      var i = items.indexOf(li), shown = visible(), at = shown.indexOf(li);
      var open = kids[i] && !closed[li.getAttribute("data-id")];
      switch (e.key) {
        case "ArrowDown": moveTo(shown[at + 1]); break;
        case "ArrowUp": moveTo(at > 0 ? shown[at - 1] : null); break;
        case "Home": moveTo(shown[0]); break;
        case "End": moveTo(shown[shown.length - 1]); break;
        case "ArrowRight":
          if (!kids[i]) break;
          if (!open) toggle(li, true); else moveTo(items[i + 1]);
          break;
        case "ArrowLeft":
          if (open) toggle(li, false); else moveTo(parentOf(i));
          break;
        default: return;
      }
      e.preventDefault();
    });
  });
})();

// Copy buttons: copy the named field's value to the clipboard.
document.querySelectorAll("[data-copy]").forEach(function (btn) {
  btn.addEventListener("click", function () {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { btn.textContent = "Copied"; };
    var failed = function () { btn.textContent = "Copy failed: select the text and copy it"; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      (document.execCommand("copy") ? done : failed)();
    }
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

// Copy internal integration token: one press fetches the token (an audited
// POST carrying the CSRF token) and copies it. Without this script the link
// opens the page that shows the token.
document.querySelectorAll("[data-copy-token]").forEach(function (link) {
  link.addEventListener("click", function (e) {
    if (!navigator.clipboard || !window.fetch) return;
    e.preventDefault();
    var status = document.querySelector(".copy-status");
    var say = function (text, ok) {
      if (!status) return;
      status.hidden = false;
      status.textContent = text;
      status.classList.toggle("alert", !ok);
      status.classList.toggle("flash", ok);
    };
    var body = new URLSearchParams();
    body.set("csrf", link.getAttribute("data-csrf"));
    fetch(link.getAttribute("data-copy-token"), {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: body,
      credentials: "same-origin"
    }).then(function (r) {
      // An old sign-in: Confirm it's you first, then back to this page.
      if (r.status === 401) {
        return r.json().then(function (j) {
          var back = window.location.pathname + window.location.search;
          window.location.assign(j.reauth.split("?")[0] + "?next=" + encodeURIComponent(back));
          return null;
        });
      }
      if (!r.ok) throw new Error("the server answered " + r.status);
      return r.json();
    }).then(function (j) {
      if (!j) return null;
      return navigator.clipboard.writeText(j.token).then(function () {
        say("Copied the token of " + j.name + ". The copy is in the audit log.", true);
      }, function () {
        throw new Error("the browser did not allow the clipboard");
      });
    }).catch(function (err) {
      say("Could not copy the token: " + err.message + ". Open Copy internal integration token without JavaScript to see it.", false);
    });
    var details = link.closest("details");
    if (details) details.removeAttribute("open");
  });
});

// Auto-approve means something only with "Only from approved list".
document.querySelectorAll(".policy-form").forEach(function (form) {
  var auto = form.querySelector("input[name=auto_approve]");
  if (!auto) return;
  var sync = function () {
    var restricted = form.querySelector("input[name=policy][value=approved_only]");
    auto.disabled = !(restricted && restricted.checked);
  };
  form.querySelectorAll("input[name=policy]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
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
    // Grouped lists (Settings → Connections) filter whole groups.
    var items = table.querySelectorAll("tbody[data-search]");
    if (!items.length) items = table.querySelectorAll("tbody tr");
    items.forEach(function (tr) {
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

// Members: each row's role select saves as soon as it changes (the form
// posts as its Save button would); with this file the button is hidden,
// without it the button is the way to save.
document.querySelectorAll(".role-form").forEach(function (form) {
  var select = form.querySelector("select[name=role]");
  var save = form.querySelector(".role-save");
  if (!select || !save) return;
  save.hidden = true;
  select.addEventListener("change", function () {
    select.setAttribute("aria-busy", "true");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
});
// Settings → Connections: an integration with several connections shows
// them when expanded. Without this file every group shows its connections.
document.querySelectorAll(".group-toggle").forEach(function (btn) {
  var group = document.getElementById(btn.getAttribute("aria-controls"));
  if (!group) return;
  var name = group.querySelector(".group-name").textContent;
  var set = function (open) {
    group.classList.toggle("collapsed", !open);
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    btn.textContent = open ? "Hide connections" : "Show connections";
    btn.setAttribute("aria-label", (open ? "Hide" : "Show") + " the connections of " + name);
  };
  btn.hidden = false;
  set(false);
  btn.addEventListener("click", function () { set(btn.getAttribute("aria-expanded") !== "true"); });
});

// Audit log: each <time class="local-time"> shows the viewer's local time;
// its title keeps the UTC time the server wrote. Without this file the
// text stays in UTC.
function showLocalTimes() {
  document.querySelectorAll("time.local-time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) return;
    t.textContent = d.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  });
}
showLocalTimes();

// After a save that returns to a block of the page (#install-policy), that
// block's heading takes the focus, so keyboard and screen-reader users
// continue where they were.
function focusReturnedBlock() {
  var id = window.location.hash.slice(1);
  if (!id) return;
  var target = document.getElementById(id);
  if (target && target.getAttribute("tabindex") === "-1") target.focus();
}
focusReturnedBlock();
