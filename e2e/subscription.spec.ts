import type { Locator } from '@playwright/test';
import { acceptInvitation, createKeyViaApi, expect, newPerson, signUp, test, watchForErrors } from './support.js';

/** The "Allowed" cell of a limit in the Plan limits table. */
const allowed = (limits: Locator, limit: string) =>
  limits
    .getByRole('row', { name: new RegExp(limit) })
    .getByRole('cell')
    .nth(1);

test.describe('subscription', () => {
  test('an Admin changes the plan and the new limits apply at once', async ({ page }) => {
    await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
    // The Free plan allows two live keys.
    await createKeyViaApi(page.request, 'prod-invoice-flow-finance');
    await createKeyViaApi(page.request, 'prod-contracts-flow-legal');
    expect((await page.request.post('/api/keys', { data: { name: 'prod-quotes-flow-sales' } })).status()).toBe(403);

    await page.getByRole('navigation').getByRole('link', { name: 'Subscription' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Subscription' })).toBeVisible();
    const limits = page.getByRole('table', { name: 'Plan limits' });
    await expect(page.getByText('Free', { exact: true })).toBeVisible();
    await expect(allowed(limits, 'Document actions')).toHaveText('50');
    await expect(allowed(limits, 'Live API keys')).toHaveText('2');

    const change = page.getByRole('region', { name: 'Change plan' });
    await expect(change.getByRole('button', { name: 'Change plan' })).toBeDisabled();
    await change.getByRole('combobox', { name: 'New plan' }).click();
    await expect(page.getByRole('option', { name: 'Free' })).toHaveCount(0);
    await page.getByRole('option', { name: 'Standard' }).click();
    await change.getByRole('button', { name: 'Change plan' }).click();
    // A plan change is confirmed first.
    const confirm = page.getByRole('dialog', { name: 'Change the plan?' });
    await expect(confirm).toContainText('from Free to Standard');
    await confirm.getByRole('button', { name: 'Change to Standard' }).click();

    await expect(page.getByText('You are now on the Standard plan.')).toBeVisible();
    await expect(page.getByText('Standard', { exact: true }).first()).toBeVisible();
    await expect(allowed(limits, 'Document actions')).toHaveText('500');
    await expect(allowed(limits, 'Utility actions')).toHaveText('5,000');
    await expect(allowed(limits, 'Live API keys')).toHaveText('10');
    // The shell shows the new plan, and the third key is now allowed.
    await expect(page.getByText(/Admin · standard plan/i)).toBeVisible();
    await createKeyViaApi(page.request, 'prod-quotes-flow-sales');

    await page.getByRole('navigation').getByRole('link', { name: 'Audit Logs' }).click();
    await expect(page.getByRole('table', { name: 'Audit log' })).toContainText('Subscription changed');
  });

  test('after a move to a smaller plan, a limit already passed is said in words under the limits', async ({ page }) => {
    await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
    expect((await page.request.put('/api/subscription', { data: { plan: 'standard' } })).status()).toBe(200);
    for (const name of ['prod-invoice-flow-finance', 'prod-contracts-flow-legal', 'prod-quotes-flow-sales']) await createKeyViaApi(page.request, name);
    // Back to Free (two live keys): the three keys stay, the page says what that means.
    expect((await page.request.put('/api/subscription', { data: { plan: 'free' } })).status()).toBe(200);

    // Made behind the page's back (through the API): the page is opened afresh.
    await page.goto('/subscription');
    const limits = page.getByRole('region', { name: 'Limits' });
    await expect(limits.getByRole('table', { name: 'Plan limits' }).getByRole('row', { name: /Live API keys/ })).toContainText('3 (150 %)');
    const note = limits.getByRole('alert');
    await expect(note).toContainText('Over a limit of this plan');
    await expect(note).toContainText(
      "3 live API keys, 1 more than the plan's 2. Every one keeps working, but no key can be created until fewer than 2 are live",
    );
  });

  test('a Member sees the plan but may not change it', async ({ page, browser, baseURL }) => {
    await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
    const invited = await page.request.post('/api/invitations', { data: { email: newPerson('Mia Member').email, role: 'member' } });
    const { url } = (await invited.json()) as { url: string };

    const context = await browser.newContext({ baseURL });
    const member = await context.newPage();
    const errors = watchForErrors(member);
    await acceptInvitation(member, url, 'Mia Member');

    await member.getByRole('navigation').getByRole('link', { name: 'Subscription' }).click();
    const change = member.getByRole('region', { name: 'Change plan' });
    await expect(change).toContainText('Only Admins can change the plan.');
    await expect(change.getByRole('button', { name: 'Change plan' })).toHaveCount(0);
    expect((await member.request.put('/api/subscription', { data: { plan: 'large' } })).status()).toBe(403);
    expect(errors, "the Member's page logged errors").toEqual([]);
    await context.close();
  });
});
