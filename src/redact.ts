/**
 * Secrets never leave the process in a message. A server may echo the API
 * key it was sent ("401 Incorrect API key provided: sk-…"), and that text
 * would otherwise reach records, stderr and the cache. Redaction replaces
 * the configured key wherever it appears, and anything shaped like a key:
 * OpenAI keys (`sk-…`, `sk-proj-…`, masked echoes such as `sk-ab***yz`) and
 * Bearer tokens.
 */

const keyShapes: readonly [RegExp, string][] = [
  // A token holds a digit; "Bearer bonds" in an answer is prose, not a secret.
  [/\bBearer\s+(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{8,}=*/g, 'Bearer [redacted]'],
  // Dots only inside (`sk-ab...yz`), so the full stop after a key in a sentence stays.
  [/\bsk-[A-Za-z0-9_*-]{3,}(?:\.+[A-Za-z0-9_*-]+)*/g, 'sk-[redacted]'],
];

/** Shorter values would redact ordinary words; such a key is no secret worth the name either. */
const minimumSecretLength = 8;

/**
 * `text` with every secret in `secrets` and every key-shaped string replaced by `[redacted]`.
 * @example
 * redactSecrets('401 Incorrect API key provided: sk-proj-abc123…') // '401 Incorrect API key provided: sk-[redacted]'
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = redactKnown(text, secrets);
  for (const [shape, replacement] of keyShapes) out = out.replace(shape, replacement);
  return out;
}

/** `text` with only the given secrets replaced: for text that holds a document, whose key-shaped examples are content. */
export function redactKnown(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= minimumSecretLength) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** A copy of plain data (a record, a cache entry) with every string redacted. */
export function redactDeep<Value>(value: Value, secrets: readonly (string | undefined)[] = []): Value {
  if (typeof value === 'string') return redactSecrets(value, secrets) as Value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets)) as Value;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, secrets)])) as Value;
  }
  return value;
}
