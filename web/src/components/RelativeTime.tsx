import { Text, Tooltip } from '@mantine/core';
import { date, dateTime, relative, utcTime } from '../lib/format';

/** A time shown one way and explained another way on hover and focus; `empty` when there is none. */
function HoverTime({ iso, empty, shown, explained }: { iso: string | null | undefined; empty: string; shown: (iso: string) => string; explained: (iso: string) => string }) {
  if (!iso) {
    return (
      <Text span size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Tooltip label={explained(iso)} withArrow openDelay={200} events={{ hover: true, focus: true, touch: true }}>
      <Text span size="sm" tabIndex={0} style={{ whiteSpace: 'nowrap', cursor: 'help' }}>
        <time dateTime={iso}>{shown(iso)}</time>
      </Text>
    </Tooltip>
  );
}

/** "5 minutes ago", with the exact time on hover and focus. */
export function RelativeTime({ iso, empty = 'Never' }: { iso: string | null | undefined; empty?: string }) {
  return <HoverTime iso={iso} empty={empty} shown={relative} explained={(t) => `${dateTime(t)} (${utcTime(t)})`} />;
}

/** A date (and time unless `short`), with the exact time and the relative distance on hover. */
export function ExactDate({ iso, empty = 'Never', short = false }: { iso: string | null | undefined; empty?: string; short?: boolean }) {
  return (
    <HoverTime
      iso={iso}
      empty={empty}
      shown={short ? date : dateTime}
      explained={(t) => `${short ? `${dateTime(t)}, ` : ''}${relative(t)} · ${utcTime(t)}`}
    />
  );
}
