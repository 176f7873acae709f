import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { DistillDocument, type DocumentFormat } from '../document.js';
import { DistillError, LoadError } from '../errors.js';
import { decodeText, looksBinaryText } from './encoding.js';
import { htmlToText } from './html.js';
import { formatsByExtension, looksBinary, looksLikeText, sniffFormat, supportedExtensions } from './sniff.js';
import { readablePath } from './walk.js';

export { readablePath, walkFiles, walkInputs, type WalkEntry, type WalkOptions } from './walk.js';
export { formatsByExtension, looksLikeText, sniffFormat, supportedExtensions } from './sniff.js';
export { htmlToText } from './html.js';

/** A file to read, by path; `id` defaults to the path. A Buffer path is a name that is not UTF-8, as `walkInputs` gives it. */
export interface PathInput {
  path: string | Buffer;
  id?: string;
  /** Labels to group costs by (the CLI gives each file its folder). */
  tags?: Record<string, string>;
}

/** How files are read. */
export interface LoadOptions {
  /**
   * Files larger than this many bytes are skipped unread, with a reason, so one
   * huge file cannot take the run's memory (`--max-bytes` on the command line).
   * @default 50_000_000 (50 MB)
   */
  maxBytes?: number;
}

export const defaultMaxBytes = 50_000_000;

/** A document handed in by a caller rather than read from disk (library API, stdin JSONL). */
export interface DocumentInput {
  id: string;
  text?: string;
  /** Raw bytes, for binary formats (a PDF) or raw email. */
  bytes?: Uint8Array;
  format?: DocumentFormat;
  metadata?: Record<string, unknown>;
  /** Shown in records and messages; defaults to `id`. */
  source?: string;
  /** Labels to group costs by (`tags` in a JSONL line). */
  tags?: Record<string, string>;
}

/**
 * Read one file into a document. Never throws: a file that cannot be loaded
 * becomes a document with status `error` or `skipped` and a message that
 * names the problem and the fix, so every input appears in the output.
 */
export async function loadFile(file: string | Buffer, id?: string, options: LoadOptions = {}): Promise<DistillDocument> {
  // A Buffer path is opened as those bytes; records show it readably.
  const path = readablePath(file);
  id ??= path;
  const extension = extname(path).toLowerCase();
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  let bytes: Uint8Array;
  try {
    const read = await readAtMost(file, maxBytes);
    if ('size' in read) {
      const doc = new DistillDocument({ id, source: path, format: formatsByExtension[extension] ?? 'text', text: '', metadata: { bytes: read.size } });
      doc.skip(`file is ${formatSize(read.size)}${read.atLeast ? ' or more' : ''}, larger than --max-bytes (${formatSize(maxBytes)}): not loaded`, 'load:max-bytes', {
        fix: 'raise --max-bytes (maxBytes in the config file or the API) to read it, or split the file',
      });
      return doc;
    }
    bytes = read.bytes;
  } catch (error) {
    return failed(path, 'text', new LoadError(`cannot read file: ${(error as Error).message}`, { cause: error, code: 'E_READ', fix: 'check the path and its permissions' }), id);
  }
  // A name with no extension (README, LICENSE, a mail folder's 1234) says nothing: the content decides.
  const format = sniffFormat(bytes) ?? formatsByExtension[extension] ?? (extension === '' && looksLikeText(bytes) ? 'text' : undefined);
  if (bytes.length === 0) {
    const doc = new DistillDocument({ id, source: path, format: format ?? 'text', text: '' });
    doc.skip('empty file (0 bytes): nothing to distill', 'load:empty');
    return doc;
  }
  if (!format) {
    const doc = new DistillDocument({ id, source: path, text: '' });
    const kind = extension ? ` "${extension}"` : ' (no extension, and the content is not text)';
    doc.skip(`unsupported file type${kind}: distill reads ${supportedExtensions.join(', ')}, and text files with no extension`, 'load:unsupported', {
      fix: 'convert the file to one of those formats, or leave it out of the input folder',
    });
    return doc;
  }
  const doc = await loadBytes({ id, source: path, bytes, format });
  if (typeof file !== 'string' && path !== file.toString('utf8')) {
    doc.message(`the file name is not valid UTF-8: shown decoded as Latin-1 (${path})`, 'load:file-name', { fix: 'rename the file with a UTF-8 name' });
  }
  return doc;
}

/** Load a caller-supplied document (text or bytes) with the same rules as a file. */
export async function loadInput(input: DocumentInput): Promise<DistillDocument> {
  const source = input.source ?? input.id;
  if (input.text !== undefined) {
    const format = input.format ?? 'text';
    if (format === 'pdf') return failed(source, format, new LoadError('a PDF must be given as `bytes`, not `text`', { fix: 'pass the file contents as a Uint8Array in `bytes`' }), input.id);
    if (format === 'html' || format === 'email') return loadBytes({ ...input, source, bytes: new TextEncoder().encode(input.text), format });
    return new DistillDocument({ id: input.id, source, format, text: input.text, metadata: input.metadata ?? {} });
  }
  if (input.bytes !== undefined) {
    const format = input.format ?? sniffFormat(input.bytes) ?? 'text';
    return loadBytes({ ...input, source, bytes: input.bytes, format });
  }
  return failed(source, input.format ?? 'text', new LoadError('the document has neither `text` nor `bytes`', { fix: 'give each document a `text` string or a `bytes` Uint8Array' }), input.id);
}

async function loadBytes(input: { id: string; source: string; bytes: Uint8Array; format: DocumentFormat; metadata?: Record<string, unknown> }): Promise<DistillDocument> {
  const { id, source, bytes, format } = input;
  const metadata: Record<string, unknown> = { ...input.metadata, bytes: bytes.length };
  try {
    if (format === 'pdf') {
      // PDF and MIME parsers load on first use: a run over text files never pays for them.
      const { pdfToText } = await import('./pdf.js');
      const { text, pages } = await pdfToText(bytes);
      return new DistillDocument({ id, source, format, text, metadata: { ...metadata, pages } });
    }
    const { text: decoded, encoding, lossy } = decodeText(bytes);
    const utf16 = encoding === 'utf-16le' || encoding === 'utf-16be';
    if (utf16 ? looksBinaryText(decoded) : looksBinary(bytes)) {
      throw new LoadError(`binary content in a ${format} file`, {
        code: 'E_BINARY',
        fix: 'this does not look like text: check the file type, or leave it out of the input folder',
      });
    }
    if (utf16) metadata.encoding = encoding;
    if (format === 'email') {
      const { emailToText } = await import('./email.js');
      // The MIME parser reads bytes as 8-bit text; a UTF-16 message goes in as the UTF-8 of its text.
      const { text, subject, attachments, warnings } = await emailToText(utf16 ? Buffer.from(decoded) : bytes);
      const doc = new DistillDocument({ id, source, format, text, metadata: { ...metadata, subject, attachments } });
      for (const warning of warnings) doc.message(warning.reason, warning.origin, { fix: warning.fix });
      return doc;
    }
    const doc =
      format === 'html'
        ? (() => {
            const { text, title } = htmlToText(decoded);
            return new DistillDocument({ id, source, format, text, metadata: { ...metadata, title } });
          })()
        : new DistillDocument({ id, source, format, text: decoded.replace(/\r\n?/g, '\n'), metadata });
    if (lossy) {
      const reason = utf16 ? `not valid ${encoding.toUpperCase()}: some characters could not be decoded` : 'not valid UTF-8: decoded as Latin-1, some characters may be wrong';
      doc.message(reason, 'load:encoding', { fix: 'save the file as UTF-8' });
    }
    return doc;
  } catch (error) {
    const loadError = error instanceof DistillError ? error : new LoadError(`cannot load ${format}: ${(error as Error).message}`, { cause: error });
    return failed(source, format, loadError, id);
  }
}

/** The file's bytes, or its size when that is over `maxBytes`: a regular file by its size, unread; a pipe by reading one chunk past the limit. */
async function readAtMost(file: string | Buffer, maxBytes: number): Promise<{ bytes: Buffer } | { size: number; atLeast?: boolean }> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isFile()) {
      if (info.size > maxBytes) return { size: info.size };
      const bytes = await handle.readFile();
      // It may have grown since the stat.
      return bytes.length > maxBytes ? { size: bytes.length } : { bytes };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(65_536), 0, 65_536, null);
      if (bytesRead === 0) return { bytes: Buffer.concat(chunks, total) };
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) return { size: total, atLeast: true };
    }
  } finally {
    await handle.close();
  }
}

function formatSize(bytes: number): string {
  return bytes < 1_000_000 ? `${bytes.toLocaleString('en-US')} bytes` : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function failed(source: string, format: DocumentFormat, error: DistillError, id = source): DistillDocument {
  const doc = new DistillDocument({ id, source, format, text: '' });
  doc.fail(error.message, `load:${format}`, { code: error.code, ...(error.fix ? { fix: error.fix } : {}) });
  return doc;
}
