/**
 * The closed set of error codes and the HTTP status and title of each. Services throw
 * `AppError` with a code; only the HTTP edge turns it into problem+json.
 */
export const ERROR_CATALOGUE = {
  api_key_missing: { status: 401, title: 'API key missing' },
  api_key_malformed: { status: 401, title: 'API key malformed' },
  api_key_invalid: { status: 401, title: 'Invalid API key' },
  api_key_revoked: { status: 401, title: 'API key revoked' },
  api_key_suspended: { status: 401, title: 'API key suspended' },
  api_key_expired: { status: 401, title: 'API key expired' },
  subscription_inactive: { status: 403, title: 'Subscription inactive' },
  feature_not_available: { status: 403, title: 'Feature not available for your subscription' },
  rate_limited: { status: 429, title: 'Too many requests' },
  quota_exceeded: { status: 403, title: 'Quota exceeded' },
  key_limit_reached: { status: 403, title: 'Key limit reached' },
  validation_failed: { status: 400, title: 'Validation failed' },
  unauthenticated: { status: 401, title: 'Not signed in' },
  signature_invalid: { status: 401, title: 'Signature invalid' },
  forbidden: { status: 403, title: 'Forbidden' },
  csrf_rejected: { status: 403, title: 'Cross-origin request refused' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  document_too_complex: { status: 422, title: 'Document too complex' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
  converter_unavailable: { status: 503, title: 'Document converter unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One field-level problem of a `validation_failed` answer. */
export interface FieldError {
  path: string;
  message: string;
}

/** A domain error: a code from the catalogue, a detail written for the person who reads it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string;
  /** Extra members of the problem document (`errors`, `used`, `limit`, …). */
  readonly extras: Record<string, unknown>;
  /** Extra response headers (`Retry-After`, …). */
  readonly headers: Record<string, string>;
  /**
   * The work had started when this was raised (a job stopped for its time or memory), so the
   * quota place counts as used: a refusal found before the work is never billed.
   */
  readonly billed: boolean;

  constructor(code: ErrorCode, detail: string, options: { extras?: Record<string, unknown>; headers?: Record<string, string>; billed?: boolean } = {}) {
    // Domain errors are expected answers, not bugs: skip the stack trace, which costs more
    // than the rest of a refused gateway request (a flood of bad keys must stay cheap).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${detail}`);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.extras = options.extras ?? {};
    this.headers = options.headers ?? {};
    this.billed = options.billed ?? false;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export function notFound(what: string): AppError {
  return new AppError('not_found', `${what} was not found.`);
}

export function validationFailed(errors: FieldError[], detail?: string): AppError {
  return new AppError('validation_failed', detail ?? errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    extras: { errors },
  });
}
