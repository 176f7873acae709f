"""Train the section classifier and export it in the transformers.js layout.

    /usr/bin/python3 models/section-classifier/train/build_data.py
    /usr/bin/python3 models/section-classifier/train/train.py [--epochs N] [--quick]

Deterministic: one seed for sampling, initialisation and dropout, one thread
order (torch.use_deterministic_algorithms). Writes ../onnx/model.onnx,
../config.json, ../tokenizer.json, ../tokenizer_config.json and
data/metrics.json (held-out figures computed with the PyTorch weights).
"""

import os

# Under CPU contention, spinning OpenMP threads cost ten times more than they save.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse
import hashlib
import json
import random
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from common import CONTENT, LABELS, MAX_LENGTH, NOISE, SPECIALS, WordPiece, build_vocab  # noqa: E402
from model import SectionClassifier  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
DATA = os.path.join(HERE, 'data')
SEED = 13
VOCAB_SIZE = 8000
HELD_OUT_PERCENT = 15
CAP_PER_LABEL = 2500  # per epoch, so narrative and licence text do not drown the rare labels
# Labels with many varied sources (prose from speeches, Wikipedia, email, manuals) need more examples per epoch,
# and held-out text is mostly these: a flat cap leaves the model biased against them.
CAP_SCALE = {'narrative': 6, 'legal': 2.5, 'code': 1.6, 'metadata': 1.2, 'quoted': 1.2}


def held_out(doc):
    return int(hashlib.sha1(doc.encode('utf-8')).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


def load():
    records = [json.loads(line) for line in open(os.path.join(DATA, 'sections.jsonl'), encoding='utf-8')]
    train = [r for r in records if not held_out(r['doc'])]
    test = [r for r in records if held_out(r['doc'])]
    return train, test


def batches(items, size, shuffle, rng):
    # Bucket by length so padding stays small; shuffle whole batches.
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(groups)
    for group in groups:
        length = max(len(items[i][0]) for i in group)
        ids = torch.zeros((len(group), length), dtype=torch.long)
        mask = torch.zeros((len(group), length), dtype=torch.long)
        for row, i in enumerate(group):
            tokens = items[i][0]
            ids[row, :len(tokens)] = torch.tensor(tokens)
            mask[row, :len(tokens)] = 1
        labels = torch.tensor([items[i][1] for i in group])
        yield ids, mask, labels, group


def draw(pool, sources, count, rng):
    """`count` items of one label, spread over its sources in proportion to the square root of their size
    (what a small source cannot fill goes to the others); a source is drawn without replacement up to its
    size and then repeated, at most four times over. So a label's rare source (disclaimers in email among
    licence texts) is not drowned, and a big one still gets the most."""
    groups = {}
    for item, source in zip(pool, sources):
        groups.setdefault(source, []).append(item)
    names = sorted(groups)
    quota = {name: 0 for name in names}
    left, open_names = count, list(names)
    while left > 0 and open_names:
        weights = {name: len(groups[name]) ** 0.5 for name in open_names}
        total = sum(weights.values())
        given = 0
        for name in list(open_names):
            take = min(max(1, int(left * weights[name] / total)), 4 * len(groups[name]) - quota[name], left - given)
            quota[name] += take
            given += take
            if quota[name] >= 4 * len(groups[name]):
                open_names.remove(name)
        left -= given
        if given == 0:
            break
    chosen = []
    for name in names:
        group, want = groups[name], quota[name]
        while want > 0:
            batch = rng.sample(group, min(want, len(group)))
            chosen.extend(batch)
            want -= len(batch)
    return chosen


def predict(model, items, size=128):
    model.eval()
    predictions = [0] * len(items)
    with torch.no_grad():
        for ids, mask, _, group in batches(items, size, False, None):
            logits = model(ids, mask, torch.zeros_like(ids))
            for row, i in enumerate(group):
                predictions[i] = int(logits[row].argmax())
    return predictions


def report(items, predictions):
    gold = [label for _, label in items]
    total = len(gold)
    correct = sum(1 for g, p in zip(gold, predictions) if g == p)
    noise_ids = {LABELS.index(label) for label in NOISE}
    per_label = {}
    for index, label in enumerate(LABELS):
        tp = sum(1 for g, p in zip(gold, predictions) if g == index and p == index)
        fp = sum(1 for g, p in zip(gold, predictions) if g != index and p == index)
        fn = sum(1 for g, p in zip(gold, predictions) if g == index and p != index)
        per_label[label] = {'support': tp + fn, 'precision': tp / (tp + fp) if tp + fp else None,
                            'recall': tp / (tp + fn) if tp + fn else None}
    noise_gold = [i for i, g in enumerate(gold) if g in noise_ids]
    content_gold = [i for i, g in enumerate(gold) if g not in noise_ids]
    binary = sum(1 for g, p in zip(gold, predictions) if (g in noise_ids) == (p in noise_ids))
    return {
        'sections': total,
        'accuracy': correct / total,
        'binaryAccuracy': binary / total,
        'noiseRecall': sum(1 for i in noise_gold if predictions[i] in noise_ids) / max(1, len(noise_gold)),
        'contentRecall': sum(1 for i in content_gold if predictions[i] not in noise_ids) / max(1, len(content_gold)),
        'perLabel': per_label,
    }


def write_tokenizer(vocab):
    added = [{'id': vocab[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True} for t in SPECIALS]
    special = lambda t: {'id': t, 'ids': [vocab[t]], 'tokens': [t]}  # noqa: E731
    tokenizer = {
        'version': '1.0',
        'truncation': {'direction': 'Right', 'max_length': MAX_LENGTH, 'strategy': 'LongestFirst', 'stride': 0},
        'padding': None,
        'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                       'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {t: special(t) for t in ['[CLS]', '[SEP]']},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': vocab},
    }
    with open(os.path.join(MODEL_DIR, 'tokenizer.json'), 'w', encoding='utf-8') as handle:
        json.dump(tokenizer, handle, ensure_ascii=False, separators=(',', ':'))
    config = {
        'tokenizer_class': 'BertTokenizer', 'do_lower_case': True, 'strip_accents': None,
        'tokenize_chinese_chars': True, 'model_max_length': MAX_LENGTH, 'unk_token': '[UNK]',
        'sep_token': '[SEP]', 'pad_token': '[PAD]', 'cls_token': '[CLS]', 'mask_token': '[MASK]',
        'clean_up_tokenization_spaces': True,
    }
    with open(os.path.join(MODEL_DIR, 'tokenizer_config.json'), 'w', encoding='utf-8') as handle:
        json.dump(config, handle, indent=2)
        handle.write('\n')


def write_config(vocab_size, args):
    config = {
        'architectures': ['BertForSequenceClassification'],
        'model_type': 'bert',
        'vocab_size': vocab_size,
        'hidden_size': args.hidden,
        'num_hidden_layers': args.layers,
        'num_attention_heads': args.heads,
        'intermediate_size': args.hidden * 2,
        'hidden_act': 'gelu',
        'max_position_embeddings': MAX_LENGTH,
        'type_vocab_size': 2,
        'pad_token_id': 0,
        'problem_type': 'single_label_classification',
        'id2label': {str(i): label for i, label in enumerate(LABELS)},
        'label2id': {label: i for i, label in enumerate(LABELS)},
        'distill': {'noise': NOISE, 'content': CONTENT, 'pooling': 'mean'},
    }
    with open(os.path.join(MODEL_DIR, 'config.json'), 'w', encoding='utf-8') as handle:
        json.dump(config, handle, indent=2)
        handle.write('\n')


def export(model, model_dir=MODEL_DIR):
    """The transformers.js layout's onnx/model.onnx; the relevance model's recipe exports through this too."""
    model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    os.makedirs(os.path.join(model_dir, 'onnx'), exist_ok=True)
    torch.onnx.export(
        model, (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        os.path.join(model_dir, 'onnx', 'model.onnx'),
        input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=['logits'],
        dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'},
                      'token_type_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch'}},
        opset_version=14, do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--hidden', type=int, default=128)
    parser.add_argument('--layers', type=int, default=2)
    parser.add_argument('--heads', type=int, default=2)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--quick', action='store_true', help='a few hundred steps, to check the plumbing')
    args = parser.parse_args()

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    started = time.time()

    train, test = load()
    docs = sorted({r['doc'] for r in train})
    vocab = build_vocab((r['text'] for r in train), VOCAB_SIZE)
    tokenizer = WordPiece(vocab)
    label_index = {label: i for i, label in enumerate(LABELS)}
    pieces = lambda rs: [(tokenizer.pieces(r['text']), label_index[r['label']]) for r in rs]  # noqa: E731
    by_label = {}
    for r in train:
        by_label.setdefault(r['label'], []).append(r)
    print(f'train {len(train)} sections from {len(docs)} documents, held out {len(test)}; vocab {len(vocab)}',
          flush=True)
    encoded = {label: pieces(rs) for label, rs in by_label.items()}
    sources = {label: [r['source'] for r in rs] for label, rs in by_label.items()}
    # Held-out figures here read each section's first window; evaluate.mjs reads all windows as the runtime does.
    test_items = [(tokenizer.window(p), label) for p, label in pieces(test)]

    model = SectionClassifier(len(vocab), len(LABELS), hidden=args.hidden, layers=args.layers, heads=args.heads,
                              intermediate=args.hidden * 2, max_positions=MAX_LENGTH)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    epochs = 1 if args.quick else args.epochs
    cap = 300 if args.quick else CAP_PER_LABEL
    per_epoch = sum(min(int(cap * CAP_SCALE.get(label, 1)), len(items)) for label, items in encoded.items())
    total_steps = epochs * (per_epoch // args.batch + 1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total_steps + 10,
                                                    pct_start=0.1)
    step = 0
    for epoch in range(epochs):
        model.train()
        items = []
        for label in sorted(encoded):
            for p, index in draw(encoded[label], sources[label], min(int(cap * CAP_SCALE.get(label, 1)),
                                                                      len(encoded[label])), rng):
                # A random window of a long section, as the runtime reads long sections in windows.
                span = MAX_LENGTH - 2
                start = rng.randrange(0, len(p) - span + 1) if len(p) > span and rng.random() < 0.5 else 0
                items.append((tokenizer.window(p, start), index))
        running = 0.0
        for ids, mask, labels, _ in batches(items, args.batch, True, rng):
            optimizer.zero_grad()
            loss = loss_fn(model(ids, mask, torch.zeros_like(ids)), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss)
            step += 1
            if step % 100 == 0:
                print(f'epoch {epoch + 1} step {step}/{total_steps} loss {running / 100:.4f} '
                      f'{time.time() - started:.0f}s', flush=True)
                running = 0.0
        metrics = report(test_items, predict(model, test_items))
        print(f'epoch {epoch + 1}: held-out accuracy {metrics["accuracy"]:.4f} '
              f'noise recall {metrics["noiseRecall"]:.4f} content recall {metrics["contentRecall"]:.4f}', flush=True)

    write_tokenizer(vocab)
    write_config(len(vocab), args)
    export(model)
    metrics['trainSeconds'] = round(time.time() - started, 1)
    metrics['trainSections'] = len(train)
    with open(os.path.join(DATA, 'metrics.json'), 'w') as handle:
        json.dump(metrics, handle, indent=2)
    print(json.dumps({k: v for k, v in metrics.items() if k != 'perLabel'}, indent=1))
    for label, figures in metrics['perLabel'].items():
        print(f'{label:12} {figures}')


if __name__ == '__main__':
    main()
