// The query workbench, enhanced: the page works without this script (the form GETs
// /sparql?format=html and the server renders the table); with it, queries run without a reload,
// IRIs show their labels, coordinates are drawn on a map, and the URL can be shared.
// Everything is fetched from this server: no CDN, no prefix lookups elsewhere.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("workbench-config").textContent);
  var T = config.strings;
  var form = document.getElementById("workbench-form");
  var textarea = document.getElementById("query");
  var formatSelect = document.getElementById("format");
  var results = document.getElementById("results");
  var errorBox = document.getElementById("error");
  var mapBox = document.getElementById("map");
  var share = document.getElementById("share");
  var editor = null;
  var errorMark = null;
  var SVG = "http://www.w3.org/2000/svg";

  // --- the editor (CodeMirror when `make setup` fetched it, else the plain textarea) ---------

  function getQuery() { return editor ? editor.getValue() : textarea.value; }

  function setQuery(text) {
    if (editor) { editor.setValue(text); editor.focus(); } else { textarea.value = text; textarea.focus(); }
  }

  function declaredPrefixes(text) {
    var found = {};
    var re = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;
    var m;
    while ((m = re.exec(text)) !== null) { found[m[1] || ""] = m[2]; }
    return found;
  }

  // Completes prefix names (declared in the query or predeclared by the server); picking one
  // that the query does not declare adds its PREFIX line, so the query also runs elsewhere.
  function prefixHint(cm) {
    var cursor = cm.getCursor();
    var line = cm.getLine(cursor.line);
    var start = cursor.ch;
    while (start > 0 && /[\w-]/.test(line.charAt(start - 1))) { start -= 1; }
    var word = line.slice(start, cursor.ch);
    var declared = declaredPrefixes(cm.getValue());
    var names = Object.keys(Object.assign({}, config.prefixes, declared)).sort();
    var list = names.filter(function (name) { return name.indexOf(word) === 0 && name !== word; })
      .map(function (name) {
        return {
          text: name + ":",
          displayText: name + ":  <" + (declared[name] || config.prefixes[name]) + ">",
          hint: function (cmInstance, data, completion) {
            cmInstance.replaceRange(completion.text, data.from, data.to);
            if (!(name in declared)) { addPrefixLine(cmInstance, name); }
          }
        };
      });
    return { list: list, from: CodeMirror.Pos(cursor.line, start), to: CodeMirror.Pos(cursor.line, cursor.ch) };
  }

  function addPrefixLine(cm, name) {
    var lines = cm.getValue().split("\n");
    var at = 0;
    while (at < lines.length && (/^\s*(PREFIX|BASE)\b/i.test(lines[at]) || /^\s*#/.test(lines[at]))) { at += 1; }
    cm.replaceRange("PREFIX " + name + ": <" + config.prefixes[name] + ">\n", CodeMirror.Pos(at, 0));
  }

  function startEditor() {
    if (!window.CodeMirror) { return; }
    editor = CodeMirror.fromTextArea(textarea, {
      mode: "application/sparql-query",
      lineNumbers: true,
      // The input is the editable text itself, inside the scrolling box: a keyboard reaches
      // that box by Tab (axe: scrollable-region-focusable), and screen readers read the lines.
      inputStyle: "contenteditable",
      viewportMargin: Infinity,
      extraKeys: {
        "Ctrl-Space": "autocomplete",
        "Ctrl-Enter": function () { run(); },
        "Cmd-Enter": function () { run(); },
        // Tab leaves the editor, so that the page stays usable with a keyboard only.
        "Tab": false,
        "Shift-Tab": false
      },
      hintOptions: { hint: prefixHint, completeSingle: false },
      // the element that takes the keys gets the editor's name (axe: an input needs one)
      screenReaderLabel: T.query
    });
    editor.getWrapperElement().setAttribute("aria-label", T.query);
    editor.on("inputRead", function (cm, change) {
      // Prefixes are lower case and keywords usually upper case: only lower-case letters prompt.
      if (change.text.length === 1 && /^[a-z]$/.test(change.text[0])) {
        var token = cm.getTokenAt(cm.getCursor());
        if (!/^[?$"'<]/.test(token.string) && token.type !== "comment") { cm.showHint(); }
      }
    });
  }

  // --- running a query ----------------------------------------------------------------------

  function sparqlUrl(query, format) {
    var params = new URLSearchParams({ query: query });
    if (format) { params.set("format", format); }
    return "/sparql?" + params.toString();
  }

  // The link to the query in the editor: the workbench with it (and its results or its error).
  function shareUrl(query) {
    return sparqlUrl(query, "html") + "&lang=" + config.lang;
  }

  // The share link never points at another query than the editor's: it follows every edit.
  function followEdits() {
    if (share.hidden) { return; }
    share.href = shareUrl(getQuery());
  }

  function run() {
    var query = getQuery();
    clearError();
    results.setAttribute("data-state", "running");
    results.replaceChildren(element("p", { className: "note" }, T.running));
    mapBox.hidden = true;
    var headers = { Accept: "application/sparql-results+json, text/turtle;q=0.9" };
    var request = { method: "GET", headers: headers };
    var url = sparqlUrl(query);
    if (url.length > 4000) {  // long queries go in a POST body (URLs have length limits)
      url = "/sparql";
      request = { method: "POST", headers: Object.assign({ "Content-Type": "application/x-www-form-urlencoded" }, headers), body: new URLSearchParams({ query: query }) };
    }
    return fetch(url, request).then(function (response) {
      var type = response.headers.get("content-type") || "";
      // Failed or not, the address and the share link are this query's (the page they open
      // shows its error too), never the last one that worked.
      history.replaceState(null, "", shareUrl(query));
      share.href = shareUrl(query);
      share.hidden = false;
      if (!response.ok) {
        return (type.indexOf("json") >= 0 ? response.json() : response.text().then(function (t) { return { message: t }; }))
          .then(function (body) { showError(body, response.status); });
      }
      if (type.indexOf("json") >= 0) { return response.json().then(function (data) { return showResults(query, data); }); }
      return response.text().then(function (text) { showGraph(query, text); });
    }).catch(function () {
      share.hidden = true;  // nothing ran: there is no answer to link to
      showError({ message: T.network }, 0);
    });
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    if (errorMark) { errorMark.clear(); errorMark = null; }
  }

  function showError(body, status) {
    errorBox.replaceChildren(element("h2", {}, T.error + (status ? " (" + status + ")" : "")),
      element("p", { className: "wb-message" }, body.message || ""));
    if (body.line) {
      errorBox.appendChild(element("p", { className: "wb-position" },
        T.line.replace("{line}", body.line).replace("{column}", body.column || 1)));
      markError(body.line, body.column || 1);
    }
    if (body.setting) {
      errorBox.appendChild(element("p", { className: "wb-setting" }, T.setting.replace("{setting}", body.setting)));
    }
    errorBox.hidden = false;
    results.replaceChildren();
    results.setAttribute("data-state", "error");
  }

  function markError(line, column) {
    if (!editor) { return; }
    var from = CodeMirror.Pos(line - 1, column - 1);
    var to = CodeMirror.Pos(line - 1, column);
    errorMark = editor.markText(from, to, { className: "wb-error-mark" });
    editor.setCursor(from);
  }

  // --- results ------------------------------------------------------------------------------

  function downloads(query) {
    var p = element("p", { className: "wb-downloads" }, T.download + ": ");
    ["csv", "tsv", "json"].forEach(function (fmt, index) {
      if (index) { p.appendChild(document.createTextNode(" · ")); }
      p.appendChild(element("a", { id: "download-" + fmt, href: sparqlUrl(query, fmt), download: "results." + fmt }, fmt.toUpperCase()));
    });
    return p;
  }

  function showGraph(query, text) {
    results.replaceChildren(element("h2", {}, T.results), downloads(query), element("pre", { className: "wb-graph" }, text));
    results.setAttribute("data-state", "done");
  }

  function showResults(query, data) {
    var parts = [element("h2", {}, T.results), downloads(query)];
    if ("boolean" in data) {
      parts.push(element("p", { className: "wb-boolean" }, data["boolean"] ? T["true"] : T["false"]));
      results.replaceChildren.apply(results, parts);
      results.setAttribute("data-state", "done");
      return Promise.resolve();
    }
    var rows = data.results.bindings;
    var columns = data.head.vars || [];
    var shown = rows.slice(0, config.shownRows);
    if (!rows.length) {
      parts.push(element("p", {}, T.no_rows));
    } else {
      var count = countText(rows.length);
      if (rows.length > shown.length) { count += " (" + T.shown.replace("{n}", shown.length) + ")"; }
      parts.push(element("p", { className: "wb-count" }, count));
      parts.push(table(columns, shown));
    }
    results.replaceChildren.apply(results, parts);
    drawMap(columns, shown);
    return addLabels(shown).then(function () { results.setAttribute("data-state", "done"); });
  }

  // "1 row", "2 rows"; French takes the singular below two ("0 ligne", "1 ligne").
  function countText(n) {
    var one = config.lang === "fr" ? n < 2 : n === 1;
    return (one ? T.count_one : T.count_other).replace("{n}", n);
  }

  function table(columns, rows) {
    var head = element("tr", {});
    columns.forEach(function (c) { head.appendChild(element("th", { scope: "col" }, c)); });
    var mixed = {};
    columns.forEach(function (c) { mixed[c] = mixesLanguages(rows, c); });
    var body = element("tbody", {});
    rows.forEach(function (row, index) {
      var tr = element("tr", { id: "result-row-" + (index + 1) });
      columns.forEach(function (c) { tr.appendChild(cell(row[c], mixed[c])); });
      body.appendChild(tr);
    });
    // A wide table scrolls inside this box, which a keyboard can reach (and so scroll).
    var wrapper = element("div", { className: "wb-table", tabindex: "0", role: "region", "aria-label": T.table_region });
    wrapper.appendChild(element("table", {}, element("thead", {}, head), body));
    return wrapper;
  }

  // Whether a column holds strings in more than one language (untagged strings count as one):
  // only then are the tags written (pages.workbench.annotate does the same).
  function mixesLanguages(rows, column) {
    var tags = {};
    rows.forEach(function (row) {
      var term = row[column];
      if (term && term.type !== "uri" && term.type !== "bnode" && (term["xml:lang"] || !term.datatype || term.datatype === XSD + "string")) {
        tags[(term["xml:lang"] || "").toLowerCase()] = true;
      }
    });
    return Object.keys(tags).length > 1;
  }

  function localPath(iri) {
    return iri.indexOf(config.base) === 0 && iri.length > config.base.length ? "/" + iri.slice(config.base.length) : "";
  }

  function cell(term, mixed) {
    var td = element("td", {});
    if (!term) { return td; }
    if (term.type === "uri") {
      var href = localPath(term.value);
      // Only our own IRIs are links, to their pages here: a click never leaves this server.
      var node = href ? element("a", { href: href, title: term.value }, term.value)
        : element("span", { className: "iri", title: term.value }, term.value);
      node.setAttribute("data-iri", term.value);
      td.appendChild(node);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      var tag = term["xml:lang"];
      if (tag && tag.split("-")[0].toLowerCase() !== config.lang) { td.setAttribute("lang", tag); }
      var type = shortType(term.datatype || (tag ? "" : XSD + "string"));
      if (type && type !== "xsd:string") { td.setAttribute("title", type); }
      var note = tag ? (mixed ? "@" + tag : "") : (PLAIN_TYPES.indexOf(type) >= 0 ? "" : type);
      if (note) { td.appendChild(document.createTextNode(" ")); td.appendChild(element("span", { className: "note" }, note)); }
    }
    return td;
  }

  // Numbers, strings, dates and booleans read as what they are: their type is only a title
  // (the server's list: pages.workbench.PLAIN_TYPES).
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var PLAIN_TYPES = config.plainTypes;

  function shortType(datatype) {
    if (!datatype) { return ""; }
    return datatype.indexOf(XSD) === 0 ? "xsd:" + datatype.slice(XSD.length) : datatype;
  }

  function addLabels(rows) {
    var iris = {};
    rows.forEach(function (row) {
      Object.keys(row).forEach(function (k) { if (row[k].type === "uri" && localPath(row[k].value)) { iris[row[k].value] = true; } });
    });
    var list = Object.keys(iris);
    if (!list.length) { return Promise.resolve(); }
    return fetch("/sparql/labels", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ iris: list, lang: config.lang })
    }).then(function (response) { return response.ok ? response.json() : { labels: {} }; })
      .then(function (data) {
        results.querySelectorAll("[data-iri]").forEach(function (node) {
          var label = data.labels[node.getAttribute("data-iri")];
          if (label) { node.textContent = label; }
        });
      }).catch(function () { /* labels are a nicety: the IRIs stay */ });
  }

  // --- the map: results with ?lat and ?long, on the outline of Canada the server drew --------

  // The same Lambert conformal conic as the server's map (canada.py: Statistics Canada's
  // parallels 49° and 77° N, origin 63.390675° N 91.866667° W), placed in its frame.
  function project(lon, lat) {
    var rad = Math.PI / 180, p1 = 49 * rad, p2 = 77 * rad, p0 = 63.390675 * rad, l0 = -91.866667 * rad;
    function t(phi) { return Math.tan(Math.PI / 4 + phi / 2); }
    var n = Math.log(Math.cos(p1) / Math.cos(p2)) / Math.log(t(p2) / t(p1));
    var F = Math.cos(p1) * Math.pow(t(p1), n) / n;
    var rho = F / Math.pow(t(lat * rad), n);
    var rho0 = F / Math.pow(t(p0), n);
    var theta = n * (lon * rad - l0);
    var m = config.map;
    return [m.margin + (rho * Math.sin(theta) - m.left) * m.scale, m.margin + (m.top - (rho0 - rho * Math.cos(theta))) * m.scale];
  }

  function coordinateColumns(columns) {
    var lat = columns.filter(function (c) { return /^lat(itude)?$/i.test(c); })[0];
    var lon = columns.filter(function (c) { return /^(long|lon|lng|longitude)$/i.test(c); })[0];
    return lat && lon ? [lat, lon] : null;
  }

  function drawMap(columns, rows) {
    var names = coordinateColumns(columns);
    var layer = document.getElementById("map-points");
    var links = document.getElementById("map-links");
    layer.replaceChildren();
    links.replaceChildren();
    var points = names ? rows.filter(function (r) { return r[names[0]] && r[names[1]]; }) : [];
    if (!points.length) { mapBox.hidden = true; return; }
    var labelColumn = columns.filter(function (c) { return /label$/i.test(c); })[0];
    var dots = points.map(function (row) {
      var p = project(parseFloat(row[names[1]].value), parseFloat(row[names[0]].value));
      var name = labelColumn && row[labelColumn] ? row[labelColumn].value : row[names[0]].value + ", " + row[names[1]].value;
      return { x: round1(p[0]), y: round1(p[1]), label: name, href: pointHref(columns, row, labelColumn, rows.indexOf(row)) };
    });
    placeLabels(dots).forEach(function (m) {
      if (m.leader) {
        layer.appendChild(svgElement("line", { x1: m.x, y1: m.y, x2: m.leader[0], y2: m.leader[1], "class": "wb-leader" }));
      }
      var dot = svgElement("circle", { cx: m.x, cy: m.y, r: 7, "class": "wb-point" });
      dot.appendChild(svgElement("title", {}, m.label));
      layer.appendChild(dot);
      layer.appendChild(svgElement("text", { x: m.labelX, y: m.labelY, "text-anchor": m.anchor, "class": "wb-point-label" }, m.label));
      links.appendChild(pointLink(m, mapBox.querySelector("svg").viewBox.baseVal.height));
    });
    mapBox.hidden = false;
  }

  // A point as a link over its dot (pages.workbench.point_href says where it leads), sized in
  // CSS pixels, so that it stays a 24 px target however small the map is drawn.
  function pointLink(m, height) {
    var link = element("a", { className: "wb-point-link", href: m.href }, element("span", { className: "wb-visually-hidden" }, m.label));
    link.style.left = (m.x / 10).toFixed(2) + "%";
    link.style.top = (m.y * 100 / height).toFixed(2) + "%";
    return element("li", {}, link);
  }

  function pointHref(columns, row, labelColumn, index) {
    var named = labelColumn ? labelColumn.slice(0, -5) : "";
    var term = named && row[named] && row[named].type === "uri" ? row[named] : null;
    if (term && localPath(term.value)) { return localPath(term.value); }
    for (var i = 0; i < columns.length; i += 1) {
      var t = row[columns[i]];
      if (t && t.type === "uri" && localPath(t.value)) { return localPath(t.value); }
    }
    return "#result-row-" + (index + 1);
  }

  // Label placement, the same as canada.markers on the server (keep the two in step): west to
  // east, each label at the first candidate spot (rings out from the dot, eight directions in
  // each) inside the viewBox that overlaps no dot and no label placed before; else the spot with
  // least overlap. Boxes are estimated from the character count, as canada.py does.
  var FONT = 22, CHAR = 0.7, ASCENT = 0.8, DESCENT = 0.25, HALO = 2, DOT = 11;
  var RINGS = [DOT, DOT + 26, DOT + 52];
  var DIRECTIONS = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];

  function round1(v) { return Math.round(v * 10) / 10; }

  function candidates(x, y, width) {
    var height = (ASCENT + DESCENT) * FONT + 2 * HALO, found = [];
    RINGS.forEach(function (gap) {
      DIRECTIONS.forEach(function (d) {
        var reach = d[0] && d[1] ? gap * 0.7 : gap;
        var left = d[0] > 0 ? x + reach : d[0] < 0 ? x - reach - width : x - width / 2;
        var top = d[1] > 0 ? y + reach : d[1] < 0 ? y - reach - height : y - height / 2;
        found.push([left, top, left + width, top + height]);
      });
    });
    return found;
  }

  function overlapArea(a, b) {
    return Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  }

  function placeLabels(dots) {
    var view = mapBox.querySelector("svg").viewBox.baseVal, width = view.width, height = view.height;
    dots = dots.slice().sort(function (a, b) {
      return a.x - b.x || a.y - b.y || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    });
    var obstacles = dots.map(function (d) { return [d.x - DOT, d.y - DOT, d.x + DOT, d.y + DOT]; });
    return dots.map(function (d) {
      var boxWidth = Array.from(d.label).length * CHAR * FONT + 2 * HALO;
      var spots = candidates(d.x, d.y, boxWidth), best = null;
      for (var i = 0; i < spots.length; i += 1) {
        var r = spots[i];
        if (r[0] < 0 || r[1] < 0 || r[2] > width || r[3] > height) { continue; }
        var clash = obstacles.reduce(function (sum, o) { return sum + overlapArea(r, o); }, 0);
        if (best === null || clash < best.clash) { best = { clash: clash, index: i, rect: r }; }
        if (clash === 0) { break; }
      }
      var rect = best ? best.rect : spots[0];
      var leader = best ? best.index >= DIRECTIONS.length : false;
      obstacles.push(rect);
      var anchor = rect[0] > d.x ? "start" : rect[2] < d.x ? "end" : "middle";
      var end = leader ? [round1(Math.min(Math.max(d.x, rect[0]), rect[2])), round1(Math.min(Math.max(d.y, rect[1]), rect[3]))] : null;
      return {
        x: d.x, y: d.y, label: d.label, href: d.href, anchor: anchor, leader: end,
        labelX: round1(anchor === "start" ? rect[0] + HALO : anchor === "end" ? rect[2] - HALO : (rect[0] + rect[2]) / 2),
        labelY: round1(rect[1] + HALO + ASCENT * FONT)
      };
    });
  }

  function svgElement(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // --- helpers and wiring ---------------------------------------------------------------------

  function element(name, props) {
    var node = document.createElement(name);
    Object.keys(props).forEach(function (key) {
      if (key === "className") { node.className = props[key]; } else { node.setAttribute(key, props[key]); }
    });
    for (var i = 2; i < arguments.length; i += 1) {
      var child = arguments[i];
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function wireGallery() {
    document.querySelectorAll(".wb-example").forEach(function (item) {
      var text = item.querySelector(".wb-example-query");
      var link = item.querySelector(".wb-run-example");
      if (!text || !link) { return; }
      var button = element("button", { type: "button", className: "wb-load" }, T.load);
      link.parentNode.insertBefore(button, link);
      link.parentNode.insertBefore(document.createTextNode(" · "), link);
      button.addEventListener("click", function () {
        setQuery(text.textContent);
        document.getElementById("workbench-form").scrollIntoView();
      });
      link.addEventListener("click", function (event) {
        event.preventDefault();
        setQuery(text.textContent);
        run();
      });
    });
  }

  form.addEventListener("submit", function (event) {
    if (formatSelect.value !== "html") { return; }  // a download: let the browser do it
    event.preventDefault();
    if (editor) { editor.save(); }
    run();
  });

  startEditor();
  wireGallery();
  if (editor) { editor.on("change", followEdits); } else { textarea.addEventListener("input", followEdits); }
}());
