import { useSyncExternalStore } from 'react';

/**
 * One shared timer for relative times ("5 minutes ago"). Memoised rows do not re-render when
 * their data has not changed, so whatever shows a relative time subscribes here and re-renders
 * every 30 s; the timer runs only while something is subscribed.
 */
const TICK_MS = 30_000;
const listeners = new Set<() => void>();
let ticks = 0;
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    ticks++;
    for (const notify of listeners) notify();
  }, TICK_MS);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** Re-renders the calling component every 30 s (it then reads the time afresh). */
export function useTick(): number {
  return useSyncExternalStore(subscribe, () => ticks);
}
