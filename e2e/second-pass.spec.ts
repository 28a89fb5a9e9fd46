import { request as apiRequest, type Page } from '@playwright/test';
import {
  acceptInvitation,
  callGateway,
  createKeyViaApi,
  expect,
  expectAccessible,
  expectRowsFit,
  newPerson,
  saveScreenshot,
  signUp,
  test,
  watchForErrors,
} from './support.js';

const WIDTHS = [
  [1280, ''],
  [375, '-mobile'],
] as const;

/** Each page at both widths: accessible, nothing wider than the screen, and a screenshot. */
async function atBothWidths(page: Page, what: string, screenshot: string, check: (width: number) => Promise<void> = async () => {}) {
  for (const [width, suffix] of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    // The shell slides its menu away on a narrow screen: measure once it has.
    await page.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== 'running'));
    await check(width);
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width);
    await expectAccessible(page, `${what} at ${width} px`);
    await saveScreenshot(page, `${screenshot}${suffix}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function openFromMenu(page: Page, link: string, heading: string) {
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  if (!(await nav.isVisible())) await page.getByRole('button', { name: 'Open navigation' }).click();
  await nav.getByRole('link', { name: link }).click();
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
}

test.describe('the portal, second pass', () => {
  test.describe.configure({ timeout: 240_000 });

  test('a first visit, signed out, asks who is signed in and logs no error', async ({ page }) => {
    const probe = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/session');
    await page.goto('/');
    expect((await probe).status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    // The automatic console guard fails the test on any console error or failed request.
  });

  test('an Admin sees the key limit, creates a key from a conventional name, finds keys by pasting them, and every page reads right', async ({
    page,
    browser,
    baseURL,
  }) => {
    await signUp(page, newPerson('Ann Admin', 'Tailspin Toys'));

    // The key limit is shown before the form: the Free plan allows two live keys.
    await expect(page.getByTestId('key-allowance')).toHaveText('0 of 2 keys used');
    await page.getByRole('button', { name: 'Create New Key' }).click();
    const create = page.getByRole('dialog', { name: 'Create New Key' });
    await create.getByRole('textbox', { name: 'Name' }).fill('prod-invoice-flow-finance');
    // The name says the environment and team: shown, and not asked again.
    await expect(create.getByTestId('parsed-name')).toHaveText(/From the name: environment Production, team finance\./);
    await expect(create.getByRole('textbox', { name: 'Team' })).toHaveCount(0);
    await atBothWidths(page, 'the Create New Key dialog', 'create-key-from-name', async (width) => {
      // The expiry choice fits the dialog at every width.
      const expiry = create.locator('.mantine-SegmentedControl-root');
      const box = (await expiry.boundingBox())!;
      expect(box.x + box.width, `expiry control at ${width} px`).toBeLessThanOrEqual(width);
      await expect(create.getByText('Never', { exact: true })).toBeInViewport();
    });
    await create.getByRole('button', { name: 'Create' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    const secret = (await shown.getByLabel('The new API key').textContent())?.trim() ?? '';
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByRole('button', { name: 'Done' }).click();
    const created = (await (await page.request.get('/api/keys')).json()) as { items: Array<{ environment: string; team: string }> };
    expect(created.items[0]).toMatchObject({ environment: 'production', team: 'finance' });

    const second = await createKeyViaApi(page.request, 'test-quotes-flow-sales', { environment: 'test', team: 'sales' });
    expect((await callGateway(page.request, secret, 'a1b2c3d4-invoice-approval')).status()).toBe(200);
    await page.reload();
    // At the limit an Admin is pointed to the plan.
    const allowance = page.getByTestId('key-allowance');
    await expect(allowance).toContainText('2 of 2 keys used');
    await expect(allowance.getByRole('link', { name: 'See the plans' })).toHaveAttribute('href', '/subscription');
    await expect(page.getByRole('button', { name: 'Create New Key' })).toBeDisabled();

    // Revoked keys are hidden by default; the filter shows them.
    expect((await page.request.post(`/api/keys/${second.id}/revoke`)).status()).toBe(200);
    await page.reload();
    await expect(page.getByRole('row', { name: /prod-invoice-flow-finance/ })).toBeVisible();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toHaveCount(0);
    await expect(page.getByText('1 key (revoked keys hidden)')).toBeVisible();
    await page.getByRole('combobox', { name: 'Revoked keys' }).click();
    await page.getByRole('option', { name: 'Only revoked' }).click();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toContainText('Revoked');
    await expect(page.getByRole('row', { name: /prod-invoice-flow-finance/ })).toHaveCount(0);
    await page.getByRole('combobox', { name: 'Revoked keys' }).click();
    await page.getByRole('option', { name: 'Shown' }).click();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toBeVisible();
    // Page size is a choice, kept in the address.
    await page.getByRole('combobox', { name: 'Keys per page' }).click();
    await page.getByRole('option', { name: '10 per page' }).click();
    await expect(page).toHaveURL(/[?&]size=10/);

    // Pasting a whole key finds it; the server only ever receives its SHA-256.
    const asked: string[] = [];
    page.on('request', (request) => asked.push(request.url()));
    await page.getByRole('textbox', { name: 'Search' }).fill(secret);
    await expect(page).toHaveURL(/[?&]hash=[0-9a-f]{64}/);
    await expect(page.getByRole('row', { name: /prod-invoice-flow-finance/ })).toBeVisible();
    await expect(page.getByRole('row', { name: /test-quotes-flow-sales/ })).toHaveCount(0);
    await expect(page.getByText('Searching by the whole key: only its SHA-256 is sent.')).toBeVisible();
    // Its masked form (start…last four), as the list shows it, finds it too.
    await page.getByRole('textbox', { name: 'Search' }).fill(`${secret.slice(0, 9)}…${secret.slice(-4)}`);
    await expect(page).toHaveURL(new RegExp(`[?&]last4=${secret.slice(-4)}`));
    await expect(page.getByRole('row', { name: /prod-invoice-flow-finance/ })).toBeVisible();
    expect(
      asked.filter((url) => url.includes(secret.slice(9, -4))),
      'requests carrying the whole key',
    ).toEqual([]);
    await page.getByRole('navigation').getByRole('link', { name: 'API Keys' }).click();
    await atBothWidths(page, 'API Keys at the limit', 'api-keys-at-limit');

    // Focus returns to the row's menu button when a dialog opened from it closes.
    await page.getByRole('button', { name: 'Actions for prod-invoice-flow-finance' }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    await page.getByRole('dialog', { name: 'Rename key' }).getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('button', { name: 'Actions for prod-invoice-flow-finance' })).toBeFocused();

    // A key used this period and then deleted: Usage still counts its call.
    const gone = await createKeyViaApi(page.request, 'dev-scratch-app-ops', { environment: 'development', team: 'ops' });
    expect((await callGateway(page.request, gone.secret)).status()).toBe(200);
    expect((await page.request.delete(`/api/keys/${gone.id}`)).status()).toBe(204);
    await expect
      .poll(async () => ((await (await page.request.get('/api/usage')).json()) as { byKey: Array<{ keyId: string }> }).byKey.map((k) => k.keyId))
      .toContain(gone.id);

    // Usage: separate lines, not stacked areas, over the same period as the Subscription page.
    await openFromMenu(page, 'Usage', 'Usage');
    const usagePeriod = /This billing period: (\d{1,2} \w{3} \d{4})/.exec((await page.getByText(/^This billing period:/).textContent()) ?? '')?.[1];
    expect(usagePeriod).toBeTruthy();
    // One line per kind of request (document, utility, not billed, failed).
    await expect(page.locator('.recharts-line')).toHaveCount(4);
    // One point per day of the period so far: the days without calls are drawn at zero, not skipped.
    const { periodStart } = (await (await page.request.get('/api/usage')).json()) as { periodStart: string };
    const daysSoFar = Math.floor((Date.now() - Date.parse(`${periodStart.slice(0, 10)}T00:00:00Z`)) / 86_400_000) + 1;
    await expect(page.locator('.recharts-line-dots').first().locator('.recharts-line-dot')).toHaveCount(daysSoFar);
    await expect(page.locator('.recharts-area')).toHaveCount(0);
    // By key and by flow: the one call of this period, through its key and from its flow.
    const byKey = page.getByRole('table', { name: 'Requests by key' });
    const keyRow = byKey.getByRole('row', { name: /prod-invoice-flow-finance/ });
    await expect(keyRow.getByRole('cell')).toHaveText([/prod-invoice-flow-finance/, '1', '0']);
    const { items: keys } = (await (await page.request.get('/api/keys?q=prod-invoice-flow-finance')).json()) as { items: Array<{ id: string }> };
    await expect(keyRow.getByRole('link', { name: `prod-invoice-flow-finance …${secret.slice(-4)}`, exact: true })).toHaveAttribute(
      'href',
      `/keys/${keys[0]!.id}`,
    );
    await expect(byKey.getByRole('row', { name: /test-quotes-flow-sales/ })).toHaveCount(0);
    // The deleted key has no page: it is named, with its last four characters, and not linked.
    expect((await page.request.get(`/api/keys/${gone.id}`)).status()).toBe(404);
    const goneRow = byKey.getByRole('row', { name: /dev-scratch-app-ops/ });
    await expect(goneRow).toContainText(`dev-scratch-app-ops …${gone.secret.slice(-4)}`);
    await expect(goneRow).toContainText('Deleted');
    await expect(goneRow.getByRole('link')).toHaveCount(0);
    const byFlow = page.getByRole('table', { name: 'Flows seen this period' });
    await expect(byFlow.getByRole('columnheader', { name: 'Calls since first seen' })).toBeVisible();
    const flowRow = byFlow.getByRole('row', { name: /a1b2c3d4-invoice-approval/ });
    await expect(flowRow.getByRole('cell').last()).toHaveText('1');
    await expect(flowRow.getByRole('link', { name: 'a1b2c3d4-invoice-approval' })).toHaveAttribute('href', '/flows');
    await atBothWidths(page, 'Usage', 'usage-lines', async () => {
      await expectRowsFit(page, page.getByRole('table', { name: 'Requests by action' }), 'Usage by action');
    });
    await atBothWidths(page, 'Usage by key and by flow', 'usage-by-key-and-flow', async (width) => {
      await page.getByRole('region', { name: 'By key', exact: true }).scrollIntoViewIfNeeded();
      await expect(byKey, `the key table at ${width} px`).toBeVisible();
      await expect(byFlow, `the flow table at ${width} px`).toBeVisible();
      // Tables at 1280 px, cards at 375 px: neither scrolls sideways nor cuts a badge short.
      await expectRowsFit(page, byKey, 'Usage by key');
      await expectRowsFit(page, byFlow, 'Usage by flow');
    });

    // A key's chart covers the billing period, its outcomes side by side.
    await page.goto('/keys');
    await page.getByRole('link', { name: 'prod-invoice-flow-finance' }).click();
    await expect(page.getByRole('region', { name: new RegExp(`Requests per day since ${usagePeriod}`) })).toBeVisible();

    // Subscription: used against each limit, the same period, a confirmed plan change; the sidebar follows.
    await openFromMenu(page, 'Subscription', 'Subscription');
    await expect(page.getByText(new RegExp(`${usagePeriod} –`))).toBeVisible();
    const limits = page.getByRole('table', { name: 'Plan limits' });
    await expect(limits.getByRole('row', { name: /Live API keys/ })).toContainText('1 (50 %)');
    await atBothWidths(page, 'Subscription', 'subscription-used', async () => {
      await expectRowsFit(page, limits, 'Plan limits');
    });

    // A Member, signed in elsewhere, sees the plan change without reloading.
    const invited = await page.request.post('/api/invitations', { data: { email: newPerson('Mia Member').email, role: 'member' } });
    const { url } = (await invited.json()) as { url: string };
    const memberContext = await browser.newContext({ baseURL });
    const member = await memberContext.newPage();
    const memberErrors = watchForErrors(member);
    await acceptInvitation(member, url, 'Mia Member');
    await expect(member.getByTestId('sidebar-plan')).toHaveText(/Member · Free plan/);
    // At the limit a Member is told to ask an Admin, not sent to the plans.
    await createKeyViaApi(page.request, 'dev-reports-app-ops', { environment: 'development', team: 'ops' });
    await member.reload();
    await expect(member.getByTestId('key-allowance')).toContainText('Ask an Admin');
    await expect(member.getByTestId('key-allowance').getByRole('link', { name: 'See the plans' })).toHaveCount(0);

    const change = page.getByRole('region', { name: 'Change plan' });
    await change.getByRole('combobox', { name: 'New plan' }).click();
    await page.getByRole('option', { name: 'Standard' }).click();
    const trigger = change.getByRole('button', { name: 'Change plan' });
    await trigger.click();
    const confirm = page.getByRole('dialog', { name: 'Change the plan?' });
    await expect(confirm).toContainText('from Free to Standard');
    await expectAccessible(page, 'the plan change confirmation');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(trigger).toBeFocused();
    await expect(page.getByTestId('sidebar-plan')).toHaveText(/Free plan/);
    await trigger.click();
    await confirm.getByRole('button', { name: 'Change to Standard' }).click();
    await expect(page.getByTestId('sidebar-plan')).toHaveText(/Admin · Standard plan/);
    await expect
      .poll(
        async () => {
          // The Member's tab comes back into view: the portal refreshes what may have changed.
          await member.evaluate(() => window.dispatchEvent(new Event('visibilitychange')));
          return member.getByTestId('sidebar-plan').textContent();
        },
        { timeout: 30_000, intervals: [1_000] },
      )
      .toMatch(/Member · Standard plan/);
    expect(memberErrors).toEqual([]);
    await memberContext.close();

    // Audit log: names with links, whole badges, relative times with the exact time on hover.
    await openFromMenu(page, 'Audit Logs', 'Audit Logs');
    const log = page.getByRole('table', { name: 'Audit log' });
    const revokedRow = log.getByRole('row', { name: /Key revoked/ });
    await expect(revokedRow.getByRole('link', { name: 'test-quotes-flow-sales' })).toHaveAttribute('href', `/keys/${second.id}`);
    await expect(log).not.toContainText(second.id);
    const truncated = await log
      .locator('.mantine-Badge-root, .mantine-Badge-label')
      .evaluateAll((badges) => badges.filter((badge) => badge.scrollWidth > badge.clientWidth + 1).map((badge) => badge.textContent));
    expect(truncated, 'badges cut short at 1280 px').toEqual([]);
    // Every column fits at 1280 px: the log does not scroll sideways.
    const overflow = await log.evaluate((table) => {
      let box = table.parentElement;
      while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
      return box ? box.scrollWidth - box.clientWidth : 0;
    });
    expect(overflow, 'the audit log scrolls sideways at 1280 px').toBeLessThanOrEqual(0);
    await revokedRow.locator('time').first().hover();
    await expect(page.getByRole('tooltip')).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    await page.mouse.move(0, 0);
    // Gone, not fading: axe would measure a half-transparent tooltip's contrast.
    await expect(page.getByRole('tooltip')).toHaveCount(0);
    await atBothWidths(page, 'Audit Logs', 'audit-logs-named');

    // Reloading a portal page serves the app, not a JSON 404.
    await page.goto('/connector');
    await expect(page.getByRole('heading', { level: 1, name: 'Connector' })).toBeVisible();
    const guest = await apiRequest.newContext({ baseURL });
    const reload = await guest.get('/connector', { headers: { accept: 'text/html' } });
    expect(reload.status()).toBe(200);
    expect(reload.headers()['content-type']).toMatch(/^text\/html/);
    await guest.dispose();
  });
});
