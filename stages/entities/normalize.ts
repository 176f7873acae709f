/**
 * Normalised values for entities, computed from the entity's own text so the
 * result never depends on the run date or the machine's time zone.
 *
 * Representations (documented in `stages/entities.ts` too):
 * - money: `"<amount> <ISO 4217 code>"`, the amount a plain decimal without
 *   grouping ("$13 millions" → `"13000000 USD"`, "£2.5bn" → `"2500000000 GBP"`);
 * - percent and number: the value as a JSON number (`7.5`, `3000`);
 * - date: ISO 8601, as precise as the text: `"1976-07-04"`, `"1976-07"`,
 *   `"1976"`, or an interval `"1990/1999"` for a decade.
 */

const units: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  half: 0.5, dozen: 12,
};

const scales: Record<string, number> = {
  hundred: 100, thousand: 1e3, k: 1e3, million: 1e6, millions: 1e6, m: 1e6, mm: 1e6, mn: 1e6, mil: 1e6,
  billion: 1e9, billions: 1e9, bn: 1e9, b: 1e9, trillion: 1e12, trillions: 1e12, tn: 1e12, thousands: 1e3, hundreds: 100,
};

/**
 * The numeric value of an amount written with digits, words or both:
 * "13", "3,000", "1.2 billion", "fifty million", "sixty-five thousand", "$13 millions", "20m".
 * Returns undefined when the text holds no number.
 */
export function parseAmount(text: string): number | undefined {
  const words = text
    .replace(/(?:US|C|A)?[$£€¥₹¢]/g, ' ')
    .toLowerCase()
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/(\d)(k|m|mm|mn|bn|b|tn)\b/g, '$1 $2')
    .split(/[\s-]+/)
    .map((word) => word.replace(/^[^\p{L}\p{N}.]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((word) => word.length > 0 && word !== 'and');
  let total = 0;
  let current = 0;
  let seen = false;
  for (const [index, word] of words.entries()) {
    if (/^\d+(?:\.\d+)?$|^\.\d+$/.test(word)) {
      current += Number(word);
      seen = true;
    } else if (word === 'a' || word === 'an') {
      // "a million dollars", but not the article in "a fee of ...".
      if ((words[index + 1] ?? '') in scales) {
        current += 1;
        seen = true;
      }
    } else if (word in units) {
      current += units[word]!;
      seen = true;
    } else if (word in scales && seen) {
      const scale = scales[word]!;
      if (scale === 100) current = (current || 1) * 100;
      else {
        total += (current || 1) * scale;
        current = 0;
      }
    }
  }
  if (!seen) return undefined;
  // Binary floating point turns 1.2 * 1e9 into 1200000000.0000002; amounts are decimal.
  return Number((total + current).toPrecision(12));
}

/** Currency symbols and words to ISO 4217 codes. `$` is read as US dollars: the corpora here are American. */
const currencySymbols: readonly (readonly [RegExp, string])[] = [
  [/US\$|\$|\bUSD\b|\bdollars?\b|\bbucks?\b/i, 'USD'],
  [/£|\bGBP\b|\bpounds?\s+sterling\b|\bpounds?\b|\bquid\b/i, 'GBP'],
  [/€|\bEUR\b|\beuros?\b/i, 'EUR'],
  [/¥|\bJPY\b|\byen\b/i, 'JPY'],
  [/₹|\bINR\b|\brupees?\b/i, 'INR'],
  [/\bCHF\b|\bfrancs?\b/i, 'CHF'],
  [/\bcents?\b|¢/i, 'USD'],
];

export function currencyOf(text: string): string | undefined {
  // Check the more specific prefixed dollars first ("C$", "A$").
  if (/\bCAD\b|C\$/.test(text)) return 'CAD';
  if (/\bAUD\b|A\$/.test(text)) return 'AUD';
  for (const [pattern, code] of currencySymbols) if (pattern.test(text)) return code;
  return undefined;
}

/** "<amount> <currency>" for a money mention, or undefined when either part does not resolve. */
export function normalizeMoney(text: string): string | undefined {
  const currency = currencyOf(text);
  if (!currency) return undefined;
  // "12 dollars and fifty cents": dollars part plus cents part.
  const cents = /^(.*?)\b(?:dollars?|bucks?)\b[\s,]*(?:and\s+)?(.+?)\s+cents?\b/i.exec(text);
  let amount: number | undefined;
  if (cents) {
    const whole = parseAmount(cents[1]!);
    const fraction = parseAmount(cents[2]!);
    if (whole !== undefined && fraction !== undefined) amount = Number((whole + fraction / 100).toFixed(2));
  }
  if (amount === undefined) {
    amount = parseAmount(text);
    if (amount === undefined) return undefined;
    if (/\bcents?\b|¢/i.test(text) && !/\$|\bdollars?\b/i.test(text)) amount = Number((amount / 100).toFixed(4));
  }
  return `${formatDecimal(amount)} ${currency}`;
}

function formatDecimal(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  return String(value);
}

/** A percentage's value: "7.5%", "seven percent", "12 per cent" → 7.5, 7, 12. */
export function normalizePercent(text: string): number | undefined {
  return parseAmount(text.replace(/%|\bper\s*cent(?:age)?\b|\bpercent(?:age)?\b|\bpoints?\b/gi, ' '));
}

const months: Record<string, number> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6,
  jul: 7, july: 7, aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11, november: 11,
  dec: 12, december: 12,
};

const monthName = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const dayNumber = '(\\d{1,2})(?:st|nd|rd|th)?';
const yearNumber = '(\\d{4})';

const monthDayYear = new RegExp(`\\b${monthName}\\s+${dayNumber},?\\s+${yearNumber}\\b`, 'i');
const dayMonthYear = new RegExp(`\\b${dayNumber}(?:\\s+day)?(?:\\s+of)?\\s+${monthName},?\\s+${yearNumber}\\b`, 'i');
const monthYear = new RegExp(`\\b${monthName},?\\s+(?:of\\s+)?${yearNumber}\\b`, 'i');
const isoDate = /\b(\d{4})-(\d{2})-(\d{2})\b/;
const usNumeric = /\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/;
const decade = /\b(\d{3})0'?s\b/;
const year = /(?<![\d,.$])\b(1[5-9]\d{2}|20\d{2}|2100)\b(?![\d,%]|\s*(?:percent|dollars))/;

/**
 * ISO 8601 for a date mention that names its year; undefined when the text
 * is relative ("next Friday") or has no year, since resolving those would
 * need a reference date the text does not give.
 */
export function normalizeDate(text: string): string | undefined {
  let match = isoDate.exec(text);
  if (match) return validDate(Number(match[1]), Number(match[2]), Number(match[3]));
  match = monthDayYear.exec(text);
  if (match) return validDate(Number(match[3]), monthNumber(match[1]!), Number(match[2]));
  match = dayMonthYear.exec(text);
  if (match) return validDate(Number(match[3]), monthNumber(match[2]!), Number(match[1]));
  match = usNumeric.exec(text);
  if (match) {
    const fullYear = match[3]!.length === 2 ? 1900 + Number(match[3]) + (Number(match[3]) < 50 ? 100 : 0) : Number(match[3]);
    return validDate(fullYear, Number(match[1]), Number(match[2]));
  }
  match = monthYear.exec(text);
  if (match) return `${match[2]}-${pad(monthNumber(match[1]!))}`;
  match = decade.exec(text);
  if (match) return `${match[1]}0/${match[1]}9`;
  match = year.exec(text);
  if (match) return match[1];
  return undefined;
}

function monthNumber(name: string): number {
  return months[name.toLowerCase().replace(/\.$/, '')] ?? 0;
}

function validDate(yearValue: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const date = new Date(Date.UTC(yearValue, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return undefined;
  return `${String(yearValue).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** An ISO date, month or year from a compromise-dates interval, as precise as its unit. */
export function isoFromInterval(start: string, end: string | null | undefined, unit: string | undefined): string {
  const day = start.slice(0, 10);
  if (unit === 'day' || (end && end.slice(0, 10) === day)) return day;
  if (unit === 'month') return start.slice(0, 7);
  if (unit === 'year') return start.slice(0, 4);
  return end ? `${day}/${end.slice(0, 10)}` : day;
}
