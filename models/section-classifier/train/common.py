"""Shared pieces of the section-classifier recipe: labels, the sectioniser
(a port of src/sections.ts, so training sections look like runtime ones) and
a BERT WordPiece tokenizer that matches what @huggingface/transformers does
with the exported tokenizer.json (BertNormalizer + BertPreTokenizer + WordPiece)."""

import re
import unicodedata

# Order is the model's output order; `noise` labels are the default drop policy.
LABELS = [
    'narrative',   # prose that carries the document's content
    'figures',     # lists or tables with numbers
    'heading',     # a title or section heading on its own
    'code',        # source code, commands, program output
    'metadata',    # email or document header lines (From:, Date:, Subject: ...)
    'legal',       # licences, disclaimers, confidentiality notices, copyright
    'navigation',  # menus, breadcrumbs, tables of contents, next/previous links
    'signature',   # email signatures after "-- ", sign-offs with contact details
    'quoted',      # quoted replies ("> ...", "On ... wrote:")
    'footer',      # mailing-list furniture, unsubscribe and sponsor blurbs
    'references',  # reference lists, "see also", bibliographies
]
NOISE = ['legal', 'navigation', 'signature', 'quoted', 'footer', 'references']
CONTENT = [label for label in LABELS if label not in NOISE]
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
MAX_LENGTH = 64  # tokens per window, [CLS] and [SEP] included; long sections are read in windows
MAX_SECTION_CHARS = 1500

# ---------------------------------------------------------------- sections

_sentence_end = re.compile(r'(?<=[.!?])["\'”’)\]]?\s+(?=["“‘(\[]?[A-Z0-9])')


def split_sentences(text):
    # Python lookbehind must be fixed width, so the optional closer is consumed
    # here and glued back to its sentence below.
    out = []
    last = 0
    for match in _sentence_end.finditer(text):
        closer = re.match(r'["\'”’)\]]?', text[match.start():]).group(0)
        out.append(text[last:match.start() + len(closer)])
        last = match.end()
    out.append(text[last:])
    return [s.strip() for s in out if s.strip()]


def split_long(block, limit=MAX_SECTION_CHARS):
    if len(block) <= limit:
        return [block]
    pieces, current = [], ''
    for sentence in split_sentences(block):
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f'{current} {sentence}' if current else sentence
    if current:
        pieces.append(current)
    return pieces


def split_blocks(text):
    blocks = re.split(r'\n[ \t]*\n+|\f', text)
    blocks = [re.sub(r'^\n+|\s+$', '', b) for b in blocks]
    return [b for b in blocks if b.strip()]


# ---------------------------------------------------------------- tokenizer


def _is_punctuation(char):
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith('P')


def _is_control(char):
    if char in '\t\n\r':
        return False
    return unicodedata.category(char) in ('Cc', 'Cf')


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


_ascii_controls = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
_ascii_words = re.compile(r'[^\s!-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]')


def normalize(text):
    if text.isascii():
        # Fast path with the same result: no accents, no CJK, controls dropped.
        return _ascii_controls.sub('', text).lower()
    out = []
    for char in text:
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD or _is_control(char):
            continue
        if char.isspace():
            out.append(' ')
        elif _is_cjk(cp):
            out.append(f' {char} ')
        else:
            out.append(char)
    text = ''.join(out).lower()
    text = unicodedata.normalize('NFD', text)
    return ''.join(c for c in text if unicodedata.category(c) != 'Mn')


def pre_tokenize(text):
    if text.isascii():
        return _ascii_words.findall(text)
    words = []
    for chunk in text.split():
        current = ''
        for char in chunk:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                    current = ''
                words.append(char)
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPiece:
    def __init__(self, vocab):
        self.vocab = vocab  # token -> id
        self.unk = vocab['[UNK]']
        self._cache = {}

    def word_ids(self, word):
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > 100:
            ids = [self.unk]
        else:
            ids, start = [], 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else '##' + word[start:end]
                    if piece in self.vocab:
                        found = self.vocab[piece]
                        break
                    end -= 1
                if found is None:
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        if len(self._cache) < 500000:
            self._cache[word] = ids
        return ids

    def pieces(self, text, limit=512):
        """Word-piece ids without [CLS]/[SEP], at most `limit` of them."""
        ids = []
        for word in pre_tokenize(normalize(text)):
            ids.extend(self.word_ids(word))
            if len(ids) >= limit:
                break
        return ids[:limit]

    def window(self, pieces, start=0, max_length=MAX_LENGTH):
        return [self.vocab['[CLS]']] + pieces[start:start + max_length - 2] + [self.vocab['[SEP]']]

    def encode(self, text, max_length=MAX_LENGTH):
        return self.window(self.pieces(text), 0, max_length)


def build_vocab(texts, size):
    """A WordPiece vocabulary from corpus counts: every frequent character (as
    a word start and as a `##` continuation), the most frequent whole words,
    then the most useful word-start and `##` suffix pieces for the rest, so
    greedy longest-match covers rare words with few pieces."""
    from collections import Counter
    words = Counter()
    for text in texts:
        words.update(pre_tokenize(normalize(text)))
    chars = Counter()
    for word, count in words.items():
        for i, char in enumerate(word):
            chars[char if i == 0 else '##' + char] += count
    vocab = list(SPECIALS)
    seen = set(vocab)

    def add(token):
        if token not in seen and len(vocab) < size:
            seen.add(token)
            vocab.append(token)

    for token, count in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0])):
        if count >= 5:
            add(token)
    budget_words = int((size - len(vocab)) * 0.7)
    for word, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:budget_words]:
        add(word)
    pieces = Counter()
    for word, count in words.items():
        if word in seen or len(word) < 4:
            continue
        for n in range(2, min(len(word), 8)):
            pieces[word[:n]] += count * n
            pieces['##' + word[-n:]] += count * n
    for token, _ in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        add(token)
    return {token: i for i, token in enumerate(vocab)}
