/**
 * An audit entry's details as one line of words: `name: prod-x · team: ops`. A change recorded as
 * `from` and `to` objects (a subscription's plan, status and limits) says only what changed,
 * `plan: free → standard`, rather than both objects in full.
 */
export function detailsSummary(details: Record<string, unknown>): string {
  const { from, to } = details;
  if (isRecord(from) && isRecord(to)) {
    const changed = [...new Set([...Object.keys(from), ...Object.keys(to)])]
      .filter((field) => shown(from[field]) !== shown(to[field]))
      .map((field) => `${field}: ${shown(from[field])} → ${shown(to[field])}`);
    const rest = Object.entries(details).filter(([field]) => field !== 'from' && field !== 'to');
    return [...(changed.length > 0 ? changed : ['no change']), ...pairs(rest)].join(' · ');
  }
  return pairs(Object.entries(details)).join(' · ');
}

function pairs(entries: Array<[string, unknown]>): string[] {
  return entries.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([field, value]) => `${field}: ${shown(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value in words: an object as its fields (`maxKeys 20, requestsPerMinute 600`), an empty one or nothing as "none". */
function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(shown).join(', ');
  if (isRecord(value)) {
    const fields = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
    return fields.length === 0 ? 'none' : fields.map(([field, v]) => `${field} ${shown(v)}`).join(', ');
  }
  return String(value);
}
