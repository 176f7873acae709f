/**
 * Baselines for budgeted distillation, under exactly the same budget and
 * tokenizer as our stage, so benches compare like with like:
 * - head truncation: the first `budget` o200k tokens;
 * - LangChain.js: `RecursiveCharacterTextSplitter` chunks ranked by
 *   `BM25Retriever` for the task, the best chunks kept until the budget is full.
 */
import { BM25Retriever } from '@langchain/community/retrievers/bm25';
import { Document } from '@langchain/core/documents';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { o200k, type Tokenizer } from '../src/tokens.js';
import { terms } from '../stages/sections/analyze.js';

// Head truncation is shared with `distill bench`, so both compare against the very same baseline.
export { headTruncate } from '../src/measure.js';

export interface LangChainBm25Options {
  /** Chunk size in characters, the splitter's own unit (about 125 o200k tokens of English). @default 500 */
  chunkSize?: number;
  /** @default 50 */
  chunkOverlap?: number;
  /**
   * Case-fold chunks and task (and turn punctuation into spaces) before
   * ranking. BM25Retriever lower-cases the query but not the chunks, so as
   * shipped a capitalised word never matches; this variant shows what the
   * retriever does without that handicap. The kept chunks are the originals.
   * @default false
   */
  caseFold?: boolean;
  tokenizer?: Tokenizer;
}

/** LangChain.js chunks of `text`, ranked best first by BM25Retriever for `task`. Split once, pack at many budgets. */
export async function langchainRank(text: string, task: string, options: LangChainBm25Options = {}): Promise<string[]> {
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: options.chunkSize ?? 500, chunkOverlap: options.chunkOverlap ?? 50 });
  const chunks = await splitter.splitText(text);
  if (chunks.length === 0) return [];
  const fold = options.caseFold ? (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}\s]+/gu, ' ') : (text: string) => text;
  const retriever = BM25Retriever.fromDocuments(
    chunks.map((chunk, index) => new Document({ pageContent: fold(chunk), metadata: { index } })),
    { k: chunks.length },
  );
  return (await retriever.invoke(fold(task))).map((chunk) => chunks[chunk.metadata.index as number]!);
}

/** Ranked chunks kept best first while the joined text (blank line between chunks, as a RAG prompt would) fits `budget`. */
export function packChunks(ranked: readonly string[], budget: number, tokenizer: Tokenizer = o200k): string {
  const kept: string[] = [];
  let used = 0;
  for (const chunk of ranked) {
    const cost = tokenizer.count(chunk) + (kept.length > 0 ? 1 : 0);
    if (used + cost > budget) continue;
    kept.push(chunk);
    used += cost;
  }
  let result = kept.join('\n\n');
  // Joins can merge tokens either way: recount and drop the weakest until the exact count fits.
  while (kept.length > 0 && tokenizer.count(result) > budget) {
    kept.pop();
    result = kept.join('\n\n');
  }
  return result;
}

/**
 * LangChain.js retrieval under a budget: `RecursiveCharacterTextSplitter`
 * chunks (sized in o200k tokens) ranked by `BM25Retriever` against the
 * task, the best kept until the budget is full.
 */
export async function langchainBm25(text: string, task: string, budget: number, options: LangChainBm25Options = {}): Promise<string> {
  return packChunks(await langchainRank(text, task, options), budget, options.tokenizer ?? o200k);
}

/** Sentences (and lines of lists or tables) of a text, verbatim, in order: a plain splitter that knows no structure. */
export function plainSentences(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\n[ \t]*\n+|\f/)) {
    const lines = block.split('\n');
    // A block of short lines (a list, a table, headers) is cut at its lines; prose at its sentence ends.
    const pieces = lines.length > 1 && lines.every((line) => line.length < 100) ? lines : [block.replace(/\s*\n\s*/g, ' ')];
    for (const piece of pieces) for (const sentence of piece.split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[\p{Lu}\d])/u)) if (sentence.trim() !== '') out.push(sentence.trim());
  }
  return out;
}

/**
 * BM25 sentence top-k, the plain lexical baseline: sentences ranked by BM25
 * (k1 1.2, b 0.75) against the task, with distill's stemmed terms, the best
 * kept in document order, one a line, while the text fits `budget`.
 */
export function bm25Sentences(text: string, task: string, budget: number, tokenizer: Tokenizer = o200k): string {
  const sentences = plainSentences(text);
  const documents = sentences.map((sentence) => terms(sentence));
  const query = [...new Set(terms(task))];
  const average = documents.reduce((sum, document) => sum + document.length, 0) / Math.max(1, documents.length);
  const frequency = new Map<string, number>();
  for (const document of documents) for (const term of new Set(document)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const scores = documents.map((document) => {
    let score = 0;
    for (const term of query) {
      const count = document.filter((candidate) => candidate === term).length;
      if (count === 0) continue;
      const df = frequency.get(term) ?? 0;
      const idf = Math.log(1 + (documents.length - df + 0.5) / (df + 0.5));
      score += (idf * count * 2.2) / (count + 1.2 * (0.25 + (0.75 * document.length) / Math.max(1, average)));
    }
    return score;
  });
  const order = sentences.map((_, index) => index).sort((left, right) => scores[right]! - scores[left]! || left - right);
  const chosen = new Set<number>();
  let used = 0;
  for (const index of order) {
    const cost = tokenizer.count(sentences[index]!) + 1;
    if (used + cost > budget) continue;
    chosen.add(index);
    used += cost;
  }
  const render = () => [...chosen].sort((left, right) => left - right).map((index) => sentences[index]!).join('\n');
  let result = render();
  while (chosen.size > 0 && tokenizer.count(result) > budget) {
    chosen.delete([...chosen].sort((left, right) => scores[left]! - scores[right]!)[0]!);
    result = render();
  }
  return result;
}
