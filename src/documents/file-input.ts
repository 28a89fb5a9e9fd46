/**
 * Decodes the file arguments of document actions. Power Automate sends a file either as a
 * bare base64 string or as its file object `{"$content-type": "...", "$content": "<base64>"}`
 * (what "File Content" tokens serialise to); Power Apps often sends a data URL. All three are
 * accepted. Base64 is validated strictly because Node's decoder silently skips bad
 * characters, which would turn a truncated or mangled file into a confusing parser error
 * several steps later.
 */
import { AppError, validationFailed } from '../errors/catalogue.js';

const MiB = 1024 * 1024;

/** Largest single decoded file a document action accepts. */
export const MAX_FILE_BYTES = 25 * MiB;
/** Largest sum of decoded files in one request (e.g. all PDFs of a merge). */
export const MAX_TOTAL_FILE_BYTES = 50 * MiB;
/**
 * A request body limit that lets MAX_TOTAL_FILE_BYTES through once base64-encoded (4/3 of
 * the bytes) with 1 MiB to spare for JSON and the other arguments. For the HTTP layer.
 */
export const MAX_REQUEST_BODY_BYTES = Math.ceil((MAX_TOTAL_FILE_BYTES * 4) / 3) + MiB;

export interface DecodedFile {
  bytes: Buffer;
  /** From `$content-type` or the data URL, when the caller sent one. */
  contentType: string | null;
}

export interface DecodeOptions {
  /** How the file is named in messages; derived from the path when omitted ("File 2"). */
  label?: string;
  /** Largest decoded file accepted (DOC_MAX_UPLOAD_MB); MAX_FILE_BYTES when omitted. */
  maxBytes?: number;
}

/** "files[1]" → "File 2", "template" → "The template file". */
export function labelForPath(path: string): string {
  const index = /\[(\d+)\]$/.exec(path);
  if (index?.[1] !== undefined) return `File ${Number(index[1]) + 1}`;
  return `The ${path} file`;
}

function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

const DATA_URL = /^data:([^;,]*)(?:;[^;,=]+=[^;,]*)*;base64,/i;
const WHITESPACE = /[\t\n\r ]+/g;
const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Decodes one file argument, or throws a validation error naming `path`. */
export function decodeFile(value: unknown, path: string, options: DecodeOptions = {}): DecodedFile {
  const label = options.label ?? labelForPath(path);
  let encoded: string;
  let contentType: string | null = null;
  let fieldPath = path;

  if (typeof value === 'string') {
    encoded = value;
  } else if (isFileObject(value)) {
    const content = value['$content'];
    const type = value['$content-type'];
    fieldPath = `${path}.$content`;
    if (typeof content !== 'string') {
      throw validationFailed(
        [{ path: fieldPath, message: 'must be a base64 string' }],
        `${label} has no usable "$content": it must be the file's content as a base64 string. Pick the "File Content" token of the file.`,
      );
    }
    if (type !== undefined && typeof type !== 'string') {
      throw validationFailed(
        [{ path: `${path}.$content-type`, message: 'must be a string' }],
        `${label} has a "$content-type" that is not text; send a media type such as "application/pdf" or leave it out.`,
      );
    }
    encoded = content;
    contentType = type ?? null;
  } else {
    throw validationFailed(
      [{ path, message: 'must be a base64 string or a file object with $content-type and $content' }],
      `${label} is missing or not a file: send the file content as a base64 string or as a file object {"$content-type": "...", "$content": "<base64>"}; ${describeValue(value)} was received.`,
    );
  }

  const dataUrl = DATA_URL.exec(encoded);
  if (dataUrl) {
    contentType ??= dataUrl[1] || null;
    encoded = encoded.slice(dataUrl[0].length);
  }
  encoded = encoded.replace(WHITESPACE, '');
  if (encoded.length === 0) {
    throw validationFailed(
      [{ path: fieldPath, message: 'is empty' }],
      `${label} is empty: its content has no bytes. Check that the previous step produced the file.`,
    );
  }

  checkBase64(encoded, fieldPath, label);

  const padding = encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0;
  const size = (encoded.length / 4) * 3 - padding;
  assertFileSize(size, path, label, options.maxBytes);
  return { bytes: Buffer.from(encoded, 'base64'), contentType };
}

/**
 * Decodes a list of file arguments (`files`), enforcing the per-file and the total limit.
 * Counting (e.g. "at least two") is the caller's business: it knows the action.
 */
export function decodeFiles(values: unknown, path = 'files', options: Pick<DecodeOptions, 'maxBytes'> = {}): DecodedFile[] {
  if (!Array.isArray(values)) {
    throw validationFailed(
      [{ path, message: 'must be a list of files' }],
      `"${path}" must be a list of files (an array), each a base64 string or a file object; ${describeValue(values)} was received.`,
    );
  }
  const files = values.map((value, i) => decodeFile(value, `${path}[${i}]`, options));
  assertTotalSize(
    files.map((f) => f.bytes.length),
    path,
  );
  return files;
}

/** Checked on the base64 length, before anything is decoded. */
export function assertFileSize(size: number, path: string, label = labelForPath(path), maxBytes = MAX_FILE_BYTES): void {
  if (size > maxBytes) {
    throw new AppError(
      'payload_too_large',
      `${label} is ${formatMiB(size)}; each file may be at most ${formatMiB(maxBytes)} (DOC_MAX_UPLOAD_MB). Compress or split the file and try again.`,
      { extras: { path, sizeBytes: size, limitBytes: maxBytes } },
    );
  }
}

export function assertTotalSize(sizes: number[], path: string): void {
  const total = sizes.reduce((sum, n) => sum + n, 0);
  if (total > MAX_TOTAL_FILE_BYTES) {
    throw new AppError(
      'payload_too_large',
      `The files together are ${formatMiB(total)}; one request may carry at most ${formatMiB(MAX_TOTAL_FILE_BYTES)}. Send fewer or smaller files per call, for example merge in two steps.`,
      { extras: { path, sizeBytes: total, limitBytes: MAX_TOTAL_FILE_BYTES } },
    );
  }
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkBase64(encoded: string, path: string, label: string): void {
  // One regex pass is fast on 30 MB strings; the scan below only runs to explain a failure.
  if (STRICT_BASE64.test(encoded) && encoded.length % 4 === 0) return;
  const firstPad = encoded.indexOf('=');
  const body = firstPad === -1 ? encoded : encoded.slice(0, firstPad);
  for (let i = 0; i < body.length; i++) {
    const ch = body.charAt(i);
    if (!BASE64_CHAR.test(ch)) {
      throw corrupt(path, label, `it contains ${JSON.stringify(ch)} at character ${i + 1}, which base64 never uses`);
    }
  }
  const pad = firstPad === -1 ? '' : encoded.slice(firstPad);
  if (pad.length > 2 || /[^=]/.test(pad)) {
    throw corrupt(path, label, `"=" may only appear at the very end, at most twice (found at character ${firstPad + 1})`);
  }
  if (encoded.length % 4 !== 0) {
    throw corrupt(path, label, `its length (${encoded.length} characters) is not a multiple of 4, so it looks truncated`);
  }
}

function corrupt(path: string, label: string, why: string): AppError {
  return validationFailed(
    [{ path, message: `is not valid base64: ${why}` }],
    `${label} is not valid base64: ${why}. Pass the file content itself (for example the "File Content" token, or base64(...) of it), not a file name, link or text.`,
  );
}

function isFileObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && '$content' in value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 5);
    return keys.length ? `an object with ${keys.map((k) => `"${k}"`).join(', ')}` : 'an empty object';
  }
  return `a ${typeof value}`;
}
