/**
 * Charts as static SVG, drawn here in Node rather than by a chart library
 * in the page: the report must open from disk with no network, and a
 * bundled library (Chart.js is about 200 kB minified) would cost more
 * than the few bars it would draw, need a script to run before anything
 * shows, and leave nothing to read in the file itself. Horizontal bars
 * are all the report needs: a funnel is bars that shrink.
 */
import { escapeHtml } from './escape.js';

export interface Bar {
  label: string;
  value: number;
  /** Shown after the bar, as given (the value already formatted, a share). */
  note: string;
  /** A CSS colour; the chart's default when absent. */
  colour?: string;
}

export interface BarChartOptions {
  /** Read by screen readers and shown as a tooltip. */
  title: string;
  /** Class on the `<svg>`, for the page's script and tests. */
  className?: string;
  width?: number;
}

const rowHeight = 26;
const labelWidth = 240;
const noteWidth = 200;

/** A horizontal bar chart, one row per bar, bars scaled to the largest value. */
export function barChart(bars: readonly Bar[], options: BarChartOptions): string {
  const width = options.width ?? 760;
  const plot = width - labelWidth - noteWidth;
  const largest = Math.max(1, ...bars.map((bar) => bar.value));
  const height = bars.length * rowHeight + 4;
  const rows = bars.map((bar, index) => {
    const y = index * rowHeight + 2;
    const length = Math.max(bar.value > 0 ? 2 : 0, Math.round((plot * bar.value) / largest));
    return [
      `<g class="bar" data-label="${escapeHtml(bar.label)}" data-value="${bar.value}">`,
      `<title>${escapeHtml(`${bar.label}: ${bar.note}`)}</title>`,
      `<text class="label" x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(truncate(bar.label, 34))}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${length}" height="${rowHeight - 8}" rx="3" fill="${bar.colour ?? 'var(--bar)'}"/>`,
      `<text class="note" x="${labelWidth + length + 8}" y="${y + 17}">${escapeHtml(bar.note)}</text>`,
      '</g>',
    ].join('');
  });
  return `<svg class="chart ${options.className ?? ''}" role="img" aria-label="${escapeHtml(options.title)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${rows.join('')}</svg>`;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
