/**
 * The report page: one self-contained HTML file (styles, charts, data and
 * script inline), so it opens from disk with no server and no network. Its
 * Content-Security-Policy forbids every fetch, which makes "offline" a
 * property of the file rather than a hope. The overview is static HTML and
 * SVG; only the documents table and the document view need the script.
 */
import { formatUsd } from '../pricing.js';
import { formatInt, formatMs, percent } from './terminal.js';
import { barChart, type Bar } from './charts.js';
import { clientScript } from './client.js';
import type { ReportData, TagTotals } from './collect.js';
import { escapeHtml, scriptJson } from './escape.js';

const style = `
:root { --ink: #1d2330; --muted: #5b6477; --line: #d9dde6; --bar: #3b6fd8; --cut: #a33; --panel: #f6f7fa; font: 14px/1.45 system-ui, sans-serif; color: var(--ink); }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 64px; }
h1 { font-size: 22px; margin: 8px 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.subtitle, .note { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 140px; }
.card .figure { font-size: 20px; font-weight: 600; } .card .caption { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: var(--panel); } td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
th button { all: unset; cursor: pointer; } th[aria-sort=ascending] button::after { content: ' ▲'; } th[aria-sort=descending] button::after { content: ' ▼'; }
tr.filters input, tr.filters select { width: 100%; box-sizing: border-box; font: inherit; font-size: 12px; }
td.source { max-width: 420px; overflow-wrap: anywhere; } td.error { color: var(--cut); max-width: 260px; }
.status-error { color: var(--cut); font-weight: 600; } .status-skipped { color: var(--muted); }
.alerts { border: 1px solid var(--cut); background: #fff3f3; border-radius: 6px; padding: 8px 14px; }
.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); } .chart .note { fill: var(--muted); }
.pager { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
#view { border-top: 2px solid var(--ink); margin-top: 24px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.text, pre.message { white-space: pre-wrap; overflow-wrap: anywhere; font: 12.5px/1.5 ui-monospace, monospace; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; margin: 0 0 8px; }
del.cut { color: #8a8f99; text-decoration: line-through; text-decoration-color: var(--cut); background: #fbeaea; }
del.family-regex { background: #fbeaea; } del.family-classify { background: #f3eafb; } del.family-sections { background: #eef2f8; } del.family-budget { background: #fdf3e1; }
ins.added { text-decoration: underline dotted; background: #e7f6e7; }
mark.entity { background: #fff1a8; border-bottom: 2px solid #d9b400; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 18px; }
.role { font-weight: 600; color: var(--muted); font-size: 12px; }
`;

export function renderReport(data: ReportData): string {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${style}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(data.title)}</h1>`,
    `<p class="subtitle">${escapeHtml(subtitle(data))}</p>`,
    alertsSection(data),
    overview(data),
    tagsSection(data),
    documentsSection(data),
    viewSection(),
    `<script type="application/json" id="rows">${scriptJson(data.rows)}</script>`,
    `<script type="application/json" id="views">${scriptJson(data.views)}</script>`,
    `<script>${clientScript}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

function subtitle(data: ReportData): string {
  const parts = [`${formatInt(data.documents)} documents`, `model ${data.model}`, `made ${data.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`];
  if (data.task) parts.unshift(`task: “${data.task}”`);
  return parts.join(' · ');
}

function alertsSection(data: ReportData): string {
  if (data.alerts.length === 0) return '';
  const items = data.alerts.map(
    (alert) => `<li>Spend ${alert.estimated ? '(estimated) ' : ''}reached ${escapeHtml(formatUsd(alert.spentUsd))}, past the alert at ${escapeHtml(formatUsd(alert.thresholdUsd))}, after ${formatInt(alert.documents)} documents (at ${escapeHtml(alert.source)}).</li>`,
  );
  return `<section class="alerts" id="alerts"><h2>Alerts</h2><ul>${items.join('')}</ul></section>`;
}

const card = (figure: string, caption: string, id?: string) => `<div class="card"${id ? ` id="${id}"` : ''}><div class="figure">${escapeHtml(figure)}</div><div class="caption">${escapeHtml(caption)}</div></div>`;

function overview(data: ReportData): string {
  const { statuses, dollars, calls, funnel } = data;
  const loaded = funnel[0]?.tokens ?? 0;
  const saved = dollars.withoutUsd !== null && dollars.withUsd !== null ? dollars.withoutUsd - dollars.withUsd : null;
  const out: string[] = ['<section id="overview"><h2>Overview</h2>', '<div class="cards" id="statuses">'];
  out.push(card(formatInt(data.documents), 'documents'), card(formatInt(statuses.ok ?? 0), 'ok'), card(formatInt(statuses.skipped ?? 0), 'skipped'), card(formatInt(statuses.error ?? 0), 'error'));
  out.push(card(formatUsd(dollars.withoutUsd), `${data.model} prompts without distillation`), card(formatUsd(dollars.withUsd), 'with distillation'), card(saved === null ? 'unknown' : formatUsd(saved), `saved (${percent(saved ?? 0, dollars.withoutUsd ?? 0)})`));
  out.push('</div>');

  const funnelBars: Bar[] = funnel.map((step) => ({ label: step.label, value: step.tokens, note: `${formatInt(step.tokens)} tokens (${percent(step.tokens, loaded)})` }));
  out.push('<h2>Stage funnel: tokens as loaded, then after each stage</h2>', barChart(funnelBars, { title: 'Tokens as loaded and after each stage', className: 'funnel' }));

  out.push('<h2>Dollars</h2><table id="dollars"><thead><tr><th>prices</th><th class="number">without distillation</th><th class="number">with distillation</th><th class="number">saved</th></tr></thead><tbody>');
  out.push(dollarRow(`${data.model} list prices, prompts`, dollars.withoutUsd, dollars.withUsd));
  if (dollars.appliedWithoutUsd !== null) {
    const applied = [dollars.batchDocuments > 0 ? `batch price for ${formatInt(dollars.batchDocuments)} documents` : '', dollars.cachedPromptTokens > 0 ? `cached-input price for ${formatInt(dollars.cachedPromptTokens)} prompt tokens` : ''].filter(Boolean).join(', ');
    out.push(dollarRow(`as applied (${applied})`, dollars.appliedWithoutUsd, dollars.appliedWithUsd));
  }
  out.push('</tbody></table>');

  const unknown = 'not in records';
  out.push('<h2>Model calls</h2><table id="calls"><tbody>');
  const callRows: [string, string][] = [
    ['documents at the model', formatInt(calls.documents)],
    ['HTTP requests (retries included)', formatInt(calls.requests)],
    ['answered from the cache', formatInt(calls.cacheHits)],
    ['retries', formatInt(calls.retries)],
    ['failed', formatInt(calls.failed)],
    ['rate-limit waits', calls.rateLimitWaitMs === null ? unknown : `${formatMs(calls.rateLimitWaitMs)} over ${formatInt(calls.rateLimitPauses ?? 0)} pauses`],
    ['batch jobs', `${formatInt(calls.batchJobs)}${calls.batchQueued > 0 ? ` (${formatInt(calls.batchQueued)} documents queued)` : ''}`],
    [calls.dryRun ? 'would spend (dry run: prompts plus max-tokens answers)' : 'spent (billed usage)', formatUsd(calls.dryRun ? calls.estimatedUsd : calls.spentUsd)],
  ];
  if (!calls.dryRun && calls.estimatedUsd > 0) callRows.push(['estimated, not yet billed (batch)', formatUsd(calls.estimatedUsd)]);
  for (const [label, figure] of callRows) out.push(`<tr><th>${escapeHtml(label)}</th><td class="number">${escapeHtml(figure)}</td></tr>`);
  out.push('</tbody></table>');

  const top = data.savings.slice(0, 24);
  out.push('<h2>Savings by regex rule, classifier label and sections cut</h2>');
  if (top.length === 0) out.push('<p class="note">Nothing was removed.</p>');
  else {
    const colour = (rule: string) => (rule.startsWith('regex:') ? 'var(--bar)' : rule.startsWith('classify:') ? '#8a4fd0' : '#5a8f6a');
    out.push(barChart(top.map((saving) => ({ label: saving.rule, value: saving.tokens, note: `${formatInt(saving.tokens)} tokens, ${formatInt(saving.hits)} hits`, colour: colour(saving.rule) })), { title: 'Tokens removed by rule', className: 'savings' }));
    if (data.savings.length > top.length) out.push(`<p class="note">…and ${data.savings.length - top.length} more rules.</p>`);
  }
  if (data.priors.length > 0) out.push(`<p class="note">Labelled, not removed (weighed against the task by the sections stage): ${escapeHtml(data.priors.map(([label, count]) => `${label} ${formatInt(count)}`).join(', '))}.</p>`);
  out.push('</section>');
  return out.join('\n');
}

function dollarRow(label: string, without: number | null, withDistillation: number | null): string {
  const saved = without !== null && withDistillation !== null ? without - withDistillation : null;
  return `<tr><th>${escapeHtml(label)}</th><td class="number">${formatUsd(without)}</td><td class="number">${formatUsd(withDistillation)}</td><td class="number">${saved === null ? 'unknown' : `${formatUsd(saved)} (${percent(saved, without ?? 0)})`}</td></tr>`;
}

function tagsSection(data: ReportData): string {
  const keys = Object.keys(data.tags).sort();
  const out = ['<section id="tags"><h2>Cost per tag</h2>'];
  if (keys.length === 0) out.push('<p class="note">No document has tags: add <code>--tag key=value</code>, <code>tags</code> in a JSONL line, or read a folder (each file gets its first folder as <code>folder</code>).</p>');
  for (const key of keys) {
    const values = Object.entries(data.tags[key]!).sort((a, b) => b[1].originalUsd - a[1].originalUsd);
    out.push(`<h3>by ${escapeHtml(key)}</h3><table class="tag-table" data-tag="${escapeHtml(key)}"><thead><tr><th>${escapeHtml(key)}</th><th class="number">documents</th><th class="number">tokens as loaded</th><th class="number">tokens distilled</th><th class="number">$ without</th><th class="number">$ with</th><th class="number">saved</th></tr></thead><tbody>`);
    for (const [value, totals] of values) out.push(tagRow(value, totals));
    out.push('</tbody></table>');
  }
  out.push('</section>');
  return out.join('\n');
}

function tagRow(value: string, totals: TagTotals): string {
  const cells = [formatInt(totals.documents), formatInt(totals.tokensOriginal), formatInt(totals.tokensDistilled), formatUsd(totals.originalUsd), formatUsd(totals.distilledUsd), percent(totals.originalUsd - totals.distilledUsd, totals.originalUsd)];
  return `<tr><td>${escapeHtml(value)}</td>${cells.map((cell) => `<td class="number">${escapeHtml(cell)}</td>`).join('')}</tr>`;
}

function documentsSection(data: ReportData): string {
  const distinct = (index: 1 | 2) => [...new Set(data.rows.map((row) => row[index]))].sort();
  const select = (key: string, values: readonly string[], labels: readonly string[] = values) =>
    `<select data-filter="${key}" aria-label="filter ${key}"><option value="">all</option>${values.map((value, index) => `<option value="${escapeHtml(value)}">${escapeHtml(labels[index]!)}</option>`).join('')}</select>`;
  const text = (key: string, placeholder: string) => `<input data-filter="${key}" placeholder="${escapeHtml(placeholder)}" aria-label="filter ${key}">`;
  const header = (key: string, label: string, numeric = false) => `<th data-sort="${key}"${numeric ? ' class="number"' : ''}><button type="button">${escapeHtml(label)}</button></th>`;
  return [
    '<section><h2>Documents</h2>',
    '<p class="note">Click a column to sort; numeric filters take 100 (at least), &gt;100, &lt;=5 or 10..20. Click a document to see what was cut and why.</p>',
    '<table id="documents"><thead><tr>',
    header('source', 'document'), header('status', 'status'), header('kind', 'kind'), header('tokensIn', 'tokens in', true), header('tokensOut', 'tokens out', true),
    header('removed', '% removed', true), header('cost', 'cost', true), header('cached', 'cached'), header('error', 'error'),
    '</tr><tr class="filters">',
    `<td>${text('source', 'name contains')}</td><td>${select('status', distinct(1))}</td><td>${select('kind', distinct(2))}</td>`,
    `<td>${text('tokensIn', '≥ tokens')}</td><td>${text('tokensOut', '≥ tokens')}</td><td>${text('removed', '≥ %')}</td><td>${text('cost', '≥ $')}</td>`,
    `<td>${select('cached', ['1', '0'], ['yes', 'no'])}</td><td>${text('error', 'contains')}</td>`,
    '</tr></thead><tbody></tbody></table>',
    '<div class="pager"><button type="button" id="previous-page">previous</button><span id="page-label"></span><button type="button" id="next-page">next</button></div>',
    '</section>',
  ].join('\n');
}

function viewSection(): string {
  return [
    '<section id="view" hidden><h2 id="view-title"></h2>',
    '<p class="subtitle" id="view-meta"></p><button type="button" id="close-view">close</button>',
    '<p class="note">Kept text is plain; <del class="cut">removed text is struck through</del> (hover for what removed it); <ins class="added">added text</ins> is a rewrite or separator; <mark class="entity">entities</mark> are marked.</p>',
    '<ul class="legend" id="view-legend"></ul>',
    '<div class="columns"><div><h3>The document as loaded</h3><div class="text" id="doc-text"></div></div>',
    '<div><h3>The distilled prompt, exactly as sent</h3><div id="doc-prompt"></div></div></div>',
    '</section>',
  ].join('\n');
}
