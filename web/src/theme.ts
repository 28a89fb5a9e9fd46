import { createTheme, darken, type CSSVariablesResolver } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'blue',
  // Darker shades than the default keep white text on filled buttons above 4.5:1 contrast.
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'md',
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, "Cascadia Code", "SF Mono", Menlo, Consolas, monospace',
  headings: { fontWeight: '650' },
  components: {
    // Links are underlined, so they stand out from text without relying on colour.
    Anchor: { defaultProps: { underline: 'always' } },
    Tooltip: { defaultProps: { multiline: true, maw: 320 } },
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } },
    Notification: { defaultProps: { closeButtonProps: { 'aria-label': 'Close notification' } } },
  },
});

/**
 * Mantine's default dimmed grey is below 4.5:1 on white; a shade darker passes WCAG AA. In dark
 * mode, placeholders (#696969 by default) are lifted to 5:1 on the inputs' #2e2e2e.
 */
export const cssVariablesResolver: CSSVariablesResolver = (resolved) => {
  // Likewise the text of "light" badges and alerts, and coloured text, in light mode.
  const light: Record<string, string> = { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-color-placeholder': '#6b7280' };
  for (const [name, shades] of Object.entries(resolved.colors)) {
    if (name === 'dark' || name === 'gray') continue;
    light[`--mantine-color-${name}-light-color`] = darken(shades[9], 0.3);
    light[`--mantine-color-${name}-text`] = darken(shades[9], 0.15);
  }
  return { variables: {}, light, dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)', '--mantine-color-placeholder': '#9b9b9b' } };
};
