import { maxFurnitureLine, removeLines, type RegexRule, type RuleEnvironment } from './engine.js';

/**
 * Web: site chrome that survives HTML-to-text conversion (and newsletters
 * that copy it): consent banners, share and print links, breadcrumb trails,
 * copyright lines. Each rule looks at one line at a time, so a sentence that
 * merely mentions cookies inside a paragraph of prose is never touched.
 */

const cookieBanner =
  /\b(?:we|this (?:web)?site|our (?:web)?site)\b[^\n]{0,80}\buses? cookies\b|\bcookies? (?:policy|settings|preferences|consent|notice)\b|\baccept (?:all )?cookies\b|\b(?:by (?:continuing|using)|if you continue)\b[^\n]{0,80}\b(?:cookies|consent)\b|\bmanage (?:cookie|consent|privacy) (?:settings|preferences|choices)\b/i;
/** Banner buttons, removed only when a banner line sits right above or below them. */
const bannerButton = /^[ \t]*(?:[-*•][ \t]+)?\[?(?:accept(?: all)?(?: cookies)?|reject(?: all)?(?: cookies)?|decline|allow all|got it|i agree|ok(?:ay)?|agree(?: and close)?|customi[sz]e|manage (?:preferences|settings|options))\]?(?:\([^)\s]{0,300}\))?[ \t]*$/i;

function isBannerLine(line: string): boolean {
  return line.length <= 600 && cookieBanner.test(line);
}

/** Words that, alone or together, make a share or print toolbar. */
const shareWords = new Set([
  'share', 'share this', 'share this article', 'share this page', 'share this story', 'share article', 'tweet', 'tweet this',
  'print', 'print this', 'print this page', 'print this article', 'printer-friendly', 'printer friendly', 'printer-friendly version',
  'email', 'e-mail', 'email this', 'email this article', 'email this page', 'mail', 'forward', 'forward to a friend', 'send to a friend',
  'facebook', 'twitter', 'x', 'linkedin', 'pinterest', 'reddit', 'whatsapp', 'telegram', 'tumblr', 'digg', 'delicious', 'stumbleupon',
  'share on facebook', 'share on twitter', 'share on x', 'share on linkedin', 'share on whatsapp', 'share on reddit', 'share on pinterest',
  'copy link', 'copy url', 'save', 'bookmark', 'comments', 'comment',
]);
/** Words that say "toolbar" by themselves; a lone "Email" or "Save" line in a message may be prose. */
const strongShareWords = new Set(['share', 'share this', 'share this article', 'share this page', 'share this story', 'tweet', 'tweet this', 'print this page', 'print this article', 'printer-friendly version', 'email this article', 'email this page', 'forward to a friend', 'send to a friend', 'share on facebook', 'share on twitter', 'share on x', 'share on linkedin']);

/** A Markdown link's text, or the item itself. */
function linkText(item: string): string {
  const link = /^!?\[([^\]]{0,80})\]\([^)\s]{0,500}\)$/.exec(item);
  return (link ? link[1]! : item).trim().toLowerCase();
}

function isShareToolbar(line: string, environment: RuleEnvironment): boolean {
  if (line.length > 300) return false;
  const items = line
    .replace(/^[ \t]*(?:[-*•][ \t]+)/, '')
    .split(/[ \t]*[|·•,\/][ \t]*|[ \t]{2,}/)
    .map(linkText)
    .filter((item) => item.length > 0);
  if (items.length === 0 || !items.every((item) => shareWords.has(item))) return false;
  return items.length >= 2 || strongShareWords.has(items[0]!) || environment.format === 'html';
}

const navigationLink = /^[ \t]*(?:[-*•][ \t]+)?\[?(?:skip to (?:main )?(?:content|navigation|search)|jump to (?:navigation|search|content)|back to top|return to top|go to top|top of page|toggle (?:navigation|menu)|main menu|open menu|close menu)\]?(?:\([^)\s]{0,300}\))?[ \t]*$/i;

/** "Home > News > World", "Home / Products / Widgets", "You are here: Home » About". */
function isBreadcrumb(line: string): boolean {
  if (line.length > maxFurnitureLine) return false;
  const trail = line.trim().replace(/^you are here:?[ \t]*/i, '');
  if (!/^(?:\[home\]\([^)\s]{0,300}\)|home)\b/i.test(trail)) return false;
  const parts = trail.split(/[ \t]*(?:›|»|>|\/|\||→|::)[ \t]*/);
  if (parts.length < 2 || parts.length > 10) return false;
  // Crumbs are short titles, not clauses of a sentence.
  return parts.every((part) => {
    const text = linkText(part);
    return text.length > 0 && text.length <= 60 && !/[.!?;:]$/.test(text);
  });
}

const rightsReserved = /\ball rights reserved\b/i;

export const webRules: readonly RegexRule[] = [
  {
    name: 'regex:web-cookie-banners',
    family: 'web',
    description: 'cookie and consent banner lines ("We use cookies ...", "Accept all cookies") and their buttons',
    hint: /cookie|consent/i,
    apply: (text) =>
      removeLines(text, (line, index, lines) => {
        if (isBannerLine(line)) return true;
        if (line.length > 80 || !bannerButton.test(line)) return false;
        // A button belongs to a banner within two lines of it.
        for (let near = Math.max(0, index - 2); near <= index + 2 && near < lines.length; near++) if (near !== index && isBannerLine(lines[near]!)) return true;
        return false;
      }),
  },
  {
    name: 'regex:web-share-links',
    family: 'web',
    description: 'share, print and e-mail toolbars ("Share | Tweet | Print")',
    hint: /\b(?:share|tweet|print|e-?mail|mail|forward|send|facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|telegram|tumblr|digg|delicious|stumbleupon|copy|save|bookmark|comments?)\b/i,
    apply: (text, environment) => removeLines(text, (line) => isShareToolbar(line, environment)),
  },
  {
    name: 'regex:web-navigation',
    family: 'web',
    label: 'navigation',
    description: '"Skip to content", "Back to top" and menu toggles',
    hint: /skip to|jump to|to top|top of page|menu|toggle/i,
    apply: (text) => removeLines(text, (line) => line.length <= 400 && navigationLink.test(line)),
  },
  {
    name: 'regex:web-breadcrumbs',
    family: 'web',
    label: 'navigation',
    description: 'breadcrumb trails starting at Home ("Home > News > World")',
    hint: /^[ \t]*(?:you are here:?[ \t]*)?\[?home\b/im,
    apply: (text) => removeLines(text, isBreadcrumb),
  },
  {
    name: 'regex:web-rights-reserved',
    family: 'web',
    label: 'legal',
    description: 'copyright lines that say "All rights reserved"',
    hint: /rights reserved/i,
    apply: (text) => removeLines(text, (line) => line.length <= 300 && rightsReserved.test(line)),
  },
];
