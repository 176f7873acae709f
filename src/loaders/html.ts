import { Parser } from 'htmlparser2';

/**
 * HTML to Markdown-ish text with a real parser: headings become `#` lines and
 * list items `- ` lines, so the sectioniser sees the page's structure the same
 * way it sees Markdown. Scripts, styles and other non-content elements go.
 */

const skipped = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'iframe', 'object', 'canvas']);
const blocks = new Set([
  'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'nav', 'aside', 'ul', 'ol', 'table', 'tr',
  'blockquote', 'pre', 'figure', 'figcaption', 'form', 'fieldset', 'address', 'dl', 'dt', 'dd', 'hr', 'body', 'html',
]);

export function htmlToText(html: string): { text: string; title: string | undefined } {
  const out: string[] = [];
  let line = '';
  let skipDepth = 0;
  let preDepth = 0;
  /** Inside a `<pre>` that has no line yet. */
  let preFresh = false;
  let title: string | undefined;
  let inTitle = false;
  let cellIndex = 0;

  const flushLine = () => {
    const trimmed = preDepth > 0 ? line.replace(/\s+$/, '') : line.replace(/[ \t]+/g, ' ').trim();
    if (trimmed) out.push(trimmed);
    line = '';
  };
  const breakBlock = () => {
    flushLine();
    if (out.length > 0 && out.at(-1) !== '') out.push('');
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true;
        if (skipped.has(name)) {
          skipDepth++;
          return;
        }
        if (skipDepth > 0) return;
        const heading = /^h([1-6])$/.exec(name);
        if (heading) {
          breakBlock();
          line = `${'#'.repeat(Number(heading[1]))} `;
        } else if (name === 'li') {
          flushLine();
          line = '- ';
        } else if (name === 'br') {
          flushLine();
        } else if (name === 'tr') {
          flushLine();
          cellIndex = 0;
        } else if (name === 'td' || name === 'th') {
          if (cellIndex++ > 0) line += ' | ';
        } else if (name === 'pre') {
          breakBlock();
          // Fenced as Markdown code, so the sectioniser keeps it one block and never reads a `# comment` in it as a heading.
          if (preDepth++ === 0) {
            out.push('```');
            preFresh = true;
          }
        } else if (blocks.has(name)) {
          breakBlock();
        }
      },
      ontext(text) {
        if (inTitle) title = (title ?? '') + text;
        if (skipDepth > 0) return;
        line += preDepth > 0 ? text : text.replace(/\s+/g, ' ');
        if (preDepth > 0 && line.includes('\n')) {
          const lines = line.split('\n');
          line = lines.pop() ?? '';
          for (const preLine of lines) {
            // The newline right after `<pre>` is not content, as in a browser.
            if (preFresh && preLine.trim() === '') continue;
            preFresh = false;
            out.push(preLine.replace(/\s+$/, ''));
          }
        }
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (skipped.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth > 0) return;
        if (/^h[1-6]$/.test(name)) {
          if (/^#+ $/.test(line)) line = '';
          breakBlock();
        } else if (name === 'li' || name === 'tr') {
          flushLine();
        } else if (name === 'pre') {
          if (preDepth === 1) {
            flushLine();
            preFresh = false;
            out.push('```');
          }
          preDepth = Math.max(0, preDepth - 1);
          breakBlock();
        } else if (blocks.has(name)) {
          breakBlock();
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  flushLine();

  let text = out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  const cleanTitle = title?.replace(/\s+/g, ' ').trim() || undefined;
  // A page whose body has no heading still has a title: keep it as the top heading.
  if (cleanTitle && !/^#{1,6} /m.test(text)) text = `# ${cleanTitle}\n\n${text}`;
  return { text, title: cleanTitle };
}
