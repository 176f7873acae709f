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
