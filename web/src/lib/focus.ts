/**
 * Where focus goes back to when a dialog closes. Mantine's Modal returns focus to what had it
 * when the dialog opened, but a dialog opened from a menu item would return it to an item that
 * no longer exists (the menu closed), and one opened from a row the change re-drew (a resent
 * invitation is a new row) to a button that is gone; either leaves the keyboard at the top.
 *
 * So focus goes back to the first of these that is still there, enabled and shown: the control
 * that opened the dialog (or the menu's own button), found again by its label if the page re-drew
 * it; the same control in the next row, else the previous one (the row itself went away: a key
 * revoked while revoked keys are hidden, a deleted one); the page's heading.
 */
interface Place {
  element: HTMLElement;
  /** Finds it again if the page re-drew it meanwhile: its accessible label. */
  label: string | null;
}

export interface FocusTrigger extends Place {
  /** The same control in the rows next to the trigger's, nearest first. */
  neighbours: Place[];
}

const FOCUSABLE = 'button, a[href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

function place(element: HTMLElement): Place {
  return { element, label: element.getAttribute('aria-label') };
}

/** The control in the same column of another row of the table. */
function sameCellIn(row: Element | null, cellIndex: number): HTMLElement | null {
  if (!(row instanceof HTMLTableRowElement)) return null;
  return row.cells[cellIndex]?.querySelector<HTMLElement>(FOCUSABLE) ?? null;
}

/** The element a person would expect focus to return to: the focused one, or the menu's own button. */
export function focusTrigger(): FocusTrigger | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || active === document.body) return null;
  const menu = active.closest<HTMLElement>('[role="menu"]');
  const element = (menu?.id && document.querySelector<HTMLElement>(`[aria-controls="${CSS.escape(menu.id)}"]`)) || active;
  const cell = element.closest('td, th');
  const row = cell?.parentElement ?? null;
  const neighbours =
    cell instanceof HTMLTableCellElement && row
      ? [row.nextElementSibling, row.previousElementSibling].flatMap((other) => {
          const found = sameCellIn(other, cell.cellIndex);
          return found ? [place(found)] : [];
        })
      : [];
  return { ...place(element), neighbours };
}

/** The place itself if it is still in the page, else whatever now carries its label; only if it can take focus. */
function findAgain({ element, label }: Place): HTMLElement | null {
  const found = element.isConnected ? element : label ? document.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`) : null;
  if (!found || found.matches(':disabled, [aria-disabled="true"]') || found.getClientRects().length === 0) return null;
  return found;
}

/** The page's heading (PageHeader makes it focusable): where focus goes when nothing near the trigger is left. */
function pageHeading(): HTMLElement | null {
  return document.querySelector<HTMLElement>('main h1[tabindex]');
}

/**
 * Focuses the trigger again, or the nearest place left (see above), once the closing dialog has
 * let focus go (it does so a moment later). Without a trigger (the dialog opened by itself, as
 * the rotated key's does on its new page), the page's heading.
 */
export function returnFocus(trigger: FocusTrigger | null): void {
  setTimeout(() => {
    // Someone already moved on (opened a row's menu, clicked a field): focus stays where they put it.
    const active = document.activeElement;
    if (active instanceof HTMLElement && active !== document.body && active.isConnected && !active.closest('[role="dialog"]')) return;
    const places = trigger ? [trigger, ...trigger.neighbours] : [];
    for (const candidate of places) {
      const target = findAgain(candidate);
      if (target) {
        target.focus();
        return;
      }
    }
    pageHeading()?.focus();
  }, 50);
}
