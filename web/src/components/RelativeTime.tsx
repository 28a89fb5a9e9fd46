import { Text, Tooltip } from '@mantine/core';
import { date, dateTime, relative, utcTime } from '../lib/format';

/** "5 minutes ago", with the exact time on hover and focus. */
export function RelativeTime({ iso, empty = 'Never' }: { iso: string | null | undefined; empty?: string }) {
  if (!iso) {
    return (
      <Text span size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Tooltip label={`${dateTime(iso)} (${utcTime(iso)})`} withArrow openDelay={200} events={{ hover: true, focus: true, touch: true }}>
      <Text span size="sm" tabIndex={0} style={{ whiteSpace: 'nowrap', cursor: 'help' }}>
        <time dateTime={iso}>{relative(iso)}</time>
      </Text>
    </Tooltip>
  );
}

/** A date (and time unless `short`), with the exact time and the relative distance on hover. */
export function ExactDate({ iso, empty = 'Never', short = false }: { iso: string | null | undefined; empty?: string; short?: boolean }) {
  if (!iso) {
    return (
      <Text span size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Tooltip label={`${short ? `${dateTime(iso)}, ` : ''}${relative(iso)} · ${utcTime(iso)}`} withArrow openDelay={200} events={{ hover: true, focus: true, touch: true }}>
      <Text span size="sm" tabIndex={0} style={{ whiteSpace: 'nowrap', cursor: 'help' }}>
        <time dateTime={iso}>{short ? date(iso) : dateTime(iso)}</time>
      </Text>
    </Tooltip>
  );
}
