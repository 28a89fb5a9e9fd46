/**
 * How ComputeData treats the values it finds in rows. Flows get their rows from Excel,
 * SharePoint, Dataverse and CSV parsing, so numbers often arrive as text ("12.50") and empty
 * cells as "" — both are accepted as a maker would expect:
 *   - text that is a plain decimal number ("12.5", " -3 ", "1e3") counts as that number;
 *     thousands separators ("1,234") and currency signs do not, and are reported;
 *   - null, a missing field, and text that is empty or only spaces are *blank*.
 */

export type Value = number | string | boolean | null;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isBlank(value: Value): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

/** The number a value stands for, null when blank, undefined when it is not numeric. */
export function asNumber(value: Value): number | null | undefined {
  if (typeof value === 'number') return value;
  if (isBlank(value)) return null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return DECIMAL.test(trimmed) ? Number(trimmed) : undefined;
  }
  return undefined;
}

/** A condition's truth: booleans, "true"/"false" text (any case), blank is false. */
export function asBoolean(value: Value): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (isBlank(value)) return false;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
  }
  return undefined;
}

/** Short, quoted rendering of a value for error messages. */
export function show(value: Value): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** "text", "a number", … for error messages. */
export function kindOf(value: Value): string {
  if (value === null) return 'blank';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'a number';
  return 'true/false';
}
