const DAY_MS = 86_400_000;

/**
 * Every UTC day from `first` to `last`, both written `YYYY-MM-DD` and both included, so a chart
 * can show a day without calls as zero instead of skipping it (the server lists only days with
 * calls). Just `first` when `last` is before it.
 */
export function eachDay(first: string, last: string): string[] {
  const end = Date.parse(`${last}T00:00:00Z`);
  const days: string[] = [];
  for (let at = Date.parse(`${first}T00:00:00Z`); at <= end || days.length === 0; at += DAY_MS) days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}
