"""The relevance cross-encoder: the section classifier's BERT-shaped encoder
(../../section-classifier/train/model.py, imported, not copied) with one
logit, whose word embeddings start from GloVe.

While training, a word piece that is a whole GloVe word is embedded as
glove(word) @ projection + residual(word): the 100 -> hidden projection is
learned and the residual starts at zero, so words the training data never
shows (a task's paraphrase) move with the words it does show, and keep their
GloVe neighbourhoods. Other pieces have only the residual. For export the sum
is folded into one plain embedding table, so the ONNX graph is a plain BERT.
"""

import os

import numpy
import torch
from torch import nn

from data import section_recipe

SectionClassifier = section_recipe('model').SectionClassifier

WORD_VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'word-vectors')


def read_word_vectors():
    """The shipped 50k-word GloVe table (models/word-vectors): unit vectors, int8 with a float32 scale per row."""
    words = open(os.path.join(WORD_VECTORS, 'words.txt'), encoding='utf-8').read().split('\n')
    words = [word for word in words if word]
    table = numpy.fromfile(os.path.join(WORD_VECTORS, 'vectors.i8'), dtype=numpy.int8).astype(numpy.float32)
    scales = numpy.fromfile(os.path.join(WORD_VECTORS, 'scales.f32'), dtype=numpy.float32)
    vectors = table.reshape(len(words), -1) * scales[:, None]
    return words, vectors


class GloveEmbedding(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        words, vectors = read_word_vectors()
        row = {word: index for index, word in enumerate(words)}
        glove = numpy.zeros((len(vocab), vectors.shape[1]), dtype=numpy.float32)
        has = numpy.zeros(len(vocab), dtype=bool)
        for token, index in vocab.items():
            at = row.get(token)
            if at is not None:
                glove[index] = vectors[at]
                has[index] = True
        self.covered = int(has.sum())
        self.register_buffer('glove', torch.from_numpy(glove))
        # Orthonormal rows keep GloVe's dot products at the start; the scale gives each dimension unit variance,
        # as nn.Embedding's default does for the other pieces, so words are not drowned by positions.
        projection = torch.empty(vectors.shape[1], hidden)
        nn.init.orthogonal_(projection)
        self.projection = nn.Parameter(projection * hidden ** 0.5)
        residual = torch.randn(len(vocab), hidden)
        residual[torch.from_numpy(has)] = 0.0
        residual[0] = 0.0
        self.residual = nn.Parameter(residual)

    def forward(self, ids):
        return self.glove[ids] @ self.projection + self.residual[ids]

    def folded(self):
        with torch.no_grad():
            return self.glove @ self.projection + self.residual


class RelevanceModel(SectionClassifier):
    def __init__(self, vocab, hidden, layers, heads, intermediate, max_positions, dropout=0.1):
        super().__init__(len(vocab), 1, hidden=hidden, layers=layers, heads=heads, intermediate=intermediate,
                         max_positions=max_positions, dropout=dropout)
        # SectionClassifier.forward embeds with self.word(input_ids).
        self.word = GloveEmbedding(vocab, hidden)
        # Positions and segments are cues on top of the words, not their equals (nn.Embedding's default is std 1).
        nn.init.normal_(self.position.weight, std=0.2)
        nn.init.normal_(self.token_type.weight, std=0.2)

    def fold_for_export(self):
        """Replace the GloVe composite with one plain embedding table (same outputs)."""
        folded = self.word.folded()
        table = nn.Embedding(folded.shape[0], folded.shape[1], padding_idx=0)
        table.weight.data.copy_(folded)
        self.word = table
        return self
