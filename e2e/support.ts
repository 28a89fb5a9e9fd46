import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { expect, test as base, type APIRequestContext, type Locator, type Page } from '@playwright/test';

export const SCREENSHOTS = path.resolve(import.meta.dirname, '..', 'docs', 'screenshots');
export const PASSWORD = 'correct horse battery staple';

export interface Person {
  name: string;
  email: string;
  organisation: string;
  password: string;
}

export function newPerson(name = 'Ann Admin', organisation = 'Contoso Finance'): Person {
  const tag = randomBytes(4).toString('hex');
  return { name, email: `${name.split(' ')[0]!.toLowerCase()}.${tag}@example.com`, organisation, password: PASSWORD };
}

/**
 * Collects a page's uncaught errors and console errors, except failed requests with one of the
 * `expected` statuses. Every test's page is watched (below); a test's second browser calls it too.
 */
export function watchForErrors(page: Page, expected: number[] = []): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const failed = /Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
    if (failed && expected.includes(Number(failed[1]))) return;
    errors.push(`console error: ${message.text()} (${message.location().url})`);
  });
  return errors;
}

/**
 * Every test fails on an uncaught page error or a console error. A test that provokes a failed
 * request on purpose (a refused key, a wrong password) lists the statuses it expects.
 */
export const test = base.extend<{ expectedFailedStatuses: number[]; consoleGuard: void; slowDevice: void }>({
  expectedFailedStatuses: [[], { option: true }],
  consoleGuard: [
    async ({ page, expectedFailedStatuses }, use) => {
      const errors = watchForErrors(page, expectedFailedStatuses);
      await use();
      expect(errors, 'the page logged errors').toEqual([]);
    },
    { auto: true },
  ],
  // E2E_CPU_THROTTLE=4: the page runs four times slower, as on a slow device (README, Developing).
  slowDevice: [
    async ({ page }, use) => {
      const rate = Number(process.env.E2E_CPU_THROTTLE ?? 1);
      if (rate > 1) await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate });
      await use();
    },
    { auto: true },
  ],
});
export { expect };

/** Signs up through the portal, as a new customer does. */
export async function signUp(page: Page, person: Person): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel('Work email').fill(person.email);
  await page.getByLabel('Organisation').fill(person.organisation);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(person.password);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'API Keys' })).toBeVisible();
}

/** Accepts an invitation link through the portal, as an invited colleague does, and lands on the keys. */
export async function acceptInvitation(page: Page, link: string, name: string): Promise<void> {
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Accept your invitation' })).toBeVisible();
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Join organisation' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'API Keys' })).toBeVisible();
}

/** Creates a key through the API with the page's session (setup, not the behaviour under test). */
export async function createKeyViaApi(request: APIRequestContext, name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const response = await request.post('/api/keys', { data: { name, expiresInDays: 90, environment: 'production', ...extra } });
  expect(response.status(), await response.text()).toBe(201);
  const body = (await response.json()) as { key: { id: string }; secret: string };
  return { id: body.key.id, secret: body.secret };
}

/** Calls the gateway as a Power Automate flow does. */
export function callGateway(request: APIRequestContext, key: string, flow = 'e2e-flow', location = 'westeurope') {
  return request.get('/v1/connection', {
    headers: { 'x-api-key': key, 'x-ms-workflow-name': flow, 'x-ms-execution-location': location, 'x-ms-workflow-run-id': `run-${Date.now()}` },
  });
}

/** No serious or critical accessibility violation on what the page shows now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Colours measured halfway through a fade are not the colours a person reads: wait until no
  // transition runs and every open dialog, tooltip, menu and list of options is fully opaque (a
  // fade that has not started yet runs no transition, but its layer is still transparent). Mantine
  // starts a fade on the next animation frame: two frames first, so one just asked for has begun.
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  await page.waitForFunction(
    () =>
      document.getAnimations().every((animation) => animation.playState !== 'running') &&
      Array.from(document.querySelectorAll('[role="dialog"],[role="tooltip"],[role="menu"],[role="listbox"]')).every((layer) => {
        // One that is not drawn (display: none) shows no colours.
        if (layer.getClientRects().length === 0) return true;
        for (let element: Element | null = layer; element; element = element.parentElement) if (getComputedStyle(element).opacity !== '1') return false;
        return true;
      }),
  );
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n${v.nodes
        .slice(0, 5)
        .map((n) => `  ${n.target.join(' ')} ${n.failureSummary?.split('\n').slice(1, 2).join('') ?? ''}`)
        .join('\n')}`,
  );
  expect(report, `accessibility violations on ${what}`).toEqual([]);
}

/**
 * A list drawn as a table on wide screens and as cards on narrow ones (CardTable) fits the page
 * at the viewport's width: the document does not scroll sideways, neither does the table's frame,
 * every row lies within the screen, and no cell, badge or badge label is cut short.
 */
export async function expectRowsFit(page: Page, table: Locator, what: string): Promise<void> {
  const width = page.viewportSize()!.width;
  await expect(table.locator('tbody tr').first(), `${what} has rows`).toBeVisible();
  // The shell slides its menu away on a narrow screen: measure once it has.
  await page.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== 'running'));
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} at ${width} px: the page scrolls sideways`).toBeLessThanOrEqual(width);
  const frame = await table.evaluate((element) => {
    const box = element.parentElement!;
    return { scroll: box.scrollWidth, client: box.clientWidth };
  });
  expect(frame.scroll, `${what} at ${width} px: the table scrolls sideways`).toBeLessThanOrEqual(frame.client);
  const outside = await table.locator('tbody tr').evaluateAll((rows, viewport) => {
    return rows
      .map((row) => ({ box: row.getBoundingClientRect(), text: row.textContent?.slice(0, 40) }))
      .filter(({ box }) => box.left < 0 || box.right > viewport)
      .map(({ box, text }) => `"${text}" from ${Math.round(box.left)} to ${Math.round(box.right)} px`);
  }, width);
  expect(outside, `${what} at ${width} px: rows wider than the screen`).toEqual([]);
  const cut = await table
    .locator('td, .mantine-Badge-root, .mantine-Badge-label')
    .evaluateAll((elements) =>
      elements
        .filter((element) => element.scrollWidth > element.clientWidth + 1)
        .map(
          (element) =>
            `<${element.tagName.toLowerCase()} class="${element.className}"> "${element.textContent}" (${element.scrollWidth} > ${element.clientWidth} px)`,
        ),
    );
  expect(cut, `${what} at ${width} px: cut short`).toEqual([]);
}

/** Saves a screenshot for the README. */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The pointer rests in the corner, so no chart shows the tooltip of wherever it last clicked.
  await page.mouse.move(1, (page.viewportSize()?.height ?? 800) - 1);
  // Let charts finish their entry animation and toasts settle.
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? false, animations: 'disabled' });
}
