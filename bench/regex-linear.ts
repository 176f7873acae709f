/**
 * Regex rule linearity: every rule must run in linear time on input built
 * from long runs of what it matches (and of near misses, which is where
 * backtracking hides). A quadratic rule takes 4x as long on twice the
 * input, a linear one 2x, so the bench prints, per rule and input, the
 * ratio of CPU times at 1 MB and 512 KB, and flags a ratio of 3 or more.
 * CPU time and the minimum of alternating runs tame the noise of a shared
 * machine; it is still a measurement, so it lives here, and in the opt-in
 * timing suite (`npm run test:timing`), never in `npm test`.
 *
 *   node --import tsx bench/regex-linear.ts [--json out.json]
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { builtinRules } from '../stages/regex.js';
import type { RegexRule, RuleEnvironment } from '../stages/regex/engine.js';

const half = 512 * 1024;

const repeat = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const emailHead = 'From: a@example.org\nSubject: x\n\n';
const asEmail = (unit: string) => (size: number) => emailHead + repeat(unit, size);
const plain = (unit: string) => (size: number) => repeat(unit, size);
/** One giant line: line caps must keep per-line work bounded. */
const giant = (prefix: string, unit: string) => (size: number) => prefix + repeat(unit, size);

const text: RuleEnvironment = { format: 'text', email: false, paged: false };
const email: RuleEnvironment = { format: 'email', email: true, paged: false };
const paged: RuleEnvironment = { format: 'pdf', email: false, paged: true };

export const adversarial: Record<string, { environment: RuleEnvironment; inputs: Array<(size: number) => string> }> = {
  'regex:email-transport-headers': { environment: email, inputs: [(size) => repeat('X-Spam: yes\n\tcontinued\n', size) + '\nbody', (size) => `Received: ${repeat('a', size)}\n\nbody`] },
  'regex:email-mime-leftovers': { environment: email, inputs: [asEmail('--==_Exmh_123456\nContent-Type: text/plain\n'), asEmail(`--${'='.repeat(200)}\n`), giant(emailHead + '--=', '_')] },
  'regex:email-quoted-replies': { environment: email, inputs: [asEmail('> quoted\n>\n\n'), asEmail('Al wrote:\n| quoted\n\n'), asEmail('On Tue,\nwrote:\n'), giant(emailHead, ' wrote: wrote:'), asEmail('text\n-----Original Message-----\nFrom: a\n> q\nanswer\n'), asEmail('-----Original Message-----\n')] },
  'regex:email-signature': { environment: email, inputs: [asEmail('--\n'), asEmail('-- \nsig\n\n')] },
  'regex:email-list-footer': { environment: email, inputs: [asEmail('____________\nmailing list http://x/listinfo\n\n'), giant(emailHead, 'mailing list ')] },
  'regex:email-unsubscribe': { environment: email, inputs: [asEmail('to unsubscribe visit http://x\n\n'), giant(emailHead, 'unsubscribe ')] },
  'regex:email-disclaimer': { environment: email, inputs: [asEmail('DISCLAIMER\nintended recipient only\n\n'), giant(emailHead, 'if you are not the ')] },
  'regex:web-cookie-banners': { environment: text, inputs: [plain('We use cookies.\nAccept all\n'), plain('Accept all\n'), giant('', 'we use our site that uses cookie ')] },
  'regex:web-share-links': { environment: text, inputs: [plain('Share | Tweet | Print\n'), giant('', 'share | ')] },
  'regex:web-navigation': { environment: text, inputs: [plain('Skip to content\n'), giant('', 'skip to ')] },
  'regex:web-breadcrumbs': { environment: text, inputs: [plain('Home > News > World\n'), giant('', 'Home > ')] },
  'regex:web-rights-reserved': { environment: text, inputs: [plain('All rights reserved.\n'), giant('', 'all rights ')] },
  'regex:furniture-page-numbers': { environment: paged, inputs: [plain('12\ntext\n7\n\f'), plain('Page 3 of 9\n')] },
  'regex:furniture-running-headers': { environment: paged, inputs: [plain('Chapter 1: Intro\nbody\n3\n\f'), plain('\f')] },
  'regex:furniture-audience-markers': { environment: text, inputs: [plain('Thank you. (Applause.) '), plain('—(applause)—'), plain('(applause, and applause'), plain('((((')] },
  'regex:furniture-page-markers': { environment: text, inputs: [plain('word [p.12] '), plain('[p.123'), plain('[[[[')] },
  'regex:layout-trailing-whitespace': { environment: text, inputs: [giant('a', ' '), plain('a   \n'), plain(' \t')] },
  'regex:layout-hyphenation': { environment: text, inputs: [plain('exam-\nple '), plain('ab-\n'), plain('-\n')] },
  'regex:layout-toc-leaders': { environment: text, inputs: [plain('Introduction . . . . . 12\n'), giant('', ' .'), plain('. . . . x\n')] },
  'regex:layout-spaces': { environment: text, inputs: [plain('a  b\t\tc '), giant('a', ' ')] },
  'regex:layout-blank-lines': { environment: text, inputs: [plain('\n'), plain('\n\nx')] },
  'regex:noise-pgp': {
    environment: text,
    inputs: [plain('-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n'), plain('-----BEGIN PGP SIGNATURE-----\nabc\n'), plain('-----BEGIN PGP SIGNED MESSAGE-----\n- --\n')],
  },
  'regex:noise-base64': { environment: text, inputs: [plain('QUJDZGVmZ2hpams0NTY3ODkwKy9BQkNkZWZnaGlqazQ1Njc4OTArL0FCQ2RlZmdoaWprNDU2\n'), giant('', 'Ab1'), (size) => `${repeat('Ab1+', size)}===`] },
  'regex:noise-uuencode': { environment: text, inputs: [plain('begin 644 file.bin\nM86)C9&5F\n'), (size) => `begin 644 x\n${repeat('M86)C9&5F9VAI:FML;6YO<'.padEnd(61, 'A') + '\n', size)}`] },
  'regex:noise-markup': { environment: text, inputs: [plain('<b '), plain('<!--'), plain('<script>'), plain('<b>x</b>&amp;&#169;'), giant('<div ', 'a')] },
  'regex:noise-image-links': { environment: text, inputs: [plain('[http://a.gif.gif'), plain('[http://x/b.gif] '), plain('![alt](http://x/y.png) ')] },
  'regex:noise-tracking-parameters': { environment: text, inputs: [plain('https://x.org/?utm_source=a&b=c '), giant('https://x.org/?', 'utm_a=1&'), plain('https://')] },
  'regex:noise-ids': { environment: text, inputs: [giant('', '0123456789abcdef'), plain('0123456789abcdef0123456789abcdeg'), plain('01234567-89ab-cdef-0123-456789abcdef ')] },
};

/** CPU time (user + system) of the process: time spent descheduled while other processes run does not count. */
function cpuMilliseconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** How many applies make one measurement long enough to time. */
function repetitionsFor(run: () => void): number {
  let repetitions = 1;
  for (;;) {
    const started = cpuMilliseconds();
    for (let index = 0; index < repetitions; index++) run();
    if (cpuMilliseconds() - started >= 15 || repetitions >= 256) return repetitions;
    repetitions *= 2;
  }
}

/**
 * Ratio of the CPU time of `large` to that of `small`. The two are measured
 * in alternation, round after round, and each keeps its minimum, so a burst
 * of load or a garbage collection in one round cannot decide the result.
 */
function timeRatio(small: () => void, large: () => void, rounds = 5): number {
  const smallRepetitions = repetitionsFor(small);
  const largeRepetitions = repetitionsFor(large);
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    let started = cpuMilliseconds();
    for (let index = 0; index < smallRepetitions; index++) small();
    bestSmall = Math.min(bestSmall, (cpuMilliseconds() - started) / smallRepetitions);
    started = cpuMilliseconds();
    for (let index = 0; index < largeRepetitions; index++) large();
    bestLarge = Math.min(bestLarge, (cpuMilliseconds() - started) / largeRepetitions);
  }
  return bestLarge / bestSmall;
}

export interface LinearityCase {
  name: string;
  rule: RegexRule;
  environment: RuleEnvironment;
  input: (size: number) => string;
}

export const linearityCases: LinearityCase[] = builtinRules.flatMap((rule) =>
  (adversarial[rule.name]?.inputs ?? []).map((input, index) => ({ name: `${rule.name} #${index + 1}`, rule, input, environment: adversarial[rule.name]!.environment })),
);

/** A ratio at or above this is a rule that does more than linear work. */
export const superlinearRatio = 3;

/**
 * The CPU-time ratio of one case at 1 MB against 512 KB. A quadratic rule
 * measures about 4 every time; a linear one about 2, now and then more when
 * other work loads the cores: up to six tries, keeping the minimum.
 */
export function linearityRatio({ rule, input, environment }: LinearityCase): number {
  const small = input(half);
  const large = input(2 * half);
  // Warm up the JIT and regex compilation before timing.
  rule.apply(small, environment);
  let ratio = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 6 && ratio >= superlinearRatio; attempt++) {
    ratio = Math.min(
      ratio,
      timeRatio(
        () => rule.apply(small, environment),
        () => rule.apply(large, environment),
      ),
    );
  }
  return ratio;
}

export interface LinearityResult {
  cases: { name: string; ratio: number }[];
  worst: { name: string; ratio: number };
  superlinear: string[];
}

export function benchLinearity(cases: readonly LinearityCase[] = linearityCases): LinearityResult {
  const measured = cases.map((linearityCase) => ({ name: linearityCase.name, ratio: Math.round(linearityRatio(linearityCase) * 100) / 100 }));
  const worst = measured.reduce((most, entry) => (entry.ratio > most.ratio ? entry : most), measured[0]!);
  return { cases: measured, worst, superlinear: measured.filter((entry) => entry.ratio >= superlinearRatio).map((entry) => entry.name) };
}

export function formatLinearity(result: LinearityResult): string {
  const width = Math.max(...result.cases.map((entry) => entry.name.length));
  return [
    `regex linearity: CPU time at 1 MB / 512 KB per rule input (linear about 2, quadratic about 4; flagged at ${superlinearRatio})`,
    ...result.cases.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.ratio.toFixed(2)}${entry.ratio >= superlinearRatio ? '  SUPERLINEAR' : ''}`),
    `worst: ${result.worst.name} at ${result.worst.ratio.toFixed(2)}; ${result.superlinear.length === 0 ? 'no rule flagged' : `flagged: ${result.superlinear.join(', ')}`}`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = benchLinearity();
  console.log(formatLinearity(result));
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt >= 0 && process.argv[jsonAt + 1]) await writeFile(process.argv[jsonAt + 1]!, `${JSON.stringify(result, null, 2)}\n`);
}
