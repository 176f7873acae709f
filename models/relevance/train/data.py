"""The relevance data set: (task, unit) pairs labelled from the synthetic
tasks' verbatim evidence, the held-out split, and plain BM25 over the same
units. Reads cache/*.jsonl written by export.mts (distill's own loader,
sectioniser and BM25 analyser), so units are what the `sections` stage scores.

A unit is positive when the (whitespace-folded, lower-cased) overlap with an
evidence string covers at least 60% of the unit: the unit lies inside an
evidence string, or holds one that is >= 60% of it, or the two overlap across
a unit boundary (evidence that runs over a sentence split). A unit that holds
evidence below that share is ambiguous, and so is a short fragment (under 12
characters or 2 words: "-", "fi", "or") inside evidence: neither positive nor
negative, left out of training and of evaluation.
"""

import hashlib
import importlib.util
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, 'cache')
SECTION_TRAIN = os.path.join(HERE, '..', '..', 'section-classifier', 'train')

HELD_OUT_PERCENT = 15
POSITIVE, NEGATIVE, AMBIGUOUS = 1, 0, -1
MIN_SHARE = 0.6


def section_recipe(name):
    """A module of the section classifier's recipe (common, model, train), imported by path under a
    prefixed name, so its `model.py` and `train.py` never shadow ours."""
    key = f'section_classifier_{name}'
    if key in sys.modules:
        return sys.modules[key]
    if SECTION_TRAIN not in sys.path:
        sys.path.append(SECTION_TRAIN)  # its train.py imports `common` and `model` by plain name
    spec = importlib.util.spec_from_file_location(key, os.path.join(SECTION_TRAIN, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def held_out(path):
    """Whole documents are held out, chosen by a hash of their path inside the corpus (stable across machines)."""
    return int(hashlib.sha1(path.encode('utf-8')).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


def fold(text):
    return re.sub(r'\s+', ' ', text).strip().lower()


def _boundary_overlap(unit, evidence):
    """The longest run where the unit's end is the evidence's start, or the evidence's end is the unit's start."""
    best = 0
    for k in range(min(len(unit), len(evidence)), 0, -1):
        if unit.endswith(evidence[:k]) or unit.startswith(evidence[-k:]):
            best = k
            break
    return best


def label_unit(unit, evidence):
    """POSITIVE, NEGATIVE or AMBIGUOUS for one folded unit against folded evidence strings."""
    if not unit:
        return NEGATIVE
    short = len(unit) < 12 or len(re.findall(r'\w+', unit)) < 2
    result = NEGATIVE
    for item in evidence:
        if unit in item:
            if short:
                result = AMBIGUOUS
                continue
            return POSITIVE
        if item in unit:
            if len(item) >= MIN_SHARE * len(unit):
                return POSITIVE
            result = AMBIGUOUS
            continue
        if not short and (item[:20] in unit or item[-20:] in unit):
            overlap = _boundary_overlap(unit, item)
            if overlap >= MIN_SHARE * len(unit):
                return POSITIVE
            if overlap >= 20:
                result = AMBIGUOUS
    return result


def read_jsonl(name):
    path = os.path.join(CACHE, name)
    if not os.path.exists(path):
        sys.exit(f'{path} is missing: run `node --import tsx models/relevance/train/export.mts` first')
    with open(path, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_tasks():
    """Documents by file, and each task with its candidate units' labels."""
    documents = {d['file']: d for d in read_jsonl('documents.jsonl')}
    tasks = []
    for task in read_jsonl('tasks.jsonl'):
        document = documents.get(task['file'])
        if document is None:
            continue
        evidence = [fold(item) for item in task['evidence']]
        task['labels'] = [label_unit(fold(unit['text']), evidence) for unit in document['units']]
        task['held_out'] = held_out(task['path'])
        tasks.append(task)
    return documents, tasks


def load_replies():
    """Weak pairs: a quoted question, its reply (positive) and the email's other unquoted units (negatives)."""
    replies = []
    for email in read_jsonl('replies.jsonl'):
        quoted = [bool(re.match(r'\s*>', unit['text'])) for unit in email['units']]
        for pair in email['pairs']:
            labels = [AMBIGUOUS if quoted[i] else (POSITIVE if i == pair['answer'] else NEGATIVE)
                      for i in range(len(email['units']))]
            replies.append({'file': email['file'], 'path': email['path'], 'task': pair['question'],
                            'terms': pair['terms'], 'style': 'reply', 'labels': labels,
                            'held_out': held_out(email['path']), 'document': email})
    return replies


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75) over one document's units, with distill's stemmed terms
    (stages/sections/analyze.ts): the sentence-level part of stages/sections/score.ts."""

    def __init__(self, unit_terms, k1=1.2, b=0.75):
        self.units = unit_terms
        self.k1, self.b = k1, b
        self.average = sum(len(t) for t in unit_terms) / max(1, len(unit_terms))
        self.frequency = {}
        for terms in unit_terms:
            for term in set(terms):
                self.frequency[term] = self.frequency.get(term, 0) + 1

    def scores(self, query):
        query = list(dict.fromkeys(query))
        count = len(self.units)
        idf = {t: math.log(1 + (count - self.frequency[t] + 0.5) / (self.frequency[t] + 0.5))
               for t in query if t in self.frequency}
        out = []
        for terms in self.units:
            score = 0.0
            if terms and idf:
                for term, weight in idf.items():
                    f = terms.count(term)
                    if f:
                        score += weight * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * len(terms) / max(1, self.average)))
            out.append(score)
        return out
