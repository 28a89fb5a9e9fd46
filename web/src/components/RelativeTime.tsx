import { Tooltip } from '@mantine/core';
import { useEffect, useId, useRef, useState } from 'react';
import { date, dateTime, relative, utcTime } from '../lib/format';
import { useTick } from '../lib/tick';

const OPEN_DELAY_MS = 200;

/**
 * A time shown one way and explained another way on hover and focus; `empty` when there is none.
 *
 * Tables show dozens of these, so the tooltip is mounted only once a pointer or the keyboard
 * reaches the time (a Mantine Tooltip per cell costs a floating-ui instance and a layout read at
 * mount), and the time itself is a plain element. Escape hides the tooltip, as WCAG 1.4.13 asks.
 * Screen readers get the explanation as the time's description, from a hidden element of our own
 * (the tooltip's element has an id of floating-ui's choosing, and exists only while shown).
 */
function HoverTime({
  iso,
  empty,
  shown,
  explained,
}: {
  iso: string | null | undefined;
  empty: string;
  shown: (iso: string) => string;
  explained: (iso: string) => string;
}) {
  const ref = useRef<HTMLSpanElement>(null);
  const id = useId();
  const [opened, setOpened] = useState(false);
  const [mounted, setMounted] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  // "5 minutes ago" moves on even when nothing else re-renders this time.
  useTick();

  if (!iso) return <span className="hover-time dimmed">{empty}</span>;
  const explanation = explained(iso);
  const show = (delay: number) => {
    setMounted(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setOpened(true), delay);
  };
  const hide = () => {
    clearTimeout(timer.current);
    setOpened(false);
  };
  return (
    <>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the exact time must reach keyboard users too: the span takes focus to show its tooltip */}
      <span
        className="hover-time"
        ref={ref}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: focus shows the exact time (see above)
        tabIndex={0}
        aria-describedby={id}
        onPointerEnter={() => show(OPEN_DELAY_MS)}
        onPointerLeave={hide}
        onFocus={() => show(0)}
        onBlur={hide}
        onKeyDown={(event) => {
          if (event.key === 'Escape' && opened) {
            event.stopPropagation();
            hide();
          }
        }}
      >
        <time dateTime={iso}>{shown(iso)}</time>
      </span>
      <span id={id} hidden>
        {explanation}
      </span>
      {mounted && <Tooltip target={ref} label={explanation} opened={opened} withArrow />}
    </>
  );
}

/** "5 minutes ago", with the exact time on hover and focus. */
export function RelativeTime({ iso, empty = 'Never' }: { iso: string | null | undefined; empty?: string }) {
  return <HoverTime iso={iso} empty={empty} shown={relative} explained={(t) => `${dateTime(t)} (${utcTime(t)})`} />;
}

/** A date (and time unless `short`), with the exact time and the relative distance on hover. */
export function ExactDate({ iso, empty = 'Never', short = false }: { iso: string | null | undefined; empty?: string; short?: boolean }) {
  return (
    <HoverTime iso={iso} empty={empty} shown={short ? date : dateTime} explained={(t) => `${short ? `${dateTime(t)}, ` : ''}${relative(t)} · ${utcTime(t)}`} />
  );
}
