/** Adds `value` to `set`; past `max` members the oldest goes, so a set of recent ids stays bounded. */
export function addBounded<T>(set: Set<T>, value: T, max: number): void {
  set.add(value);
  if (set.size > max) set.delete(set.values().next().value as T);
}
