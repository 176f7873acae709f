/**
 * distill's public API. Only re-exports live here; a test pins the list.
 */
export { createPipeline } from './pipeline.js';
export { stream } from './stream.js';
export { runStage } from './run-stage.js';
export type { LocalStageName, Pipeline, PipelineInput, PipelineOptions, PathInput } from './pipeline.js';
export { DistillDocument } from './document.js';
export type {
  DataMap,
  DocumentFormat,
  DocumentInit,
  DocumentMessage,
  DocumentStatus,
  Entity,
  RuleSaving,
  Section,
  SectionLabel,
  StageMetric,
} from './document.js';
export type { Stage, StageContext, StageFactory } from './stage.js';
export type { DistillRecord } from './record.js';
export type { SpanRecord } from './spans/trace.js';
export { buildReport, type ReportOptions } from './report/index.js';
export { SpendWatch, type AlertOptions, type SpendAlert } from './alerts.js';
export type { StageEvent } from './runner.js';
export { loadFile, loadInput, walkFiles, walkInputs, type DocumentInput, type LoadOptions, type WalkEntry, type WalkOptions } from './loaders/index.js';
export { countTokens, o200k, type Tokenizer } from './tokens.js';
export { costOf, defaultPrices, priceOf, type ModelPrice, type Usage } from './pricing.js';
export { sectionize, sectionsOf, setSections } from './sections.js';
export { ApiError, DistillError, LoadError, ModelLoadError, OptionError, StageError, UsageError } from './errors.js';
export {
  callModel,
  classifySections,
  createStage,
  extractEntities,
  filterBoilerplate,
  selectSections,
  stageNames,
  type CallModelOptions,
  type ClassifySectionsOptions,
  type ExtractEntitiesOptions,
  type FilterBoilerplateOptions,
  type SelectSectionsOptions,
  type StageName,
  type StageOptionsMap,
} from '../stages/index.js';
