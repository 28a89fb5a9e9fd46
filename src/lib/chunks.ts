/** `items` in consecutive slices of at most `size`: one statement's worth of rows at a time. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
