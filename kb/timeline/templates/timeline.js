// The timeline's behaviour: lanes, filters, search in both scripts, the language, permalinks, change links on
// the bars, the two-day view and the chart's areas. Without JavaScript the page shows the same list (inside
// <noscript>) in both languages; with it, the list is built from that markup, so that the browser never parses
// the no-script list as a DOM. A small page (data.chunk 0) builds every measure at once, so find-in-page reaches
// every quote. A large one (more measures than kb.timeline.context.FULL_LIST_MAX) runs before its <noscript>
// list, which holds each measure's summary row only: the script draws the rows from data.rows (as the
// measure_summary macro does), data.chunk rows at a time, more as the reader scrolls, and the details come
// gzip-compressed in blocks of data.chunk measures (#tl-details, after the script) inflated on opening.
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  root.classList.add("js");
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
  var CHUNK = data.chunk || Math.max(measures.length, 1);
  if (data.chunk) { root.classList.add("tl-large"); }
  var byId = {};
  measures.forEach(function (m) { byId[m.id] = m; });
  var mode = "category";
  var current = measures;
  var limit = CHUNK;
  var selected = null;

  // ---------------------------------------------------------------- the details of a large page

  var blocks = null;
  var inflated = {};

  function inflate(base64) {
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function block(k) {
    if (!inflated[k]) {
      inflated[k] = new Promise(function (resolve) {
        // The blocks follow this script in the page: wait for the parser if the reader was quicker.
        if (doc.readyState !== "loading") { resolve(); } else { doc.addEventListener("DOMContentLoaded", resolve); }
      }).then(function () {
        if (blocks === null) { blocks = JSON.parse(doc.getElementById("tl-details").textContent); }
        return inflate(blocks[k]);
      });
    }
    return inflated[k];
  }

  // Fill an opened measure's empty detail from its block (a small page has every detail already).
  function fill(m) {
    var box = m.li.querySelector(".detail[data-lazy]");
    if (!box || box.hasAttribute("data-loading")) { return; }
    box.setAttribute("data-loading", "");
    block(Math.floor(m.n / CHUNK)).then(function (markup) {
      box.innerHTML = markup[m.n % CHUNK];
      box.removeAttribute("data-lazy");
      box.removeAttribute("data-loading");
    }, function () {
      box.removeAttribute("data-loading");
      box.textContent = "";
      box.appendChild(text("p", "此浏览器无法解压本页的措施详情。", "This browser cannot unpack the details of this page."));
    });
  }

  // ---------------------------------------------------------------- the list, from the <noscript> markup

  var source = null;
  var offsets = null;

  // A large page's row, drawn from data.rows[n] as measure_summary in measure.html.j2 draws it.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function esc(value) {
    return String(value).replace(/&/g, "&amp;").replace(/[<]/g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // An element's markup; attrs: [name, value, ...] (a value of null: a bare attribute).
  function el(tag, attrs, inner) {
    var out = "<" + tag;
    for (var i = 0; i < attrs.length; i += 2) {
      out += " " + attrs[i] + (attrs[i + 1] === null ? "" : "=\"" + esc(attrs[i + 1]) + "\"");
    }
    return out + ">" + inner + "<" + "/" + tag + ">";
  }

  function pair(zh, en) {
    return el("span", ["class", "l-en", "lang", "en"], esc(en || zh)) + el("span", ["class", "l-zh", "lang", "zh"], esc(zh || en));
  }

  function dayHtml(iso) {
    var y = iso.slice(0, 4);
    var mo = Number(iso.slice(5, 7));
    var d = Number(iso.slice(8, 10));
    return el("time", ["datetime", iso], pair(y + "年" + mo + "月" + d + "日", d + " " + MONTHS[mo - 1] + " " + y));
  }

  function rowHtml(m) {
    var r = data.rows[m.n];
    var when = "";
    var track = "";
    if (!r.length) {
      when = el("span", ["class", "not-drawn"], pair("无已知日期：未在时间轴上绘制", "no date known: not drawn on the axis"));
    } else {
      if (r[0]) {
        when = pair("有效期", "in effect") + " " + dayHtml(r[0]) + (r[1] ? " – " + dayHtml(r[1]) : "") +
          (r[2] || r[3] ? " (" + pair(r[2], r[3]) + ")" : "");
      }
      track = el("span", ["class", "period " + r[4]], r[5].map(function (p) {
        return el("span", ["class", "sp sp-" + p[0] + (p[1] ? " open" : ""), "style", "left:" + p[2] + "%;width:" + p[3] + "%"], "");
      }).join("") + (r[6] ? el("span", ["class", "cap b-" + r[6], "style", "left:" + r[7] + "%"], "") : "") +
        r[8].map(function (c) {
          return el("span", ["class", "chg e-" + c[0], "data-target", c[1], "data-day", c[2], "style", "left:" + c[3] + "%",
            "title", c[4]], "");
        }).join(""));
    }
    var name = el("span", ["class", "name"], el("span", ["class", "title"], pair(m.zh, m.en)) + " " +
      el("span", ["class", "when"], when));
    var summary = el("summary", ["class", "row"], name + el("span", ["class", "track", "aria-hidden", "true"], track));
    return el("li", ["class", "m", "id", m.id], el("details", [], summary + el("div", ["class", "detail", "data-lazy", null], "")));
  }

  function itemHtml(m) {
    if (data.chunk) { return rowHtml(m); }
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
        if (details.open) { fill(m); }
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
  // A large page: the next rows are built when the button comes near the viewport, so scrolling reads on.
  if (data.chunk && window.IntersectionObserver) {
    var near = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && !moreButton.hidden) {
        limit += CHUNK;
        render();
        near.unobserve(moreButton);  // observed again: reports at once if the button is still near
        near.observe(moreButton);
      }
    }, { rootMargin: "600px 0px" });
    near.observe(moreButton);
  }
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
  // The chart follows the script in a large page: wire its areas once the page is parsed.
  function wireChart() {
    doc.querySelectorAll("input[data-series]").forEach(function (box) {
      box.addEventListener("change", function () {
        doc.querySelectorAll(".series[data-series=\"" + box.getAttribute("data-series") + "\"]").forEach(function (g) {
          g.classList.toggle("off", !box.checked);
        });
      });
    });
  }
  if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", wireChart); } else { wireChart(); }
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
