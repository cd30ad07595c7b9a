/* Small progressive enhancements; every page works without them. No inline scripts. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  /* The language switcher submits on change. */
  function bindAutoSubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  /* Choosing a category pre-selects its default urgency. */
  function bindCategoryUrgency(root) {
    var data = document.getElementById("category-urgency");
    var select = root.querySelector("select[name=category]");
    if (!data || !select) return;
    var map = JSON.parse(data.textContent);
    select.addEventListener("change", function () {
      var urgency = map[select.value];
      if (!urgency) return;
      var radio = select.form.querySelector("input[name=urgency][value=" + urgency + "]");
      if (radio) radio.checked = true;
    });
  }

  /* Type to narrow a long select (the courtyard). */
  function bindSelectFilter(root) {
    root.querySelectorAll("input[data-filter-select]").forEach(function (input) {
      var select = document.getElementById(input.getAttribute("data-filter-select"));
      if (!select) return;
      var options = Array.prototype.slice.call(select.options);
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        var first = null;
        options.forEach(function (o) {
          var show = !o.value || !q || o.text.toLowerCase().indexOf(q) !== -1;
          o.hidden = !show;
          if (show && o.value && !first) first = o;
        });
        if (q && first && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
          select.value = first.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    });
  }

  /* A draft of every typed field is kept on the phone until the form is accepted, so a
     dropped connection or a closed tab loses nothing. A draft is its user's: its key names the
     user (data-draft-owner on <body>), and logging out removes every draft on the phone, since
     a shared phone's next user must not find a resident's name and number filled in. */
  var DRAFT = "draft:";

  function draftKey(name) {
    var owner = document.body.getAttribute("data-draft-owner");
    return owner ? DRAFT + owner + ":" + name : null;
  }

  function clearAllDrafts() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT) === 0) localStorage.removeItem(key);
      }
    } catch (e) { /* private mode: no drafts */ }
  }

  function bindDrafts(root) {
    root.querySelectorAll("form[data-logout]").forEach(function (form) {
      form.addEventListener("submit", clearAllDrafts);
    });
    root.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = draftKey(form.getAttribute("data-draft"));
      if (!key) return;
      var fields = form.querySelectorAll("input[type=text], input[type=tel], input:not([type]), textarea, select");
      // A form that came back refused shows what was posted; the photo picker's own (hidden)
      // message is no refusal.
      var hasErrors = form.querySelector(".errorlist:not([data-photo-error])");
      try {
        var saved = JSON.parse(localStorage.getItem(key) || "null");
        if (saved && !hasErrors) {
          fields.forEach(function (f) {
            if (f.name && saved[f.name] !== undefined && !f.value) f.value = saved[f.name];
          });
          if (saved.urgency) {
            var r = form.querySelector("input[name=urgency][value=" + saved.urgency + "]");
            if (r) r.checked = true;
          }
        }
      } catch (e) { /* private mode: no drafts */ }
      function save() {
        var data = {};
        fields.forEach(function (f) { if (f.name && f.type !== "hidden") data[f.name] = f.value; });
        var u = form.querySelector("input[name=urgency]:checked");
        if (u) data.urgency = u.value;
        try { localStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* full */ }
      }
      form.addEventListener("input", save);
      form.addEventListener("change", save);
    });
    root.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      var key = draftKey(el.getAttribute("data-clear-draft"));
      try { if (key) localStorage.removeItem(key); } catch (e) {}
    });
  }

  /* One tap sends a form once: the button is disabled while it is in flight. */
  function bindSubmitOnce(root) {
    root.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  }

  /* "Select all" for the bulk actions. */
  function bindSelectAll(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll("input[name=" + box.getAttribute("data-select-all") + "]")
          .forEach(function (b) { b.checked = box.checked; });
      });
    });
  }

  /* The photo picker shows how many photos are chosen, and takes out, before any upload, what
     the server would refuse (a photo too large, more than the maximum), saying why next to the
     field. The limits are the server's, drawn into the input's data attributes. */
  function bindPhotoPicker(root) {
    root.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      var field = input.closest(".field");
      var count = field && field.querySelector("[data-photo-count]");
      var error = field && field.querySelector("[data-photo-error]");
      if (!count || !error) return;
      var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
      var maxCount = parseInt(input.getAttribute("data-max-count"), 10) || 0;
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        var kept = [], reasons = [];
        files.forEach(function (f) {
          if (maxBytes && f.size > maxBytes) {
            reasons.push(error.getAttribute("data-too-large").replace("{name}", f.name));
          } else {
            kept.push(f);
          }
        });
        if (maxCount && kept.length > maxCount) {
          reasons.push(error.getAttribute("data-too-many")
            .replace("{dropped}", String(kept.length - maxCount)));
          kept = kept.slice(0, maxCount);
        }
        if (kept.length !== files.length) {
          try {
            var keep = new DataTransfer();
            kept.forEach(function (f) { keep.items.add(f); });
            input.files = keep.files;
          } catch (e) { input.value = ""; /* no DataTransfer: choose again */ }
        }
        error.textContent = reasons.join(" ");
        error.hidden = !reasons.length;
        var n = input.files ? input.files.length : 0;
        count.textContent = n ? count.getAttribute("data-template").replace("{n}", String(n)) : "";
      });
    });
  }

  function bindAll(root) {
    bindAutoSubmit(root); bindCategoryUrgency(root); bindSelectFilter(root);
    bindDrafts(root); bindSubmitOnce(root); bindSelectAll(root); bindPhotoPicker(root);
  }

  /* Shared links stay short: empty filters are left out of the URL. */
  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.verb !== "get") return;
    var p = e.detail.parameters;
    Object.keys(p).forEach(function (k) { if (p[k] === "") delete p[k]; });
  });

  onReady(function () { bindAll(document); });
  document.addEventListener("htmx:afterSwap", function (e) { bindAll(e.target); });
})();
