"""Train the relevance cross-encoder and export it in the transformers.js layout.

    node --import tsx models/relevance/train/export.mts
    /usr/bin/python3 models/relevance/train/train.py [--epochs N] [--quick]

Deterministic: one seed for sampling, initialisation and dropout, two threads,
torch.use_deterministic_algorithms. Writes ../onnx/model.onnx, ../config.json,
../tokenizer.json, ../tokenizer_config.json, cache/model.pt and, through
evaluate.py, eval.json (held-out figures, model against BM25).
"""

import os

# Under CPU contention, spinning OpenMP threads cost ten times more than they save.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
os.environ.setdefault('OMP_NUM_THREADS', '2')

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cross_encoder import RelevanceModel, read_word_vectors  # noqa: E402
from data import BM25, CACHE, NEGATIVE, POSITIVE, load_replies, load_tasks, section_recipe  # noqa: E402

common = section_recipe('common')
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
SEED = 13
MAX_LENGTH = 128  # tokens per pair, [CLS] task [SEP] unit [SEP]
VOCAB_SIZE = 24000
GLOVE_WORDS = 30000  # the commonest GloVe words enter the vocabulary even when the training text lacks them
NEGATIVES_PER_POSITIVE = 6
MAX_POSITIVES = 8  # per task and epoch, so a long multipart answer does not outweigh the rest
SKIP_TOP = 3  # BM25's top non-positive units are often unlabelled positives: never negatives
HARD_POOL = 40  # lexically similar negatives come from BM25 ranks SKIP_TOP .. SKIP_TOP + HARD_POOL


def truncate(a, b, budget):
    """Longest-first truncation of two piece lists to `budget` pieces in all (stages/sections/relevance-model.ts does the same)."""
    if len(a) + len(b) <= budget:
        return a, b
    half = budget // 2
    if len(a) <= half:
        return a, b[:budget - len(a)]
    if len(b) <= budget - half:
        return a[:budget - len(b)], b
    return a[:half], b[:budget - half]


def encode_pair(tokenizer, task_pieces, unit_pieces):
    a, b = truncate(task_pieces, unit_pieces, MAX_LENGTH - 3)
    cls, sep = tokenizer.vocab['[CLS]'], tokenizer.vocab['[SEP]']
    ids = [cls] + a + [sep] + b + [sep]
    types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    return ids, types


def batches(items, size, shuffle, rng):
    """Items are (ids, types, label); bucketed by length so padding stays small; whole batches shuffled."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(groups)
    for group in groups:
        length = max(len(items[i][0]) for i in group)
        ids = torch.zeros((len(group), length), dtype=torch.long)
        types = torch.zeros((len(group), length), dtype=torch.long)
        mask = torch.zeros((len(group), length), dtype=torch.long)
        for row, i in enumerate(group):
            tokens = items[i][0]
            ids[row, :len(tokens)] = torch.tensor(tokens)
            types[row, :len(tokens)] = torch.tensor(items[i][1])
            mask[row, :len(tokens)] = 1
        labels = torch.tensor([float(items[i][2]) for i in group])
        yield ids, mask, types, labels, group


def sample_pairs(task, unit_terms, rng):
    """(unit index, label) pairs for one task: its positives, and per positive a mix of random negatives
    from the same document and lexically similar ones (BM25 ranks past the first few)."""
    labels = task['labels']
    positives = [i for i, label in enumerate(labels) if label == POSITIVE]
    negatives = [i for i, label in enumerate(labels) if label == NEGATIVE]
    if not positives or not negatives:
        return []
    if len(positives) > MAX_POSITIVES:
        positives = rng.sample(positives, MAX_POSITIVES)
    want = NEGATIVES_PER_POSITIVE * len(positives)
    ranked = task.get('_ranked')
    if ranked is None:
        scores = BM25(unit_terms).scores(task['terms'])
        ranked = [i for i in sorted(negatives, key=lambda i: -scores[i]) if scores[i] > 0]
        ranked = ranked[SKIP_TOP:SKIP_TOP + HARD_POOL]
        task['_ranked'] = ranked
    hard = rng.sample(ranked, min(len(ranked), want // 2))
    taken = set(hard)
    rest = [i for i in negatives if i not in taken]
    easy = rng.sample(rest, min(len(rest), want - len(hard)))
    return [(i, 1) for i in positives] + [(i, 0) for i in hard + easy]


def write_tokenizer(vocab):
    # The section classifier's writer, pointed at this model's folder and window.
    recipe = section_recipe('train')
    recipe.MODEL_DIR, recipe.MAX_LENGTH = MODEL_DIR, MAX_LENGTH
    recipe.write_tokenizer(vocab)


def write_config(vocab_size, args, extra):
    config = {
        'architectures': ['BertForSequenceClassification'],
        'model_type': 'bert',
        'vocab_size': vocab_size,
        'hidden_size': args.hidden,
        'num_hidden_layers': args.layers,
        'num_attention_heads': args.heads,
        'intermediate_size': args.intermediate,
        'hidden_act': 'gelu',
        'max_position_embeddings': MAX_LENGTH,
        'type_vocab_size': 2,
        'pad_token_id': 0,
        'id2label': {'0': 'relevant'},
        'label2id': {'relevant': 0},
        'distill': {'pooling': 'mean', 'output': 'sigmoid(logit) = P(unit serves the task)',
                    'pair': '[CLS] task [SEP] unit [SEP], longest-first truncation', **extra},
    }
    with open(os.path.join(MODEL_DIR, 'config.json'), 'w', encoding='utf-8') as handle:
        json.dump(config, handle, indent=2)
        handle.write('\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--hidden', type=int, default=128)
    parser.add_argument('--layers', type=int, default=2)
    parser.add_argument('--heads', type=int, default=2)
    parser.add_argument('--intermediate', type=int, default=256)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--replies', type=float, default=1.0, help='share of weak reply pairs to use (0 for none)')
    parser.add_argument('--quick', action='store_true', help='a few hundred steps, to check the plumbing')
    args = parser.parse_args()

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    started = time.time()

    documents, tasks = load_tasks()
    replies = load_replies() if args.replies > 0 else []
    train_tasks = [t for t in tasks if not t['held_out']]
    train_replies = [r for r in replies if not r['held_out']]
    train_replies = train_replies[:int(len(train_replies) * args.replies)]
    train_files = sorted({t['file'] for t in train_tasks} | {r['file'] for r in train_replies})
    units_of = {file: documents[file]['units'] for file in documents}
    for reply in replies:
        units_of[reply['file']] = reply['document']['units']

    # Vocabulary from training text only (never held-out documents), plus the commonest GloVe words.
    glove_words, _ = read_word_vectors()
    texts = [unit['text'] for file in train_files for unit in units_of[file]]
    texts += [t['task'] for t in train_tasks] + [r['task'] for r in train_replies]
    texts += [' '.join(glove_words[:GLOVE_WORDS])] * 3
    vocab = common.build_vocab(texts, VOCAB_SIZE)
    tokenizer = common.WordPiece(vocab)

    model = RelevanceModel(vocab, args.hidden, args.layers, args.heads, args.intermediate, MAX_LENGTH)
    print(f'train {len(train_tasks)} tasks + {len(train_replies)} reply pairs from {len(train_files)} documents; '
          f'held out {len(tasks) - len(train_tasks)} tasks; vocab {len(vocab)} ({model.word.covered} GloVe words)',
          flush=True)

    pieces = {}

    def pieces_of(text):
        cached = pieces.get(text)
        if cached is None:
            cached = pieces[text] = tokenizer.pieces(text, limit=MAX_LENGTH)
        return cached

    sources = [(t, units_of[t['file']]) for t in train_tasks] + [(r, units_of[r['file']]) for r in train_replies]
    unit_terms = {file: [unit['terms'] for unit in units] for file, units in units_of.items()}

    def epoch_items():
        items = []
        for task, units in sources:
            task_pieces = pieces_of(task['task'])
            for index, label in sample_pairs(task, unit_terms[task['file']], rng):
                ids, types = encode_pair(tokenizer, task_pieces, pieces_of(units[index]['text']))
                items.append((ids, types, label))
        return items

    decay = [p for n, p in model.named_parameters() if not n.endswith('bias') and 'norm' not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith('bias') or 'norm' in n]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}],
                                  lr=args.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    epochs = 1 if args.quick else args.epochs
    first = epoch_items()
    if args.quick:
        first = rng.sample(first, min(len(first), 3000))
    steps_per_epoch = len(first) // args.batch + 1
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=epochs * steps_per_epoch + 10,
                                                    pct_start=0.1)
    print(f'{len(first)} pairs per epoch ({sum(1 for item in first if item[2] == 1)} positive), '
          f'{time.time() - started:.0f}s', flush=True)
    step = 0
    for epoch in range(epochs):
        model.train()
        items = first if epoch == 0 else epoch_items()
        running, count = 0.0, 0
        for ids, mask, types, labels, _ in batches(items, args.batch, True, rng):
            optimizer.zero_grad()
            loss = loss_fn(model(ids, mask, types).squeeze(-1), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss)
            count += 1
            step += 1
            if step % 200 == 0:
                print(f'epoch {epoch + 1} step {step}/{epochs * steps_per_epoch} loss {running / count:.4f} '
                      f'{time.time() - started:.0f}s', flush=True)
                running, count = 0.0, 0
    train_seconds = time.time() - started

    model.eval()
    covered = model.word.covered
    model.fold_for_export()
    os.makedirs(CACHE, exist_ok=True)
    torch.save({'state': model.state_dict(), 'vocab': vocab, 'args': vars(args)}, os.path.join(CACHE, 'model.pt'))
    write_tokenizer(vocab)
    write_config(len(vocab), args, {'trainSeconds': round(train_seconds), 'seed': SEED})
    section_recipe('train').export(model, MODEL_DIR)
    print(f'trained and exported in {time.time() - started:.0f}s', flush=True)

    import evaluate
    evaluate.main(model, tokenizer, extra={'trainSeconds': round(train_seconds), 'trainTasks': len(train_tasks),
                                           'trainReplies': len(train_replies), 'trainDocuments': len(train_files),
                                           'pairsPerEpoch': len(first), 'epochs': epochs, 'vocab': len(vocab),
                                           'gloveWords': covered, 'args': vars(args)})


if __name__ == '__main__':
    main()
