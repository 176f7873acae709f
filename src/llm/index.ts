/**
 * The LLM stage's building blocks, for the CLI (`distill batch status|collect`)
 * and for embedders who want the scheduler or the cache on their own.
 */
export {
  batchCollect,
  batchLimits,
  batchStatus,
  defaultBatchDirectory,
  mergeBatchResults,
  pendingBatchKeys,
  splitBatch,
  submitBatch,
  type BatchClient,
  type BatchCollection,
  type BatchCollectOptions,
  type BatchItem,
  type BatchLine,
  type BatchManifest,
  type BatchResult,
  type BatchStatus,
  type BatchStatusOptions,
  type BatchSubmission,
  type MergeableRecord,
  type SubmitBatchOptions,
} from './batch.js';
export {
  cacheKey,
  defaultCacheDirectory,
  DiskCache,
  MemoryCache,
  openCache,
  RedisCache,
  type CacheEntry,
  type CacheSetting,
  type RedisCacheOptions,
  type ResponseCache,
} from './cache.js';
export { systemClock, VirtualClock, type Clock } from './clock.js';
export {
  AbortedError,
  AuthenticationError,
  BadRequestError,
  BatchError,
  CacheError,
  ConnectionError,
  NotFoundError,
  QuotaExceededError,
  RateLimitError,
  RunStoppedError,
  ServerError,
  TimeoutError,
  TokenLimitError,
} from './errors.js';
export { parseDuration, readRetryAfter, readServerLimits, SlidingWindowLimiter, type LimiterOptions, type ServerLimits } from './limiter.js';
export { classifyFailure, RetryPolicy, type Failure, type RetryOptions } from './retry.js';
export { defaultComplexTask, Router, type Route, type RouteRule } from './route.js';
export { RequestScheduler, SendFailure, type SchedulerOptions, type SchedulerStats } from './scheduler.js';
export { batchCommand, batchHelp, batchNotFinished, type BatchCommandIo, type BatchCommandOptions } from './batch-command.js';
