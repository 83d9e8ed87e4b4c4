// The timeline's behaviour: lanes, filters, search in both scripts, language switch, permalinks.
// Without JavaScript the page is a chronological list with every detail; this only adds interaction.
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var data = JSON.parse(doc.getElementById("tl-data").textContent);
  var lanes = JSON.parse(doc.getElementById("tl-lanes-data").textContent);
  var chars = data.chars;
  var ancestors = data.ancestors;
  var list = doc.getElementById("tl-measures");
  var laneBox = doc.getElementById("tl-lanes");
  var form = doc.getElementById("tl-filters");
  var search = doc.getElementById("tl-search");
  var category = doc.getElementById("tl-category");
  var place = doc.getElementById("tl-place");
  var items = Array.prototype.slice.call(list.children).map(function (li) {
    return {
      li: li,
      cats: li.getAttribute("data-cats").split(" "),
      own: li.getAttribute("data-own").split(" "),
      places: li.getAttribute("data-places").split(" "),
      strength: li.getAttribute("data-strength"),
      text: li.getAttribute("data-search"),
      lane: { category: li.getAttribute("data-lane-category"), place: li.getAttribute("data-lane-place") }
    };
  });
  var mode = "category";

  function fold(text) {
    var out = "";
    var lower = text.toLowerCase();
    for (var i = 0; i < lower.length; i++) {
      var c = lower.charAt(i);
      out += Object.prototype.hasOwnProperty.call(chars, c) ? chars[c] : c;
    }
    return out.replace(/\s+/g, " ").trim();
  }

  function has(array, value) {
    return array.indexOf(value) >= 0;
  }

  function placeMatches(item, slug) {
    if (has(item.places, slug)) {
      return true;
    }
    var around = ancestors[slug] || [];
    return item.own.some(function (own) { return has(around, own); });
  }

  function strengths() {
    var on = [];
    form.querySelectorAll("input[name=strength]").forEach(function (box) {
      if (box.checked) { on.push(box.value); }
    });
    return on;
  }

  function applyFilters() {
    var words = fold(search.value).split(" ").filter(Boolean);
    var cat = category.value;
    var where = place.value;
    var allowed = strengths();
    var shown = 0;
    items.forEach(function (item) {
      var ok = (!cat || has(item.cats, cat)) && (!where || placeMatches(item, where)) &&
        (item.strength === "" || has(allowed, item.strength)) &&
        words.every(function (word) { return item.text.indexOf(word) >= 0; });
      item.li.hidden = !ok;
      if (ok) { shown++; }
    });
    laneBox.querySelectorAll(".lane").forEach(function (lane) {
      lane.hidden = !lane.querySelector("li.m:not([hidden])");
    });
    doc.querySelectorAll(".tl-shown").forEach(function (el) { el.textContent = String(shown); });
  }

  function text(tag, zh, en) {
    var el = doc.createElement(tag);
    [["en", en || zh], ["zh", zh || en]].forEach(function (pair) {
      var span = doc.createElement("span");
      span.className = "l-" + pair[0];
      span.lang = pair[0];
      span.textContent = pair[1];
      el.appendChild(span);
    });
    return el;
  }

  function layout(next) {
    mode = next;
    laneBox.textContent = "";
    if (mode === "list") {
      items.forEach(function (item) { list.appendChild(item.li); });
      list.hidden = false;
      applyFilters();
      return;
    }
    var byKey = {};
    var order = lanes[mode].concat([{ key: "none", zh: "未注明", en: "not given" }]);
    order.forEach(function (lane) {
      var section = doc.createElement("section");
      section.className = "lane";
      var heading = text("h3", lane.zh, lane.en);
      heading.id = "lane-" + mode + "-" + lane.key;
      section.setAttribute("aria-labelledby", heading.id);
      var ol = doc.createElement("ol");
      ol.className = "measures";
      section.appendChild(heading);
      section.appendChild(ol);
      byKey[lane.key] = ol;
      laneBox.appendChild(section);
    });
    items.forEach(function (item) {
      (byKey[item.lane[mode]] || byKey.none).appendChild(item.li);
    });
    laneBox.querySelectorAll(".lane").forEach(function (lane) {
      if (!lane.querySelector("li.m")) { lane.remove(); }
    });
    list.hidden = true;
    applyFilters();
  }

  function setLanguage(lang) {
    root.lang = lang;
    root.className = root.className.replace(/\bui-(en|zh)\b/, "") + " ui-" + lang;
    doc.querySelectorAll("option[data-en]").forEach(function (option) {
      option.textContent = option.getAttribute("data-" + lang);
    });
    doc.title = lang === "zh" ? doc.title.split(" · ").reverse().join(" · ") : doc.title;
  }

  function select(id, scroll) {
    var target = id ? doc.getElementById(id) : null;
    if (!target || !target.classList.contains("m")) {
      return;
    }
    if (target.hidden) {
      form.reset();
      applyFilters();
    }
    doc.querySelectorAll("li.m.selected").forEach(function (li) { li.classList.remove("selected"); });
    target.classList.add("selected");
    var details = target.querySelector("details");
    details.open = true;
    if (scroll) {
      target.scrollIntoView({ block: "start" });
      details.querySelector("summary").focus({ preventScroll: true });
    }
  }

  function visibleSummaries() {
    return Array.prototype.slice.call(doc.querySelectorAll("li.m:not([hidden]) > details > summary")).filter(function (s) {
      return s.offsetParent !== null;
    });
  }

  form.hidden = false;
  doc.getElementById("tl-toolbar").hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("input", applyFilters);
  form.addEventListener("change", applyFilters);
  form.addEventListener("reset", function () { setTimeout(applyFilters, 0); });
  doc.querySelectorAll("input[name=lanes]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) { layout(radio.value); } });
  });
  doc.getElementById("tl-lang").addEventListener("click", function () {
    setLanguage(root.classList.contains("ui-en") ? "zh" : "en");
  });
  items.forEach(function (item) {
    var details = item.li.querySelector("details");
    details.addEventListener("toggle", function () {
      if (details.open && location.hash !== "#" + item.li.id && history.replaceState) {
        history.replaceState(null, "", "#" + item.li.id);
        select(item.li.id, false);
      }
    });
  });
  doc.addEventListener("keydown", function (event) {
    var active = doc.activeElement;
    if (!active || active.tagName !== "SUMMARY" || !active.closest("li.m")) { return; }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var all = visibleSummaries();
    var at = all.indexOf(active) + (event.key === "ArrowDown" ? 1 : -1);
    if (at >= 0 && at < all.length) {
      event.preventDefault();
      all[at].focus();
    }
  });
  window.addEventListener("hashchange", function () { select(decodeURIComponent(location.hash.slice(1)), true); });
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    items.forEach(function (item) {
      var details = item.li.querySelector("details");
      if (!item.li.hidden && !details.open) { details.open = true; opened.push(details); }
    });
  });
  window.addEventListener("afterprint", function () { opened.forEach(function (d) { d.open = false; }); });
  layout(mode);
  function selectFromHash() {
    if (location.hash) { select(decodeURIComponent(location.hash.slice(1)), true); }
  }
  selectFromHash();
  // The browser's own jump to the fragment at load moves focus back to the body: focus again after it.
  window.addEventListener("load", function () {
    setTimeout(function () {
      selectFromHash();
      root.setAttribute("data-ready", "true");
    }, 0);
  });
})();
