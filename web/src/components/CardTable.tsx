import { Table, type TableProps, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';
import { number } from '../lib/format';
import { TableSkeleton } from './states';

/** A column heading: its text, or how it sits (`right` for numbers; `hidden` for a column of buttons, named for screen readers only). */
export type CardColumn = string | { label: string; align?: 'right'; className?: string; hidden?: boolean };

interface CardTableProps extends Omit<TableProps, 'children'> {
  /** The headings; with them the table draws its head and body, and `children` are the body's rows. */
  columns?: readonly CardColumn[];
  /** While the rows load: this many placeholder rows (with `columns`). */
  loadingRows?: number;
  caption?: ReactNode;
  children: ReactNode;
}

/**
 * A table on wide screens, a stack of cards below 48em (`.card-table` in styles.css). The portal's
 * lists of keys, flows, people, invitations, a rotation's flows, webhooks and the audit log are all drawn by it, so there
 * is one way a list reads on a phone and nothing on it scrolls sideways.
 *
 * Each body cell names its column with `data-label` (shown above its value in a card; a cell
 * without one shows no label). Classes a cell may take:
 * - `card-table-title`: what the row is about; it wraps anywhere and takes a card's whole width.
 * - `card-table-wide`: takes a card's whole width (a badge that must not be cut short).
 * - `card-table-lead`: comes first in a card, across its width, though it is not the first column (the audit log's event).
 * - `card-table-menu`: a small menu button; in a card it sits in the top right corner.
 * - `card-table-actions`: buttons (in a `card-table-buttons` row); right-aligned in a table, along a card's bottom.
 * - `card-table-number`: right-aligned in a table.
 * - `card-table-wrap`: may take two lines in a table rather than push it wider (a header cell too).
 * In a table, other cells and headers keep to one line. Empty cells are left out of a card. Inside a cell,
 * `card-table-link` is the row's main link and `card-table-note` a small line under it.
 *
 * Without `columns` the children are the whole table (the key list draws its own sortable head).
 */
export function CardTable({ className, columns, loadingRows, caption, children, ...props }: CardTableProps) {
  return (
    <div className="card-table-frame">
      <Table verticalSpacing="sm" {...props} className={className ? `card-table ${className}` : 'card-table'}>
        {caption !== undefined && <Table.Caption>{caption}</Table.Caption>}
        {columns ? (
          <>
            <Table.Thead>
              <Table.Tr>
                {columns.map((column) => {
                  const c = typeof column === 'string' ? { label: column } : column;
                  return (
                    <Table.Th key={c.label} ta={c.align} className={c.className}>
                      {c.hidden ? <VisuallyHidden>{c.label}</VisuallyHidden> : c.label}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {loadingRows !== undefined && loadingRows > 0 && <TableSkeleton columns={columns.length} rows={loadingRows} />}
              {children}
            </Table.Tbody>
          </>
        ) : (
          children
        )}
      </Table>
    </div>
  );
}

/** A count in a CardTable: right-aligned in a table, named by its column in a card. */
export function NumberCell({ label, value }: { label: string; value: number }) {
  return (
    <Table.Td data-label={label} className="card-table-number">
      {number.format(value)}
    </Table.Td>
  );
}
