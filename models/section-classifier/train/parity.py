"""Check that the Python tokenizer used in training and the exported
tokenizer.json, as @huggingface/transformers reads it, give the same ids.

    /usr/bin/python3 models/section-classifier/train/parity.py
"""

import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import WordPiece  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
vocab = json.load(open(os.path.join(HERE, '..', 'tokenizer.json'), encoding='utf-8'))['model']['vocab']
tokenizer = WordPiece(vocab)
rows = [json.loads(line) for line in open(os.path.join(HERE, 'data', 'sections.jsonl'), encoding='utf-8')]
rng = random.Random(7)
texts = [row['text'] for row in rng.sample(rows, 3000)]
texts += [row['text'] for row in rows if not row['text'].isascii()][:1000]
script = """
import { AutoTokenizer, env } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
env.allowRemoteModels = false;
env.localModelPath = process.argv[2];
const tokenizer = await AutoTokenizer.from_pretrained('section-classifier');
const texts = JSON.parse(readFileSync(0, 'utf8'));
console.log(JSON.stringify(texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).slice(0, 512))));
"""
path = os.path.join(ROOT, '.parity-check.mjs')
open(path, 'w').write(script)
try:
    out = subprocess.run(['node', path, os.path.join(ROOT, 'models') + '/'], input=json.dumps(texts),
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
finally:
    os.remove(path)
node = json.loads(out)
mismatches = [(t, tokenizer.pieces(t), n) for t, n in zip(texts, node) if tokenizer.pieces(t) != n[:512]]
print(f'{len(texts) - len(mismatches)}/{len(texts)} texts tokenised identically')
for text, python, js in mismatches[:5]:
    at = next((i for i, (a, b) in enumerate(zip(python, js)) if a != b), min(len(python), len(js)))
    inverse = {v: k for k, v in vocab.items()}
    print(repr(text[:120]), [inverse.get(i) for i in python[at:at + 5]], [inverse.get(i) for i in js[at:at + 5]])
sys.exit(1 if mismatches else 0)
