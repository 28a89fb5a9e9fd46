import { createKeyViaApi, expect, newPerson, signUp, test } from './support.js';

test.describe('Troubleshooting', () => {
  // The page calls the gateway with keys that are refused on purpose.
  test.use({ expectedFailedStatuses: [401] });

  test('explains a key pasted with an invisible non-breaking space; plain spaces around it are fine', async ({ page }) => {
    await signUp(page, newPerson());
    const { secret } = await createKeyViaApi(page.request, 'prod-contracts-flow-legal');
    await page.getByRole('navigation').getByRole('link', { name: 'Troubleshooting' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Troubleshooting' })).toBeVisible();

    await page.getByRole('textbox', { name: 'API key' }).fill(`${secret}\u00a0`);
    await page.getByRole('button', { name: 'Test key' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'The pasted text is not exactly a key' });
    await expect(problem).toContainText('The key ends with an invisible space character');
    await expect(problem).toContainText('paste the key again without it');
    // Without it, the key works.
    await expect(page.getByRole('heading', { name: 'This key works' })).toBeVisible();

    // Plain spaces around a header value are removed by HTTP: nothing to report.
    await page.getByRole('textbox', { name: 'API key' }).fill(`  ${secret} `);
    await page.getByRole('button', { name: 'Test key' }).click();
    await expect(page.getByRole('heading', { name: 'This key works' })).toBeVisible();
    await expect(page.getByRole('alert').filter({ hasText: 'The pasted text is not exactly a key' })).toHaveCount(0);
  });

  test('explains truncated, unknown and revoked keys with the fix for each', async ({ page }) => {
    await signUp(page, newPerson());
    const { id, secret } = await createKeyViaApi(page.request, 'prod-quotes-flow-sales');
    await page.getByRole('navigation').getByRole('link', { name: 'Troubleshooting' }).click();
    const input = page.getByRole('textbox', { name: 'API key' });
    const test = page.getByRole('button', { name: 'Test key' });

    await input.fill(secret.slice(0, 30));
    await test.click();
    await expect(page.getByRole('heading', { name: 'This is not a complete key' })).toBeVisible();
    await expect(page.getByText('api_key_malformed')).toBeVisible();

    await input.fill(`"${secret}"`);
    await test.click();
    await expect(page.getByText('The key is wrapped in quotes')).toBeVisible();

    await input.fill(`Bearer ${secret}`);
    await test.click();
    await expect(page.getByText('The key starts with "Bearer "')).toBeVisible();

    expect((await page.request.post(`/api/keys/${id}/revoke`)).status()).toBe(200);
    await input.fill(secret);
    await test.click();
    await expect(page.getByRole('heading', { name: 'This key was revoked' })).toBeVisible();
    await expect(page.getByText(/How to fix it:.*Create a new key/)).toBeVisible();
  });
});
