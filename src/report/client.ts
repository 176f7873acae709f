/**
 * The page's script, inline in the report: the documents table (sorting,
 * filters, paging, so 10,000 rows stay fast: only one page is ever in the
 * DOM) and the document view. It is kept as source text, not a function
 * turned into a string, because transpilers (tsx, vitest) add helpers to
 * functions that would not exist in the page. It builds every node with
 * DOM calls and `textContent`: no document text is ever parsed as HTML.
 */
export const clientScript = String.raw`
'use strict';
(function () {
  var rows = JSON.parse(document.getElementById('rows').textContent);
  var viewData = null;
  var pageSize = 50;
  var state = { sort: null, descending: false, page: 0, filters: {} };
  // Columns: [key, index in a row or a function of the row].
  var columns = {
    source: 0, status: 1, kind: 2, tokensIn: 3, tokensOut: 4,
    removed: function (row) { return row[3] > 0 ? (100 * (row[3] - row[4])) / row[3] : 0; },
    cost: 5, cached: 6, error: 7
  };
  var value = function (row, key) { var column = columns[key]; return typeof column === 'function' ? column(row) : row[column]; };
  var integer = function (number) { return Math.round(number).toLocaleString('en-US'); };
  var usd = function (dollars) {
    if (dollars === null || dollars === undefined) return 'unknown';
    if (dollars === 0) return '$0';
    return '$' + dollars.toFixed(dollars < 0.01 ? 5 : dollars < 10 ? 4 : 2);
  };
  var element = function (tag, attributes, text) {
    var node = document.createElement(tag);
    for (var name in attributes || {}) node.setAttribute(name, attributes[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // A numeric filter: "100" (at least), ">100", "<=5", "10..20".
  function numberTest(text) {
    var range = /^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*$/.exec(text);
    if (range) return function (number) { return number >= Number(range[1]) && number <= Number(range[2]); };
    var compare = /^\s*(<=|>=|<|>|=)?\s*\$?(-?[\d.]+)\s*%?\s*$/.exec(text);
    if (!compare) return function () { return false; };
    var limit = Number(compare[2]);
    switch (compare[1]) {
      case '<': return function (number) { return number < limit; };
      case '<=': return function (number) { return number <= limit; };
      case '>': return function (number) { return number > limit; };
      case '=': return function (number) { return number === limit; };
      default: return function (number) { return number >= limit; };
    }
  }

  function matching() {
    var tests = [];
    Object.keys(state.filters).forEach(function (key) {
      var text = state.filters[key];
      if (text === '') return;
      if (key === 'status' || key === 'kind') tests.push(function (row) { return value(row, key) === text; });
      else if (key === 'cached') tests.push(function (row) { return String(value(row, key)) === text; });
      else if (key === 'source' || key === 'error') {
        var needle = text.toLowerCase();
        tests.push(function (row) { return String(value(row, key)).toLowerCase().indexOf(needle) >= 0; });
      } else {
        var test = numberTest(text);
        tests.push(function (row) { var number = value(row, key); return number !== null && test(number); });
      }
    });
    var indices = [];
    for (var index = 0; index < rows.length; index++) if (tests.every(function (test) { return test(rows[index]); })) indices.push(index);
    if (state.sort) {
      var key = state.sort;
      var direction = state.descending ? -1 : 1;
      indices.sort(function (left, right) {
        var a = value(rows[left], key);
        var b = value(rows[right], key);
        // Unknown costs sort last either way.
        if (a === null || b === null) return a === b ? left - right : a === null ? 1 : -1;
        return (a < b ? -1 : a > b ? 1 : 0) * direction || left - right;
      });
    }
    return indices;
  }

  var body = document.querySelector('#documents tbody');
  var pageLabel = document.getElementById('page-label');
  function render() {
    var indices = matching();
    var pages = Math.max(1, Math.ceil(indices.length / pageSize));
    state.page = Math.min(state.page, pages - 1);
    var first = state.page * pageSize;
    var fragment = document.createDocumentFragment();
    indices.slice(first, first + pageSize).forEach(function (index) {
      var row = rows[index];
      var line = element('tr', { 'data-index': String(index) });
      var source = element('td', { class: 'source' });
      source.appendChild(element('a', { href: '#doc-' + index }, row[0]));
      line.appendChild(source);
      line.appendChild(element('td', { class: 'status status-' + row[1] }, row[1]));
      line.appendChild(element('td', {}, row[2]));
      line.appendChild(element('td', { class: 'number' }, integer(row[3])));
      line.appendChild(element('td', { class: 'number' }, integer(row[4])));
      line.appendChild(element('td', { class: 'number' }, row[3] > 0 ? value(row, 'removed').toFixed(1) + '%' : '-'));
      line.appendChild(element('td', { class: 'number cost', 'data-usd': row[5] === null ? '' : String(row[5]) }, row[1] === 'ok' ? usd(row[5]) : '-'));
      line.appendChild(element('td', {}, row[6] ? 'yes' : ''));
      line.appendChild(element('td', { class: 'error' }, row[7]));
      fragment.appendChild(line);
    });
    body.replaceChildren(fragment);
    pageLabel.textContent = indices.length === 0 ? 'no documents match' :
      'documents ' + integer(first + 1) + '–' + integer(Math.min(first + pageSize, indices.length)) + ' of ' + integer(indices.length) + ' (page ' + (state.page + 1) + ' of ' + pages + ')';
    document.querySelectorAll('#documents th[data-sort]').forEach(function (header) {
      header.setAttribute('aria-sort', header.dataset.sort === state.sort ? (state.descending ? 'descending' : 'ascending') : 'none');
    });
  }

  document.querySelectorAll('#documents th[data-sort] button').forEach(function (button) {
    button.addEventListener('click', function () {
      var key = button.parentElement.dataset.sort;
      state.descending = state.sort === key ? !state.descending : key !== 'source' && key !== 'status' && key !== 'kind' && key !== 'error';
      state.sort = key;
      render();
    });
  });
  document.querySelectorAll('#documents [data-filter]').forEach(function (input) {
    input.addEventListener('input', function () {
      state.filters[input.dataset.filter] = input.value;
      state.page = 0;
      render();
    });
  });
  document.getElementById('previous-page').addEventListener('click', function () { state.page = Math.max(0, state.page - 1); render(); });
  document.getElementById('next-page').addEventListener('click', function () { state.page++; render(); });

  // The document view: gzipped JSON per document, opened only when asked for.
  async function loadView(index) {
    if (!viewData) viewData = JSON.parse(document.getElementById('views').textContent);
    var encoded = viewData[index];
    if (!encoded) return null;
    var bytes = Uint8Array.from(atob(encoded), function (character) { return character.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }

  var family = function (reason) { var match = /^(regex|classify|sections|budget)\b/.exec(reason); return match ? match[1] : /^over budget/.test(reason) ? 'budget' : /^not selected/.test(reason) ? 'sections' : 'other'; };

  // The document as loaded, cut into kept, removed and added pieces, with entities marked inside them.
  function segments(spans) {
    var out = [];
    var cursor = 0;
    var added = 0;
    var copy = function (end) {
      while (added < spans.added.length && spans.added[added][0] <= end) {
        var item = spans.added[added++];
        if (item[0] > cursor) { out.push({ kind: 'kept', start: cursor, end: item[0] }); cursor = item[0]; }
        out.push({ kind: 'added', text: item[1], reason: spans.reasons[item[2]] });
      }
      if (end > cursor) out.push({ kind: 'kept', start: cursor, end: end });
      cursor = Math.max(cursor, end);
    };
    for (var index = 0; index < spans.removed.length; index += 3) {
      copy(spans.removed[index]);
      out.push({ kind: 'removed', start: spans.removed[index], end: spans.removed[index + 1], reason: spans.reasons[spans.removed[index + 2]] });
      cursor = spans.removed[index + 1];
    }
    copy(spans.text.length);
    return out;
  }

  function withEntities(parent, text, start, end, entities) {
    var cursor = start;
    for (var index = 0; index < entities.length; index++) {
      var entity = entities[index];
      if (entity[1] <= cursor || entity[0] >= end) continue;
      var from = Math.max(entity[0], cursor);
      var to = Math.min(entity[1], end);
      if (from > cursor) parent.appendChild(document.createTextNode(text.slice(cursor, from)));
      parent.appendChild(element('mark', { class: 'entity entity-' + entity[2], title: entity[2] }, text.slice(from, to)));
      cursor = to;
    }
    if (end > cursor) parent.appendChild(document.createTextNode(text.slice(cursor, end)));
  }

  var viewSection = document.getElementById('view');
  async function openView(index) {
    var row = rows[index];
    if (!row) return;
    var view = await loadView(index);
    document.getElementById('view-title').textContent = row[0];
    var meta = document.getElementById('view-meta');
    var loaded = document.getElementById('doc-text');
    var prompt = document.getElementById('doc-prompt');
    var legend = document.getElementById('view-legend');
    meta.textContent = row[1] + ' · ' + row[2] + ' · ' + integer(row[3]) + ' → ' + integer(row[4]) + ' tokens' +
      (view && Object.keys(view.tags).length ? ' · ' + Object.keys(view.tags).map(function (key) { return key + '=' + view.tags[key]; }).join(', ') : '');
    loaded.replaceChildren();
    prompt.replaceChildren();
    legend.replaceChildren();
    if (view && view.spans) {
      var totals = {};
      var fragment = document.createDocumentFragment();
      segments(view.spans).forEach(function (segment) {
        if (segment.kind === 'added') {
          fragment.appendChild(element('ins', { class: 'added', title: 'added by ' + segment.reason, 'data-reason': segment.reason }, segment.text));
          return;
        }
        var node = fragment;
        if (segment.kind === 'removed') {
          var label = segment.reason;
          node = element('del', { class: 'cut family-' + family(label), title: 'removed by ' + label, 'data-reason': label });
          fragment.appendChild(node);
          var key = label.replace(/ \(score [^)]*\)/, '');
          totals[key] = (totals[key] || 0) + (segment.end - segment.start);
        }
        withEntities(node, view.spans.text, segment.start, segment.end, view.spans.entities);
      });
      loaded.appendChild(fragment);
      Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; }).forEach(function (reason) {
        var item = element('li', {});
        item.appendChild(element('del', { class: 'cut family-' + family(reason) }, reason));
        item.appendChild(document.createTextNode(' ' + integer(totals[reason]) + ' characters'));
        legend.appendChild(item);
      });
    } else {
      loaded.appendChild(element('p', { class: 'note' }, view ? 'This record has no span data: run with --report (or --spans) to see what was cut and why.' : 'No view for this document.'));
    }
    if (view && view.prompt) {
      view.prompt.forEach(function (message) {
        prompt.appendChild(element('div', { class: 'role' }, message.role));
        prompt.appendChild(element('pre', { class: 'message' }, message.content));
      });
    } else if (view) {
      prompt.appendChild(element('pre', { class: 'message' }, view.distilled));
    }
    viewSection.hidden = false;
    viewSection.scrollIntoView();
  }
  function route() {
    var match = /^#doc-(\d+)$/.exec(location.hash);
    if (match) openView(Number(match[1])).catch(function (error) { console.error(error); });
    else viewSection.hidden = true;
  }
  window.addEventListener('hashchange', route);
  document.getElementById('close-view').addEventListener('click', function () { history.pushState('', '', location.pathname); viewSection.hidden = true; });
  render();
  route();
  document.body.dataset.ready = 'true';
})();
`;
