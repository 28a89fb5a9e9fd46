import { createKeyViaApi, expect, newPerson, signUp, test } from './support.js';

test.describe('Troubleshooting', () => {
  // The page calls the gateway with keys that are refused on purpose.
  test.use({ expectedFailedStatuses: [401] });

  test('explains a key pasted with a trailing space, and what the key itself answers', async ({ page }) => {
    await signUp(page, newPerson());
    const { secret } = await createKeyViaApi(page.request, 'prod-contracts-flow-legal');
    await page.getByRole('navigation').getByRole('link', { name: 'Troubleshooting' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Troubleshooting' })).toBeVisible();

    await page.getByRole('textbox', { name: 'API key' }).fill(`${secret} `);
    await page.getByRole('button', { name: 'Test key' }).click();
    const problem = page.getByRole('alert').filter({ hasText: 'The pasted text is not exactly a key' });
    await expect(problem).toContainText('The key ends with a space');
    await expect(problem).toContainText('paste the key again without it');
    // Without the space, the key works.
    await expect(page.getByRole('heading', { name: 'This key works' })).toBeVisible();
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
