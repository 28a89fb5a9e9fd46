import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { request as apiRequest, type Page } from '@playwright/test';
import { callGateway, createKeyViaApi, expect, expectAccessible, expectRowsFit, newPerson, PASSWORD, saveScreenshot, signUp, test } from './support.js';

const repo = path.resolve(import.meta.dirname, '..');

/** The operator CLI against the test server's database (raises the Free plan's key limit). */
function cli(...args: string[]): string {
  return execFileSync(process.execPath, ['dist/cli.js', ...args], {
    cwd: repo,
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
}

async function visit(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link }).click();
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
}

/** An organisation that has been in use for a while: several keys, flows, people and events. */
async function seedOrganisation(page: Page, baseURL: string) {
  const admin = newPerson('Ann Admin', 'Contoso Finance');
  await signUp(page, admin);
  const me = (await (await page.request.get('/api/me')).json()) as { organisation: { id: string } };
  cli('subscription', 'set', '--org', me.organisation.id, '--plan', 'standard');
  await expect.poll(async () => ((await (await page.request.get('/api/subscription')).json()) as { plan: string }).plan).toBe('standard');

  const invoice = await createKeyViaApi(page.request, 'prod-invoice-flow-finance', { team: 'finance' });
  const contracts = await createKeyViaApi(page.request, 'prod-contracts-flow-legal', { team: 'legal', expiresInDays: 365 });
  await createKeyViaApi(page.request, 'test-quotes-flow-sales', { team: 'sales', environment: 'test', expiresInDays: 30 });
  const old = await createKeyViaApi(page.request, 'dev-reports-app-ops', { team: 'ops', environment: 'development', expiresInDays: null });
  const suspended = await createKeyViaApi(page.request, 'prod-hr-letters-flow-hr', { team: 'hr' });
  for (let i = 0; i < 4; i++) expect((await callGateway(page.request, invoice.secret, 'a1b2c3d4-invoice-approval', 'westeurope')).status()).toBe(200);
  expect((await callGateway(page.request, invoice.secret, 'f00dbabe-month-end-close', 'northeurope')).status()).toBe(200);
  expect((await callGateway(page.request, contracts.secret, 'c0ffee00-contract-renewals', 'westeurope')).status()).toBe(200);
  expect((await callGateway(page.request, old.secret, 'reports-canvas-app', 'westus')).status()).toBe(200);
  expect((await page.request.post(`/api/keys/${old.id}/revoke`)).status()).toBe(200);
  expect((await callGateway(page.request, old.secret, 'reports-canvas-app', 'westus')).status()).toBe(401);
  expect((await page.request.post(`/api/keys/${suspended.id}/suspend`)).status()).toBe(200);

  // Two colleagues accept their invitations.
  for (const [name, role] of [
    ['Mia Member', 'member'],
    ['Vic Viewer', 'viewer'],
  ] as const) {
    const invited = await page.request.post('/api/invitations', { data: { email: newPerson(name).email, role } });
    const { url } = (await invited.json()) as { url: string };
    const guest = await apiRequest.newContext({ baseURL });
    const accepted = await guest.post('/api/invitations/accept', { data: { token: new URL(url).hash.replace('#token=', ''), name, password: PASSWORD } });
    expect(accepted.status()).toBe(200);
    await guest.dispose();
  }
  return { admin, invoice };
}

test.describe('every page', () => {
  test.describe.configure({ timeout: 180_000 });
  // Troubleshooting tests a refused key on purpose.
  test.use({ expectedFailedStatuses: [401] });

  test('is accessible and looks right, signed in as an Admin', async ({ page, baseURL }) => {
    const { invoice } = await seedOrganisation(page, baseURL!);
    await page.reload();

    // API keys, with its dialogs.
    const row = page.getByRole('row', { name: /prod-invoice-flow-finance/ });
    await expect(row).toContainText('Active');
    // Revoked keys are hidden until asked for.
    await expect(page.getByRole('row', { name: /prod-contracts-flow-legal/ })).toBeVisible();
    await expect(page.getByRole('row', { name: /dev-reports-app-ops/ })).toHaveCount(0);
    await page.getByRole('combobox', { name: 'Revoked keys' }).click();
    await page.getByRole('option', { name: 'Shown' }).click();
    await expect(page).toHaveURL(/[?&]revoked=show/);
    await expect(page.getByRole('row', { name: /dev-reports-app-ops/ })).toContainText('Revoked');
    await expect(page.getByRole('row', { name: /prod-hr-letters-flow-hr/ })).toContainText('Suspended');
    await expect(async () => {
      await page.reload();
      await expect(row).toContainText('seconds ago', { timeout: 3_000 });
    }).toPass({ timeout: 15_000 });
    await expectAccessible(page, 'API Keys');
    await saveScreenshot(page, 'api-keys');

    // At 1,280 px every column fits: the table does not scroll sideways, the row menu is in view.
    const frame = page.locator('.card-table-frame');
    expect(await frame.evaluate((element) => element.scrollWidth - element.clientWidth)).toBeLessThanOrEqual(0);
    await expect(page.getByRole('columnheader', { name: 'Flows' })).toBeInViewport();
    await expect(row.getByRole('button', { name: 'Actions for prod-invoice-flow-finance' })).toBeInViewport();
    // Times show the exact UTC time on hover and on keyboard focus; Escape hides it.
    await row.locator('time').first().hover();
    await expect(page.getByRole('tooltip')).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    await page.mouse.move(0, 0);
    await expect(page.getByRole('tooltip')).toHaveCount(0);
    const lastUsed = row.locator('time').nth(1).locator('..');
    await lastUsed.focus();
    await expect(page.getByRole('tooltip')).toContainText('UTC');
    await expect(lastUsed).toHaveAccessibleDescription(/\d{2}:\d{2}:\d{2} UTC/);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('tooltip')).toHaveCount(0);

    await page.getByRole('button', { name: 'Create New Key' }).click();
    const create = page.getByRole('dialog', { name: 'Create New Key' });
    await create.getByRole('textbox', { name: 'Name' }).fill('MyKey');
    await expect(create.getByText('does not say where the key is used')).toBeVisible();
    await expectAccessible(page, 'the Create New Key dialog');
    await saveScreenshot(page, 'create-key');
    await create.getByRole('textbox', { name: 'Name' }).fill('prod-expenses-flow-finance');
    await create.getByRole('button', { name: 'Create' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await expect(shown.getByText('Copied to the clipboard.')).toBeVisible();
    await expectAccessible(page, 'the new key dialog');
    await saveScreenshot(page, 'new-key-shown-once');
    await shown.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Actions for test-quotes-flow-sales' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await expect(page.getByRole('dialog', { name: 'Revoke API key' })).toBeVisible();
    await expectAccessible(page, 'the Revoke dialog');
    await saveScreenshot(page, 'revoke-confirmation');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Filters narrow the list on the server.
    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('option', { name: 'Suspended' }).click();
    await expect(page.getByRole('row', { name: /prod-hr-letters-flow-hr/ })).toBeVisible();
    await expect(page.getByRole('row', { name: /prod-invoice-flow-finance/ })).toBeHidden();
    await page.goto('/keys');
    // The search lives in the address; the menu's "API Keys" clears both box and list.
    await page.getByRole('textbox', { name: 'Search' }).fill('invoice');
    await expect(page).toHaveURL(/[?&]q=invoice/);
    await expect(page.getByRole('row', { name: /prod-contracts-flow-legal/ })).toBeHidden();
    await page.getByRole('navigation').getByRole('link', { name: 'API Keys' }).click();
    await expect(page).toHaveURL(/\/keys$/);
    await expect(page.getByRole('textbox', { name: 'Search' })).toHaveValue('');
    await expect(page.getByRole('row', { name: /prod-contracts-flow-legal/ })).toBeVisible();

    // Key detail: facts, chart, flows and history.
    await page.getByRole('link', { name: 'prod-invoice-flow-finance' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'prod-invoice-flow-finance' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Flows using this key' })).toContainText('a1b2c3d4-invoice-approval');
    await expect(page.getByText('Key created')).toBeVisible();
    await expect(page.locator('.recharts-surface').first()).toBeVisible();
    // An absolute time says its time zone (this browser is in UTC).
    await expect(page.getByText(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC$/).first()).toBeVisible();
    await expectAccessible(page, 'the key page');
    await saveScreenshot(page, 'key-detail', { fullPage: true });

    // A flow still calling a revoked key is flagged.
    await page.goto('/keys?status=revoked');
    await page.getByRole('link', { name: 'dev-reports-app-ops' }).click();
    await expect(page.getByText(/still calling this revoked key/)).toBeVisible();
    await expect(page.getByText('Calling a dead key')).toBeVisible();

    await visit(page, 'Usage', 'Usage');
    await expect(page.getByText('Document actions').first()).toBeVisible();
    await expect(page.getByRole('table', { name: 'Requests by action' })).toContainText('CheckConnection');
    await expectAccessible(page, 'Usage');
    await saveScreenshot(page, 'usage', { fullPage: true });

    await visit(page, 'Users', 'Users');
    await expect(page.getByText('Mia Member')).toBeVisible();
    await expectAccessible(page, 'Users');
    await saveScreenshot(page, 'users');
    await page.getByRole('button', { name: 'Deactivate Mia Member' }).click();
    await expect(page.getByRole('dialog', { name: 'Deactivate user' })).toContainText('Their keys stay active');
    await expectAccessible(page, 'the Deactivate dialog');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await visit(page, 'Audit Logs', 'Audit Logs');
    await expect(page.getByRole('table', { name: 'Audit log' })).toContainText('Key revoked');
    await expectAccessible(page, 'Audit Logs');
    await saveScreenshot(page, 'audit-logs');
    await page.getByRole('combobox', { name: 'Event type' }).click();
    await page.getByRole('option', { name: 'Key suspended' }).click();
    await expect(page.getByRole('table', { name: 'Audit log' })).not.toContainText('Key revoked');
    await expect(page.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', /eventType=key\.suspended/);

    await visit(page, 'Subscription', 'Subscription');
    await expect(page.getByText('Standard').first()).toBeVisible();
    await expect(page.getByRole('table', { name: 'Plan limits' })).toContainText('5,000');
    await expectAccessible(page, 'Subscription');
    await saveScreenshot(page, 'subscription');

    await visit(page, 'Connector', 'Connector');
    await expect(page.getByText(new URL(baseURL!).host).first()).toBeVisible();
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download connector (.zip)' }).click();
    expect((await download).suggestedFilename()).toBe('build-a-doc-connector.zip');
    await expectAccessible(page, 'Connector');
    await saveScreenshot(page, 'connector', { fullPage: true });

    await visit(page, 'Troubleshooting', 'Troubleshooting');
    await page.getByRole('textbox', { name: 'API key' }).fill(`${invoice.secret} `);
    await page.getByRole('button', { name: 'Test key' }).click();
    await expect(page.getByRole('heading', { name: 'This key works' })).toBeVisible();
    await expectAccessible(page, 'Troubleshooting');
    await saveScreenshot(page, 'troubleshooting');

    // 375 px wide: the page does not scroll sideways; navigation is behind the menu button.
    await page.setViewportSize({ width: 375, height: 780 });
    await expect(page.getByRole('navigation').getByRole('link', { name: 'API Keys' })).toBeHidden();
    await page.getByRole('button', { name: 'Open navigation' }).click();
    await visit(page, 'API Keys', 'API Keys');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // Keys are cards: each fits the screen, its menu in reach, its facts labelled.
    const card = page.getByRole('row', { name: /prod-invoice-flow-finance/ });
    expect((await card.boundingBox())!.width).toBeLessThanOrEqual(375);
    const menu = card.getByRole('button', { name: 'Actions for prod-invoice-flow-finance' });
    await menu.scrollIntoViewIfNeeded();
    await expect(menu).toBeInViewport();
    expect(await card.locator('td[data-label="Last used"]').evaluate((cell) => getComputedStyle(cell, '::before').content)).toBe('"Last used"');
    await expectRowsFit(page, page.getByRole('table', { name: 'API keys' }), 'API keys');
    await expect(page.getByRole('button', { name: 'Last used' })).toBeVisible();
    await expect(page.getByRole('banner').getByText('Contoso Finance')).toBeVisible();
    await expect(page.getByRole('banner').getByText('Admin', { exact: true })).toBeVisible();
    await expectAccessible(page, 'API Keys at 375 px');
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, 'api-keys-mobile');
    await page.getByRole('button', { name: 'Open navigation' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Troubleshooting' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Troubleshooting' })).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });

  test('the audit log and the webhooks read right at 1280 and 375 px: whole entries, named buttons, details for the keyboard', async ({ page }) => {
    await signUp(page, newPerson('Ann Admin', 'Contoso Finance'));
    const key = await createKeyViaApi(page.request, 'prod-contracts-flow-legal', { team: 'legal' });
    // More entries than a page of the log holds (50), so it has pages to move between.
    for (let i = 0; i < 52; i++) {
      expect((await page.request.patch(`/api/keys/${key.id}`, { data: { team: i % 2 ? 'legal' : 'legal-ops' } })).status()).toBe(200);
    }
    // An endpoint for an event that does not happen here: listed, never delivered to.
    const hook = 'http://127.0.0.1:9/hooks/contoso-finance/build-a-doc-events';
    expect((await page.request.post('/api/webhooks', { data: { url: hook, eventTypes: ['quota.threshold'], description: 'Quota alerts' } })).status()).toBe(
      201,
    );
    expect((await page.request.post(`/api/keys/${key.id}/revoke`)).status()).toBe(200);

    await visit(page, 'Audit Logs', 'Audit Logs');
    const log = page.getByRole('table', { name: 'Audit log' });
    await expect(log).toContainText('Key revoked');
    // Every kind of entry is named in words, a webhook's too, and its endpoint by its URL.
    const hookRow = log.getByRole('row', { name: /Webhook added/ });
    await expect(hookRow.getByRole('link', { name: hook })).toHaveAttribute('href', '/webhooks');
    await expect(log).not.toContainText('webhook.created');
    // Details longer than two lines are not left to a hover: a button shows them all, from the keyboard too.
    const hookDetails = hookRow.getByText(/eventTypes/);
    expect(await hookDetails.evaluate((text) => text.scrollHeight > text.clientHeight + 1), 'the details are cut to two lines').toBe(true);
    await hookRow.getByRole('button', { name: 'Show all details' }).focus();
    await page.keyboard.press('Enter');
    await expect(hookRow.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
    expect(await hookDetails.evaluate((text) => text.scrollHeight <= text.clientHeight + 1), 'all the details show').toBe(true);
    // The oldest entry is on the second page.
    await expect(log).not.toContainText('Organisation created');
    await page.getByRole('button', { name: 'next page' }).click();
    await expect(log).toContainText('Organisation created');
    await page.getByRole('button', { name: 'previous page' }).click();
    await expect(log).toContainText('Key revoked');

    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 800 });
      // Cards at 375 px: nothing scrolls sideways, no badge is cut short.
      await expectRowsFit(page, log, 'Audit log');
      // The pages of the log, and the arrows of its date picker, have names (axe: button-name).
      await expect(page.getByRole('button', { name: 'next page' })).toBeEnabled();
      await expectAccessible(page, `Audit Logs at ${width} px`);
      await page.getByRole('button', { name: 'Date range' }).click();
      await expect(page.getByRole('button', { name: 'Previous month' })).toBeVisible();
      await expectAccessible(page, `the audit date picker at ${width} px`);
      await page.keyboard.press('Escape');
    }
    await page.goto('/webhooks');
    const endpoints = page.getByRole('table', { name: 'Webhook endpoints' });
    await expect(endpoints).toContainText(hook);
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await expectRowsFit(page, endpoints, 'Webhook endpoints');
      await expectAccessible(page, `Webhooks at ${width} px`);
    }
  });

  test('in dark mode, every page is accessible too (contrast differs)', async ({ page, baseURL }) => {
    await seedOrganisation(page, baseURL!);
    await page.reload();
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
    for (const [link, heading] of [
      ['API Keys', 'API Keys'],
      ['Usage', 'Usage'],
      ['Users', 'Users'],
      ['Audit Logs', 'Audit Logs'],
      ['Subscription', 'Subscription'],
      ['Connector', 'Connector'],
      ['Troubleshooting', 'Troubleshooting'],
    ] as const) {
      await visit(page, link, heading);
      await expect(page.locator('.mantine-Skeleton-root')).toHaveCount(0);
      await expectAccessible(page, `${link} in dark mode`);
      if (link === 'API Keys') await saveScreenshot(page, 'api-keys-dark');
    }
    await visit(page, 'API Keys', 'API Keys');
    await page.getByRole('link', { name: 'prod-invoice-flow-finance' }).click();
    await expect(page.getByRole('table', { name: 'Flows using this key' })).toContainText('a1b2c3d4-invoice-approval');
    await expectAccessible(page, 'the key page in dark mode');
    await page.getByRole('button', { name: 'Switch to light mode' }).click();
  });

  test("a call shows on its key's page within a few seconds, as the page says, without reloading", async ({ page }) => {
    await signUp(page, newPerson());
    const key = await createKeyViaApi(page.request, 'prod-live-flow-ops');
    await page.goto(`/keys/${key.id}`);
    await expect(page.getByText('Calls made with this key appear here within a few seconds.')).toBeVisible();
    const lastUsed = page.getByText('Last used', { exact: true }).locator('..');
    await expect(lastUsed).toContainText('Never');
    expect((await callGateway(page.request, key.secret)).status()).toBe(200);
    // The page asks again every few seconds; every 30 s would miss these deadlines.
    await expect(page.getByText(/^1 requests? · 1 succeeded$/)).toBeVisible({ timeout: 10_000 });
    await expect(lastUsed).toContainText('seconds ago', { timeout: 10_000 });
  });

  test('focus goes back to what opened a dialog, or to the nearest thing left when that is gone', async ({ page }) => {
    await signUp(page, newPerson());
    const me = (await (await page.request.get('/api/me')).json()) as { organisation: { id: string } };
    cli('subscription', 'set', '--org', me.organisation.id, '--plan', 'standard');

    // The new key's dialog replaces the form's: once the key is put away, focus is back on the button that began it.
    await page.getByRole('button', { name: 'Create New Key' }).click();
    await page.getByRole('dialog', { name: 'Create New Key' }).getByRole('textbox', { name: 'Name' }).fill('prod-expenses-flow-finance');
    await page.getByRole('dialog', { name: 'Create New Key' }).getByRole('button', { name: 'Create' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('button', { name: 'Create New Key' })).toBeFocused();

    const quotes = await createKeyViaApi(page.request, 'test-quotes-flow-sales', { environment: 'test' });
    const contracts = await createKeyViaApi(page.request, 'prod-contracts-flow-legal');
    await page.reload();
    // Suspended from its row's menu: back to that menu's button.
    await page.getByRole('button', { name: 'Actions for test-quotes-flow-sales' }).click();
    await page.getByRole('menuitem', { name: 'Suspend' }).click();
    await page.getByRole('dialog', { name: 'Suspend key' }).getByRole('button', { name: 'Suspend key' }).click();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toContainText('Suspended');
    await expect(page.getByRole('button', { name: 'Actions for test-quotes-flow-sales' })).toBeFocused();
    // Revoked, its row leaves the list (revoked keys are hidden): the next row's menu button.
    await page.getByRole('button', { name: 'Actions for test-quotes-flow-sales' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke API key' });
    await revoke.getByRole('textbox').fill('test-quotes-flow-sales');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Actions for prod-expenses-flow-finance' })).toBeFocused();
    expect(quotes.id).toBeTruthy();

    // Rotated, the new key shows on the rotation page: once it is put away, focus is on that page's heading.
    await page.getByRole('button', { name: 'Actions for prod-expenses-flow-finance' }).click();
    await page.getByRole('menuitem', { name: 'Rotate' }).click();
    await page.getByRole('dialog', { name: 'Rotate key' }).getByRole('button', { name: 'Rotate key' }).click();
    const rotated = page.getByRole('dialog', { name: 'Your rotated key' });
    await rotated.getByRole('button', { name: 'Copy key' }).click();
    await rotated.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Rotation' })).toBeFocused();

    // On a key's page, Suspend gives way to Resume: focus goes to the page's heading, not to the top of the document.
    await page.goto(`/keys/${contracts.id}`);
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('dialog', { name: 'Suspend key' }).getByRole('button', { name: 'Suspend key' }).click();
    await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'prod-contracts-flow-legal' })).toBeFocused();

    // A webhook's deliveries, opened from its menu: back to that menu's button.
    const hook = 'http://127.0.0.1:9/hooks/focus-check';
    expect((await page.request.post('/api/webhooks', { data: { url: hook, eventTypes: ['quota.threshold'] } })).status()).toBe(201);
    await page.goto('/webhooks');
    await page.getByRole('button', { name: `Actions for ${hook}` }).click();
    await page.getByRole('menuitem', { name: 'Deliveries' }).click();
    await expect(page.getByRole('dialog', { name: 'Deliveries' })).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('button', { name: `Actions for ${hook}` })).toBeFocused();
  });

  test("a dialog closed the moment it opens from a menu gives focus back to that menu's button", async ({ page }) => {
    await signUp(page, newPerson());
    const hook = 'http://127.0.0.1:9/hooks/closed-at-once';
    const menu = page.getByRole('button', { name: `Actions for ${hook}` });
    expect((await page.request.post('/api/webhooks', { data: { url: hook, eventTypes: ['quota.threshold'] } })).status()).toBe(201);
    await page.goto('/webhooks');
    for (let attempt = 0; attempt < 3; attempt++) {
      await menu.click();
      // Escape the moment the dialog appears, as a quick hand (or a slow device) does: the menu that opened it is
      // still fading out then, and the dialog hands focus back to that fading menu, which drops it to the page.
      const escaped = page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            new MutationObserver((_, observer) => {
              const opened = document.querySelector('[role="dialog"][aria-labelledby]');
              if (document.getElementById(opened?.getAttribute('aria-labelledby') ?? '')?.textContent !== 'Deliveries') return;
              observer.disconnect();
              (document.activeElement ?? document.body).dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
              resolve();
            }).observe(document.body, { childList: true, subtree: true });
          }),
      );
      await page.getByRole('menuitem', { name: 'Deliveries' }).click();
      await escaped;
      await expect(page.getByRole('dialog', { name: 'Deliveries' })).toHaveCount(0);
      await expect(menu).toBeFocused();
    }
  });

  test('the keyboard alone creates a key', async ({ page }) => {
    await signUp(page, newPerson());
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Create New Key') break;
    }
    await page.keyboard.press('Enter');
    const create = page.getByRole('dialog', { name: 'Create New Key' });
    await expect(create.getByRole('textbox', { name: 'Name' })).toBeFocused();
    await page.keyboard.type('prod-keyboard-flow-a11y');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('dialog', { name: 'Your new API key' })).toBeVisible();
  });

  test.describe('signed out', () => {
    test.use({ expectedFailedStatuses: [401, 404] });

    test('signed-out pages are accessible', async ({ page }) => {
      // An unknown invitation link is looked up (404) and explained.
      test.info().annotations.push({ type: 'note', description: 'the made-up invitation link is answered 404 on purpose' });
      await page.goto('/');
      await expect(page).toHaveURL(/\/signin$/);
      await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
      await expectAccessible(page, 'Sign in');
      await saveScreenshot(page, 'sign-in');

      await page.getByRole('link', { name: 'Create an organisation' }).click();
      await expect(page.getByRole('heading', { name: 'Create your organisation' })).toBeVisible();
      await expectAccessible(page, 'Sign up');
      await saveScreenshot(page, 'sign-up');

      await page.goto('/accept-invitation#token=not-a-real-token-0000');
      await expect(page.getByRole('heading', { name: 'Accept your invitation' })).toBeVisible();
      await expect(page.getByRole('alert')).toContainText('This invitation cannot be used');
      await expectAccessible(page, 'Accept invitation');

      await page.goto('/accept-invitation');
      await expect(page.getByText('This invitation link is incomplete')).toBeVisible();
    });
  });

  test('a wrong password is explained on the sign-in page', async ({ page }) => {
    test.info().annotations.push({ type: 'note', description: 'the sign-in request fails with 401 on purpose' });
    await page.goto('/signin');
    await page.getByRole('textbox', { name: 'Email' }).fill('nobody@example.com');
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('The email or password is not correct.');
  });
});
