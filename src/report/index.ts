/**
 * The HTML report of a run: its funnel, its dollars, cost per tag, every
 * document, and for each one what was cut and why. `distill run --report`
 * writes it at the end of a run; `distill report records.jsonl` makes it
 * from records already written.
 */
import type { SpendAlert } from '../alerts.js';
import type { DistillRecord } from '../record.js';
import { ReportCollector, type CollectOptions } from './collect.js';
import { renderReport } from './html.js';

export { ReportCollector, type CollectOptions, type ReportData } from './collect.js';
export { renderReport } from './html.js';

export interface ReportOptions extends CollectOptions {
  /** Spend alerts to show (see `SpendWatch`). */
  alerts?: SpendAlert[];
}

/**
 * One self-contained HTML page from any number of records.
 * @example
 * await writeFile('report.html', await buildReport(records, { title: 'Invoices, May' }));
 */
export async function buildReport(records: Iterable<DistillRecord> | AsyncIterable<DistillRecord>, options: ReportOptions = {}): Promise<string> {
  const collector = new ReportCollector(options);
  for await (const record of records) collector.add(record);
  return renderReport(collector.data(options.alerts ? { alerts: options.alerts } : {}));
}
