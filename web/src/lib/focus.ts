/**
 * Where focus goes back to when a dialog closes. Mantine's Modal returns focus to what had it
 * when the dialog opened, but a dialog opened from a menu item would return it to an item that
 * no longer exists (the menu closed), and one opened from a row the change re-drew (a resent
 * invitation is a new row) to a button that is gone; either leaves the keyboard at the top.
 */
export interface FocusTrigger {
  element: HTMLElement;
  /** Finds the trigger again if the page re-drew it meanwhile: its accessible label. */
  label: string | null;
}

/** The element a person would expect focus to return to: the focused one, or the menu's own button. */
export function focusTrigger(): FocusTrigger | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || active === document.body) return null;
  const menu = active.closest<HTMLElement>('[role="menu"]');
  const element = (menu?.id && document.querySelector<HTMLElement>(`[aria-controls="${CSS.escape(menu.id)}"]`)) || active;
  return { element, label: element.getAttribute('aria-label') };
}

/** Focuses the trigger again once the closing dialog has let focus go (it does so a moment later). */
export function returnFocus(trigger: FocusTrigger | null): void {
  if (!trigger) return;
  setTimeout(() => {
    const { element, label } = trigger;
    const target = element.isConnected ? element : label ? document.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`) : null;
    target?.focus();
  }, 50);
}
