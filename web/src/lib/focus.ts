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

/** The button that says it controls `menu` (the one that opened it), if any. */
function menuButton(menu: HTMLElement): HTMLElement | null {
  return menu.id ? document.querySelector<HTMLElement>(`[aria-controls="${CSS.escape(menu.id)}"]`) : null;
}

/** The element a person would expect focus to return to: the focused one, or the menu's own button. */
export function focusTrigger(): FocusTrigger | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || active === document.body) return null;
  const menu = active.closest<HTMLElement>('[role="menu"]');
  const element = (menu && menuButton(menu)) || active;
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

/** The dialogs open now: the one closing is among them, and focus left in it is left behind. */
function openDialogs(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('[role="dialog"]'));
}

/**
 * Focus nobody chose: on the page itself, on something removed, inside a dialog that was open
 * when the closing began, or inside a menu whose button no longer says it is open (a menu still
 * fading out: Mantine hands focus back to it when the dialog it opened closes soon after).
 */
function leftBehind(active: Element | null, closing: HTMLElement[]): boolean {
  if (!(active instanceof HTMLElement) || active === document.body || !active.isConnected) return true;
  if (closing.some((dialog) => dialog.contains(active))) return true;
  const menu = active.closest<HTMLElement>('[role="menu"]');
  return menu !== null && menuButton(menu)?.getAttribute('aria-expanded') !== 'true';
}

const SETTLE_STEP_MS = 50;
const SETTLE_LIMIT_MS = 5_000;

/**
 * Focuses the trigger again, or the nearest place left (see above), and keeps it there until the
 * closing dialog has gone: the dialog's own timers (Mantine's focus trap and focus return) can
 * run after ours on a slow device, and focus left in the dialog or in a fading menu drops to the
 * page when they go. Without a trigger (the dialog opened by itself, as the rotated key's does on
 * its new page), the page's heading. Whoever moves focus elsewhere meanwhile (opens a row's menu,
 * clicks a field, opens another dialog) keeps it.
 */
export function returnFocus(trigger: FocusTrigger | null): void {
  const closing = openDialogs();
  const places = trigger ? [trigger, ...trigger.neighbours] : [];
  let placed: HTMLElement | null = null;
  let waited = 0;
  const settle = () => {
    const active = document.activeElement;
    if (active !== placed && !leftBehind(active, closing)) return;
    if (active !== placed) {
      placed = places.map(findAgain).find((found) => found !== null) ?? pageHeading();
      placed?.focus();
    }
    waited += SETTLE_STEP_MS;
    if (closing.some((dialog) => dialog.isConnected) && waited < SETTLE_LIMIT_MS) setTimeout(settle, SETTLE_STEP_MS);
  };
  setTimeout(settle, SETTLE_STEP_MS);
}
