"""Held-out figures for the relevance cross-encoder against plain BM25.

    /usr/bin/python3 models/relevance/train/evaluate.py

Only tasks whose documents are held out (15%, by a hash of the path) are
read. Each task's candidates are the units of its document (ambiguous ones
left out, see data.py), ranked by the model and by BM25 (k1 1.2, b 0.75,
distill's stemmed, stop-worded terms, idf over the document's units):

- mrr: mean reciprocal rank of the first positive unit;
- pairwise: share of (positive, negative) pairs of a task ranked right (AUC);
- top1: share of tasks whose best-scored unit is a positive.

Ties count half (BM25 gives many zeros). `document` ranks every unit of the
document; `sampled` ranks the training-style candidate set (positives, and 8
negatives per positive, half random, half BM25-similar past the top 3).
Synthetic tasks and the weak reply pairs are reported apart, tasks also by
style. Writes eval.json next to this file.
"""

import os

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
os.environ.setdefault('OMP_NUM_THREADS', '2')

import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import AMBIGUOUS, BM25, CACHE, POSITIVE, load_replies, load_tasks, section_recipe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The hybrid row: model probability + this times the unit's BM25 over the document's best BM25.
HYBRID_BM25 = 0.5


def load_model():
    from cross_encoder import RelevanceModel
    saved = torch.load(os.path.join(CACHE, 'model.pt'))
    args = saved['args']
    model = RelevanceModel(saved['vocab'], args['hidden'], args['layers'], args['heads'], args['intermediate'], 128)
    model.fold_for_export()
    model.load_state_dict(saved['state'])
    model.eval()
    return model, section_recipe('common').WordPiece(saved['vocab'])


def scorer(model, tokenizer):
    from train import MAX_LENGTH, encode_pair

    def score(task, texts, size=128):
        task_pieces = tokenizer.pieces(task, limit=MAX_LENGTH)
        encoded = [encode_pair(tokenizer, task_pieces, tokenizer.pieces(text, limit=MAX_LENGTH)) for text in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
        out = [0.0] * len(texts)
        with torch.no_grad():
            for start in range(0, len(order), size):
                group = order[start:start + size]
                length = max(len(encoded[i][0]) for i in group)
                ids = torch.zeros((len(group), length), dtype=torch.long)
                types = torch.zeros_like(ids)
                mask = torch.zeros_like(ids)
                for row, i in enumerate(group):
                    tokens, kinds = encoded[i]
                    ids[row, :len(tokens)] = torch.tensor(tokens)
                    types[row, :len(tokens)] = torch.tensor(kinds)
                    mask[row, :len(tokens)] = 1
                probabilities = torch.sigmoid(model(ids, mask, types).squeeze(-1))
                for row, i in enumerate(group):
                    out[i] = float(probabilities[row])
        return out
    return score


def rank_figures(scores, labels):
    """mrr, pairwise accuracy and top-1 for one task's candidates (labels 1/0)."""
    positives = [s for s, label in zip(scores, labels) if label == 1]
    negatives = sorted(s for s, label in zip(scores, labels) if label == 0)
    import bisect
    pairs = 0.0
    for p in positives:
        below = bisect.bisect_left(negatives, p)
        ties = bisect.bisect_right(negatives, p) - below
        pairs += below + 0.5 * ties
    pairwise = pairs / (len(positives) * len(negatives))
    best = max(positives)
    above = len(negatives) - bisect.bisect_right(negatives, best)
    ties = bisect.bisect_right(negatives, best) - bisect.bisect_left(negatives, best)
    # Expected rank of the best positive when ties are broken at random.
    rank = 1 + above + 0.5 * ties
    return {'mrr': 1 / rank, 'pairwise': pairwise, 'top1': 1.0 if above == 0 and ties == 0 else (1 / (1 + ties) if above == 0 else 0.0)}


def mean_figures(rows):
    if not rows:
        return None
    return {key: round(sum(row[key] for row in rows) / len(rows), 4) for key in rows[0]} | {'tasks': len(rows)}


def evaluate_items(items, units_of, score):
    from train import sample_pairs
    rng = random.Random(7)
    results = {name: {'model': {}, 'bm25': {}, 'hybrid': {}} for name in ('document', 'sampled')}
    scored_pairs = 0
    for item in items:
        units = units_of[item['file']]
        labels = item['labels']
        if POSITIVE not in labels or 0 not in labels:
            continue
        keep = [i for i, label in enumerate(labels) if label != AMBIGUOUS]
        bm25 = BM25([unit['terms'] for unit in units]).scores(item['terms'])
        model = score(item['task'], [units[i]['text'] for i in keep])
        scored_pairs += len(keep)
        model_of = dict(zip(keep, model))
        style = item['style']
        groups = [style, 'all'] if style != 'reply' else ['reply']
        sampled = sample_pairs(item, [unit['terms'] for unit in units], rng)
        for name, candidates in (('document', keep), ('sampled', [i for i, _ in sampled])):
            candidate_labels = [labels[i] for i in candidates]
            top = max(bm25[i] for i in candidates) or 1.0
            hybrid = [model_of[i] + HYBRID_BM25 * bm25[i] / top for i in candidates]
            for method, values in (('model', [model_of[i] for i in candidates]), ('bm25', [bm25[i] for i in candidates]),
                                   ('hybrid', hybrid)):
                figures = rank_figures(values, candidate_labels)
                for group in groups:
                    results[name][method].setdefault(group, []).append(figures)
    summary = {name: {method: {group: mean_figures(rows) for group, rows in sorted(groups.items())}
                      for method, groups in methods.items()} for name, methods in results.items()}
    return summary, scored_pairs


def line(group, methods):
    rows = {method: methods[method].get(group) for method in ('model', 'bm25', 'hybrid')}
    if rows['model']:
        print(f'{group:11} n={rows["model"]["tasks"]:4}  ' + ' | '.join(
            f'{method} mrr {row["mrr"]:.3f} pw {row["pairwise"]:.3f} top1 {row["top1"]:.3f}' for method, row in rows.items()))


def main(model=None, tokenizer=None, extra=None):
    if model is None:
        model, tokenizer = load_model()
    score = scorer(model, tokenizer)
    started = time.time()
    documents, tasks = load_tasks()
    replies = load_replies()
    units_of = {file: document['units'] for file, document in documents.items()}
    for reply in replies:
        units_of[reply['file']] = reply['document']['units']
    held_tasks = [t for t in tasks if t['held_out']]
    held_replies = [r for r in replies if r['held_out']]
    synthetic, pairs_a = evaluate_items(held_tasks, units_of, score)
    weak, pairs_b = evaluate_items(held_replies, units_of, score)
    report = {
        'heldOutDocuments': len({t['file'] for t in held_tasks}),
        'heldOutTasks': len(held_tasks),
        'heldOutReplyPairs': len(held_replies),
        'synthetic': synthetic,
        'weakReplies': weak,
        'scoredPairs': pairs_a + pairs_b,
        'evalSeconds': round(time.time() - started, 1),
        **(extra or {}),
    }
    with open(os.path.join(HERE, 'eval.json'), 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2)
        handle.write('\n')
    for name in ('document', 'sampled'):
        print(f'-- {name} candidates')
        for group in ('all', 'paraphrase', 'lexical', 'multipart'):
            line(group, synthetic[name])
        line('reply', weak[name])
    return report


if __name__ == '__main__':
    main()
