"""Draw the hand-check sample: a seeded, fixed number of sections per label,
from the built data, printed as Markdown for a person to read and mark.

    /usr/bin/python3 models/section-classifier/train/sample.py [--per-label 6] > /tmp/sample.md

The marked result is kept in hand-check.md beside this script.
"""

import argparse
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 13

parser = argparse.ArgumentParser()
parser.add_argument('--per-label', type=int, default=6)
args = parser.parse_args()
rows = [json.loads(line) for line in open(os.path.join(HERE, 'data', 'sections.jsonl'), encoding='utf-8')]
rng = random.Random(SEED)
by_label = {}
for row in rows:
    by_label.setdefault(row['label'], []).append(row)
for label in sorted(by_label):
    for row in rng.sample(by_label[label], min(args.per_label, len(by_label[label]))):
        text = row['text'][:300].replace('\n', ' ⏎ ').replace('|', '¦')
        print(f"| {label} | {row['source']} | `{row['doc'][-40:]}` | {text} |")
