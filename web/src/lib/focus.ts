/**
 * Where focus goes back to when a dialog closes. Mantine's Modal returns focus to what had it
 * when the dialog opened, but a dialog opened from a menu item would return it to an item that
 * no longer exists (the menu closed), leaving the keyboard at the top of the page. This finds
 * the element a person would expect instead: the menu's own button.
 */
export function focusTrigger(): HTMLElement | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || active === document.body) return null;
  const menu = active.closest<HTMLElement>('[role="menu"]');
  if (menu?.id) return document.querySelector<HTMLElement>(`[aria-controls="${CSS.escape(menu.id)}"]`) ?? active;
  return active;
}

/** Focuses the trigger again once the closing dialog has handed focus back (it does so a moment later). */
export function returnFocus(trigger: HTMLElement | null): void {
  if (!trigger) return;
  setTimeout(() => {
    if (trigger.isConnected) trigger.focus();
  }, 50);
}
