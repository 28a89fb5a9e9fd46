import { Type, type Static, type TSchema } from 'typebox';
import { EMAIL_MAX_LENGTH, EMAIL_MIN_LENGTH, EMAIL_PATTERN } from '../domain/email.js';
import type { LineKind } from '../domain/text.js';

/** Shared TypeBox schemas of requests and problems (the answers' shapes are in api/views.ts). */
export { Nullable } from '../api/views.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

/** Error responses a route declares, by status: RFC 9457 documents, served as application/problem+json. */
export function problems(
  ...statuses: number[]
): Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: ProblemSchema } } }]),
  );
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, description: 'Items to skip' })),
};

export function page(query: { limit?: number; offset?: number }): { limit: number; offset: number } {
  return { limit: query.limit ?? 50, offset: query.offset ?? 0 };
}

export const Paged = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

/** A calendar day, checked for real (2026-13-01 and 2026-02-30 are refused). */
export const DaySchema = Type.String({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });

/** A day, or an ISO timestamp with its zone (Z or ±hh:mm). */
export const DayOrTimeSchema = Type.Union([DaySchema, Type.String({ format: 'date-time', description: 'An ISO 8601 timestamp with Z or an offset' })], {
  description: 'YYYY-MM-DD or an ISO timestamp (UTC)',
});

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const EmailSchema = Type.String({ minLength: EMAIL_MIN_LENGTH, maxLength: EMAIL_MAX_LENGTH, pattern: EMAIL_PATTERN, description: 'An email address' });
export const PasswordSchema = Type.String({ minLength: 1, maxLength: 200 });

/** The schema keyword that marks a `LineText`; its value is the `LineKind`. */
export const LINE_TEXT_KEYWORD = 'x-bdoc-line';

/**
 * One line of text people type and others read (names, teams, labels, descriptions): no control
 * characters or bidirectional controls, and something visible (`optional`: blank means none). The
 * rule is domain/text.ts, applied by the `x-bdoc-line` keyword (http/validation.ts), so every such
 * field refuses alike.
 */
export function LineText(kind: LineKind, options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, [LINE_TEXT_KEYWORD]: kind });
}

export const PersonNameSchema = LineText('required', { minLength: 1, maxLength: 100, description: "A person's name" });
export const OrganisationNameSchema = LineText('required', { minLength: 1, maxLength: 100, description: "The organisation's name" });

export type PageQueryType = Static<ReturnType<typeof Type.Object<typeof PageQuery>>>;
