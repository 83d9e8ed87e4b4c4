// The timeline's behaviour: lanes, filters, search in both scripts, the language, permalinks, change links on
// the bars, the two-day view and the chart's areas. Without JavaScript the page shows the same list (inside
// <noscript>) in both languages; with it, the list is built from that markup, a chunk at a time, so that a
// page of 10k measures opens and filters fast (the browser never builds the DOM of the whole list).
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  root.classList.add("js");
  var CHUNK = 400;
  var data = JSON.parse(doc.getElementById("tl-data").textContent);
  var lanes = JSON.parse(doc.getElementById("tl-lanes-data").textContent);
  var chars = data.chars;
  var ancestors = data.ancestors;
  var laneBox = doc.getElementById("tl-lanes");
  var moreButton = doc.getElementById("tl-more");
  var form = doc.getElementById("tl-filters");
  var search = doc.getElementById("tl-search");
  var category = doc.getElementById("tl-category");
  var place = doc.getElementById("tl-place");

  function words(text) {
    return text ? text.split(" ") : [];
  }

  var measures = data.measures.map(function (row, n) {
    return {
      n: n, id: row[0], zh: row[1], en: row[2], cats: words(row[3]), own: words(row[4]), places: words(row[5]),
      strength: row[6], lane: { category: row[7], place: row[8] }, text: row[9], li: null
    };
  });
  var byId = {};
  measures.forEach(function (m) { byId[m.id] = m; });
  var mode = "category";
  var current = measures;
  var limit = CHUNK;
  var selected = null;

  // ---------------------------------------------------------------- the list, from the <noscript> markup

  var source = null;
  var offsets = null;

  function itemHtml(m) {
    if (offsets === null) {
      source = doc.getElementById("tl-list-source").textContent;
      offsets = [];
      var marker = "<li class=\"m\" id=\"";
      var at = source.indexOf(marker);
      while (at >= 0) {
        offsets.push(at);
        at = source.indexOf(marker, at + marker.length);
      }
      offsets.push(source.lastIndexOf("<" + "/ol>"));
    }
    return source.slice(offsets[m.n], offsets[m.n + 1]);
  }

  function ensureNodes(list) {
    var missing = list.filter(function (m) { return !m.li; });
    if (!missing.length) { return; }
    var box = doc.createElement("template");
    box.innerHTML = missing.map(itemHtml).join("");
    var made = box.content.querySelectorAll("li.m");
    missing.forEach(function (m, i) {
      m.li = made[i];
      var details = m.li.querySelector("details");
      details.addEventListener("toggle", function () {
        if (details.open && location.hash !== "#" + m.id && history.replaceState) {
          history.replaceState(null, "", "#" + m.id);
          choose(m);
        }
      });
    });
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

  function grouped(found) {
    if (mode === "list") {
      return [{ lane: null, items: found }];
    }
    var order = lanes[mode].concat([{ key: "none", zh: "未注明", en: "not given" }]);
    var buckets = {};
    order.forEach(function (lane) { buckets[lane.key] = []; });
    found.forEach(function (m) { (buckets[m.lane[mode]] || buckets.none).push(m); });
    return order.filter(function (lane) { return buckets[lane.key].length; }).map(function (lane) {
      return { lane: lane, items: buckets[lane.key] };
    });
  }

  function render() {
    var groups = grouped(current);
    if (selected) {
      var position = 0;
      groups.some(function (g) {
        var at = g.items.indexOf(selected);
        position += at < 0 ? g.items.length : at;
        return at >= 0;
      });
      if (position < current.length && position >= limit) { limit = (Math.floor(position / CHUNK) + 1) * CHUNK; }
    }
    var left = limit;
    var wanted = [];
    groups.forEach(function (g) {
      g.take = g.items.slice(0, Math.max(0, left));
      left -= g.take.length;
      wanted = wanted.concat(g.take);
    });
    ensureNodes(wanted);
    var frag = doc.createDocumentFragment();
    groups.forEach(function (g) {
      if (!g.take.length) { return; }
      var ol = doc.createElement("ol");
      ol.className = "measures";
      g.take.forEach(function (m) { ol.appendChild(m.li); });
      if (!g.lane) {
        frag.appendChild(ol);
        return;
      }
      var section = doc.createElement("section");
      section.className = "lane";
      var heading = text("h3", g.lane.zh, g.lane.en);
      heading.id = "lane-" + mode + "-" + g.lane.key;
      section.setAttribute("aria-labelledby", heading.id);
      section.appendChild(heading);
      section.appendChild(ol);
      frag.appendChild(section);
    });
    laneBox.textContent = "";
    laneBox.appendChild(frag);
    var rest = current.length - wanted.length;
    moreButton.hidden = rest <= 0;
    moreButton.textContent = "";
    if (rest > 0) {
      var next = Math.min(rest, CHUNK);
      moreButton.appendChild(text("span", "再显示 " + next + " 项（已显示 " + wanted.length + " / " + current.length + "）",
        "Show " + next + " more (" + wanted.length + " of " + current.length + " shown)"));
    }
    doc.querySelectorAll(".tl-shown").forEach(function (el) { el.textContent = String(current.length); });
  }

  // ---------------------------------------------------------------- filters

  function fold(value) {
    var out = "";
    var lower = value.toLowerCase();
    for (var i = 0; i < lower.length; i++) {
      var c = lower.charAt(i);
      out += Object.prototype.hasOwnProperty.call(chars, c) ? chars[c] : c;
    }
    return out.replace(/\s+/g, " ").trim();
  }

  function has(array, value) {
    return array.indexOf(value) >= 0;
  }

  function placeMatches(m, slug) {
    if (has(m.places, slug)) { return true; }
    var around = ancestors[slug] || [];
    return m.own.some(function (own) { return has(around, own); });
  }

  function applyFilters() {
    var query = fold(search.value).split(" ").filter(Boolean);
    var cat = category.value;
    var where = place.value;
    var allowed = {};
    form.querySelectorAll("input[name=strength]").forEach(function (box) { allowed[box.value] = box.checked; });
    current = measures.filter(function (m) {
      return (!cat || has(m.cats, cat)) && (!where || placeMatches(m, where)) &&
        (m.strength === "" || allowed[m.strength] !== false) &&
        query.every(function (word) { return m.text.indexOf(word) >= 0; });
    });
    limit = CHUNK;
    render();
  }

  // ---------------------------------------------------------------- selecting a measure

  function choose(m) {
    if (selected && selected.li) { selected.li.classList.remove("selected"); }
    selected = m;
    if (m.li) { m.li.classList.add("selected"); }
  }

  function select(id, scroll) {
    var m = Object.prototype.hasOwnProperty.call(byId, id) ? byId[id] : null;
    if (!m) { return false; }
    selected = m;
    if (current.indexOf(m) < 0) {
      form.reset();
      applyFilters();
    } else {
      render();
    }
    choose(m);
    var details = m.li.querySelector("details");
    details.open = true;
    if (scroll) {
      m.li.scrollIntoView({ block: "start" });
      details.querySelector("summary").focus({ preventScroll: true });
    }
    return true;
  }

  function visibleSummaries() {
    return Array.prototype.slice.call(laneBox.querySelectorAll("li.m > details > summary"));
  }

  // ---------------------------------------------------------------- the language

  function setLanguage(lang) {
    root.lang = lang;
    root.className = root.className.replace(/\bui-(en|zh|both)\b/g, "").trim() + " ui-" + lang;
    doc.querySelectorAll("option[data-en]").forEach(function (option) {
      option.textContent = option.getAttribute("data-" + lang);
    });
    var parts = doc.title.split(" · ");
    if ((lang === "zh") !== /[\u4e00-\u9fff]/.test(parts[0])) { doc.title = parts.reverse().join(" · "); }
  }

  // ---------------------------------------------------------------- what changed between two days

  var CHANGES = {
    "started": ["开始", "started"],
    "ended": ["终止", "ended"],
    "amended": ["修订", "amended"],
    "possibly ended (blanket repeal, unresolved)": ["可能已终止（概括性废止，尚未认定）", "possibly ended (blanket repeal, unresolved)"]
  };
  var fromInput = doc.getElementById("tl-from");
  var toInput = doc.getElementById("tl-to");
  var betweenPlace = doc.getElementById("tl-between-place");
  var betweenResult = doc.getElementById("tl-between-result");

  function changesBetween(first, last, where) {
    var scope = where ? [where].concat(ancestors[where] || []) : null;
    return data.changes.filter(function (row) {
      return row[0] >= first && row[0] <= last &&
        (!scope || measures[row[2]].own.some(function (p) { return has(scope, p); }));
    });
  }

  function measureLink(m) {
    var a = text("a", m.zh, m.en);
    a.href = "#" + m.id;
    return a;
  }

  function showBetween(first, last, where) {
    if (last < first) { var swap = first; first = last; last = swap; }
    fromInput.value = first;
    toInput.value = last;
    betweenPlace.value = where;
    var rows = changesBetween(first, last, where);
    betweenResult.textContent = "";
    var placeText = where ? betweenPlace.options[betweenPlace.selectedIndex] : null;
    var summary = text("p",
      first + " 至 " + last + (placeText ? "（" + placeText.getAttribute("data-zh") + "）" : "") + "：" + rows.length + " 项变化",
      rows.length + " changes from " + first + " to " + last + (placeText ? " in " + placeText.getAttribute("data-en") : ""));
    summary.className = "summary";
    betweenResult.appendChild(summary);
    var list = null;
    var day = "";
    rows.forEach(function (row) {
      if (row[0] !== day) {
        day = row[0];
        var heading = doc.createElement("h3");
        heading.textContent = day;
        betweenResult.appendChild(heading);
        list = doc.createElement("ul");
        betweenResult.appendChild(list);
      }
      var li = doc.createElement("li");
      li.className = "change-row";
      li.setAttribute("data-measure", measures[row[2]].id);
      li.setAttribute("data-change", row[1]);
      var words = CHANGES[row[1]] || [row[1], row[1]];
      var kind = text("span", words[0], words[1]);
      kind.className = "change";
      li.appendChild(kind);
      li.appendChild(doc.createTextNode(": "));
      li.appendChild(measureLink(measures[row[2]]));
      if (row[3] >= 0) {
        li.appendChild(text("span", " — 由 ", " — by "));
        li.appendChild(measureLink(measures[row[3]]));
      }
      var basis = doc.createElement("span");
      basis.className = "basis";
      basis.lang = "en";
      basis.textContent = " (" + row[4] + ")";
      li.appendChild(basis);
      list.appendChild(li);
    });
    if (!rows.length) {
      betweenResult.appendChild(text("p", "来源未记载这几天的任何变化。", "The sources record no change on these days."));
    }
  }

  function betweenFromHash() {
    var match = /^#between=(\d{4}-\d{2}-\d{2}),(\d{4}-\d{2}-\d{2})(?:,([A-Za-z0-9_.-]+))?$/.exec(location.hash);
    if (!match) { return false; }
    showBetween(match[1], match[2], match[3] || "");
    doc.getElementById("tl-between").scrollIntoView({ block: "start" });
    return true;
  }

  doc.getElementById("tl-between-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!fromInput.value || !toInput.value) { return; }
    showBetween(fromInput.value, toInput.value, betweenPlace.value);
    var hash = "#between=" + fromInput.value + "," + toInput.value + (betweenPlace.value ? "," + betweenPlace.value : "");
    if (history.replaceState) { history.replaceState(null, "", hash); }
  });

  // ---------------------------------------------------------------- wiring

  form.hidden = false;
  doc.getElementById("tl-toolbar").hidden = false;
  var langButton = doc.getElementById("tl-lang");
  langButton.hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("input", applyFilters);
  form.addEventListener("change", applyFilters);
  form.addEventListener("reset", function () { setTimeout(applyFilters, 0); });
  doc.querySelectorAll("input[name=lanes]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked) {
        mode = radio.value;
        render();
      }
    });
  });
  moreButton.addEventListener("click", function () {
    limit += CHUNK;
    render();
  });
  langButton.addEventListener("click", function () {
    setLanguage(root.classList.contains("ui-en") ? "zh" : "en");
  });
  // A change link drawn on a bar (inside the summary): go to the later measure instead of opening this one.
  laneBox.addEventListener("click", function (event) {
    var marker = event.target.closest ? event.target.closest(".chg") : null;
    if (!marker) { return; }
    event.preventDefault();
    location.hash = "#" + marker.getAttribute("data-target");
  });
  doc.querySelectorAll("input[data-series]").forEach(function (box) {
    box.addEventListener("change", function () {
      doc.querySelectorAll(".series[data-series=\"" + box.getAttribute("data-series") + "\"]").forEach(function (g) {
        g.classList.toggle("off", !box.checked);
      });
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
  function fromHash() {
    if (!betweenFromHash() && location.hash) { select(decodeURIComponent(location.hash.slice(1)), true); }
  }
  window.addEventListener("hashchange", fromHash);
  var opened = [];
  window.addEventListener("beforeprint", function () {
    limit = current.length;
    render();
    opened = [];
    current.forEach(function (m) {
      var details = m.li.querySelector("details");
      if (!details.open) { details.open = true; opened.push(details); }
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    limit = CHUNK;
    render();
  });
  setLanguage(/^zh\b/i.test(navigator.language || "") ? "zh" : "en");
  render();
  fromHash();
  // For the benchmark: when the first screen and the first chunk of the list are built and painted.
  requestAnimationFrame(function () {
    root.setAttribute("data-first-render-ms", String(Math.round(performance.now())));
  });
  // The browser's own jump to the fragment at load moves focus back to the body: focus again after it.
  window.addEventListener("load", function () {
    setTimeout(function () {
      fromHash();
      root.setAttribute("data-ready-ms", String(Math.round(performance.now())));
      root.setAttribute("data-ready", "true");
    }, 0);
  });
})();
