import { Table, type TableScrollContainerProps } from '@mantine/core';

/**
 * A table that scrolls sideways on a narrow screen. The scrolling box takes keyboard focus and is
 * named, so a keyboard user can scroll it too (WCAG 2.1.1; axe: scrollable-region-focusable).
 */
export function ScrollTable({ label, ...props }: Omit<TableScrollContainerProps, 'type'> & { label: string }) {
  return <Table.ScrollContainer type="native" tabIndex={0} role="region" aria-label={label} {...props} />;
}
