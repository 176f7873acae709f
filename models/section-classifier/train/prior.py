"""Correct the exported model for the label sampling of training.

Training samples each label up to a cap per epoch, so rare labels (signature,
footer) are seen far more often than they occur, and the model learns a prior
that over-predicts them. Adding log(natural share) - log(sampled share) to the
classifier bias (logit adjustment) gives back the prior of the training split
as it occurs. Both shares come from the training split only; the held-out
documents play no part. Run once after train.py:

    /usr/bin/python3 models/section-classifier/train/prior.py

It rewrites ../onnx/model.onnx and notes the adjustment in ../config.json; a
second run does nothing.
"""

import json
import math
import os
import sys

import numpy
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from common import LABELS  # noqa: E402
from train import CAP_PER_LABEL, CAP_SCALE, MODEL_DIR, load  # noqa: E402


def adjustment():
    train, _ = load()
    natural = {label: 0 for label in LABELS}
    for record in train:
        natural[record['label']] += 1
    sampled = {label: min(int(CAP_PER_LABEL * CAP_SCALE.get(label, 1)), natural[label]) for label in LABELS}
    total_natural, total_sampled = sum(natural.values()), sum(sampled.values())
    return [math.log(natural[label] / total_natural) - math.log(sampled[label] / total_sampled) for label in LABELS]


def main():
    config_path = os.path.join(MODEL_DIR, 'config.json')
    config = json.load(open(config_path, encoding='utf-8'))
    if config.get('distill', {}).get('priorCorrection'):
        print('prior correction already applied')
        return
    shift = adjustment()
    model_path = os.path.join(MODEL_DIR, 'onnx', 'model.onnx')
    model = onnx.load(model_path)
    for initializer in model.graph.initializer:
        if initializer.name == 'classifier.bias':
            bias = numpy_helper.to_array(initializer).copy() + numpy.array(shift, dtype=numpy.float32)
            initializer.CopyFrom(numpy_helper.from_array(bias, initializer.name))
            break
    else:
        raise SystemExit('classifier.bias not found in the ONNX graph')
    onnx.save(model, model_path)
    config.setdefault('distill', {})['priorCorrection'] = {label: round(value, 4) for label, value in zip(LABELS, shift)}
    with open(config_path, 'w', encoding='utf-8') as handle:
        json.dump(config, handle, indent=2)
        handle.write('\n')
    print('bias shift:', {label: round(value, 2) for label, value in zip(LABELS, shift)})


if __name__ == '__main__':
    main()
