/**
 * The one object that flows through every stage (after vfile): it carries the
 * current text (`value`), what the loader saw (`original`), typed `data` that
 * stages use to talk to each other, and the messages raised along the way.
 */

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'email';

export type DocumentStatus = 'ok' | 'skipped' | 'error';

/** A warning lets the pipeline go on; a fatal message marks the document `error`. */
export interface DocumentMessage {
  /** `stage:rule`, for example `regex:email-signature`, so users can name it to turn it off. */
  origin: string;
  reason: string;
  fatal: boolean;
  /** What the user can do about it, where there is something. */
  fix?: string;
  /** A stable code for external failures (model load, API, parse). */
  code?: string;
}

/** One structural unit of a document: a heading's body, a paragraph, a PDF page, an email part. */
export interface Section {
  /** Stable for the life of the document, so labels and entities can refer to it. */
  id: string;
  /** The heading path above this section, outermost first. */
  headings: string[];
  kind: 'heading' | 'paragraph' | 'list' | 'table' | 'code' | 'page' | 'part' | 'quote';
  text: string;
}

export interface SectionLabel {
  label: string;
  score: number;
}

export interface SectionPrior {
  label: string;
  /** The rule that set it, `stage:rule`. */
  origin: string;
}

export interface Entity {
  type: 'person' | 'place' | 'organization' | 'date' | 'money' | 'percent' | 'number' | 'email' | 'url' | 'phone';
  text: string;
  normalized?: string | number;
  /** The section id the entity was found in. */
  section: string;
  /** Character offsets into that section's text. */
  start: number;
  end: number;
}

/** Tokens removed by one named rule of a stage (regex rules, classifier labels). */
export interface RuleSaving {
  rule: string;
  hits: number;
  tokensRemoved: number;
}

/**
 * Typed data that stages share. Stages never reach into each other; they
 * read and write here. Extend it with declaration merging for new keys.
 */
export interface DataMap {
  /** Set by whoever first needs structure; see `src/sections.ts`. */
  sections?: Section[];
  /** o200k tokens of `original`, when the runner counted them (saves counting the whole text again for the record). */
  originalTokens?: number;
  /** Prompt tokens of `original` wrapped for `task` (see src/prompt.ts), when a thread counted them where its count memo was warm. */
  originalPromptTokens?: { task: string; tokens: number };
  /** The `value` the sections were cut from: when `value` changes, sections are stale. */
  sectionsOf?: string;
  /** Classifier output by section id. */
  labels?: Record<string, SectionLabel>;
  /**
   * What a task-independent stage thinks a section may be (a quoted reply, a
   * signature, a disclaimer), by section id: a prior that selection weighs
   * against the task, instead of a deletion made before the task was seen.
   */
  priors?: Record<string, SectionPrior>;
  entities?: Entity[];
  /** Per-rule savings of the stage that is running, moved onto its stage metric by the runner. */
  ruleSavings?: RuleSaving[];
  /** The chat request the LLM stage sent or would send. */
  request?: unknown;
  response?: string;
  usage?: { promptTokens: number; cachedTokens: number; completionTokens: number };
  /** Extra stage-specific fields to copy into the output record. */
  [key: string]: unknown;
}

export interface StageMetric {
  stage: string;
  tokensIn: number;
  tokensOut: number;
  ms: number;
  rules?: RuleSaving[];
  /** Set when the stage did not run on this document (an earlier fatal error or a skip). */
  skipped?: boolean;
}

export interface DocumentInit {
  id: string;
  /** Where the document came from: a path, or the caller's id. */
  source?: string;
  format?: DocumentFormat;
  text: string;
  metadata?: Record<string, unknown>;
  /** Labels to group costs by in the report (`feature: search`, `user: 42`); see `PipelineOptions.tags`. */
  tags?: Record<string, string>;
}

/** Everything a document carries, as plain data: what crosses to a worker thread and back. */
export interface DocumentState {
  id: string;
  source: string;
  format: DocumentFormat;
  original: string;
  value: string;
  metadata: Record<string, unknown>;
  tags: Record<string, string>;
  data: DataMap;
  messages: DocumentMessage[];
  stages: StageMetric[];
  status: DocumentStatus;
}

export class DistillDocument {
  readonly id: string;
  readonly source: string;
  readonly format: DocumentFormat;
  /** The text as loaded, nothing removed; `tokens.original` counts this. */
  readonly original: string;
  /** The current text; each stage may replace it. */
  value: string;
  metadata: Record<string, unknown>;
  /** Labels to group costs by; they go into the record. */
  tags: Record<string, string>;
  data: DataMap = {};
  messages: DocumentMessage[] = [];
  stages: StageMetric[] = [];
  status: DocumentStatus = 'ok';

  constructor(init: DocumentInit) {
    this.id = init.id;
    this.source = init.source ?? init.id;
    this.format = init.format ?? 'text';
    this.original = init.text;
    this.value = init.text;
    this.metadata = init.metadata ?? {};
    this.tags = { ...init.tags };
  }

  /** Record a warning; the document goes on. */
  message(reason: string, origin: string, extra: Partial<Pick<DocumentMessage, 'fix' | 'code'>> = {}): DocumentMessage {
    const message: DocumentMessage = { origin, reason, fatal: false, ...extra };
    this.messages.push(message);
    return message;
  }

  /** Mark this document failed; later stages skip it, the run goes on. */
  fail(reason: string, origin: string, extra: Partial<Pick<DocumentMessage, 'fix' | 'code'>> = {}): DocumentMessage {
    const message: DocumentMessage = { origin, reason, fatal: true, ...extra };
    this.messages.push(message);
    this.status = 'error';
    return message;
  }

  /** Take this document out of the run on purpose (a document-level filter, a cost cap, an input with nothing to read). */
  skip(reason: string, origin: string, extra: Partial<Pick<DocumentMessage, 'fix'>> = {}): DocumentMessage {
    const message: DocumentMessage = { origin, reason, fatal: false, ...extra };
    this.messages.push(message);
    this.status = 'skipped';
    return message;
  }

  /** This document as plain data (structured-cloneable). */
  toState(): DocumentState {
    const { id, source, format, original, value, metadata, tags, data, messages, stages, status } = this;
    return { id, source, format, original, value, metadata, tags, data, messages, stages, status };
  }

  /** A document from `toState()`'s data, as it was. */
  static fromState(state: DocumentState): DistillDocument {
    const doc = new DistillDocument({ id: state.id, source: state.source, format: state.format, text: state.original, metadata: state.metadata, tags: state.tags });
    doc.value = state.value;
    doc.data = state.data;
    doc.messages = state.messages;
    doc.stages = state.stages;
    doc.status = state.status;
    return doc;
  }

  /** True while stages should still run on this document. */
  get active(): boolean {
    return this.status === 'ok';
  }
}
