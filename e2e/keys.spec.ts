import { callGateway, expect, newPerson, signUp, test } from './support.js';

test.describe('API keys', () => {
  test('an Admin creates a key, copies it, a flow uses it, and revoking it stops the very next request', async ({ page, request }) => {
    const admin = newPerson();
    await signUp(page, admin);
    await expect(page.getByText(admin.organisation).first()).toBeVisible();
    await expect(page.getByText('Admin', { exact: true }).first()).toBeVisible();
    await expect(page.getByText('No API keys yet')).toBeVisible();

    // Create New Key: a vague name is warned about before creating.
    await page.getByRole('button', { name: 'Create New Key' }).click();
    const create = page.getByRole('dialog', { name: 'Create New Key' });
    await create.getByRole('textbox', { name: 'Name' }).fill('Key1');
    await expect(create.getByText('does not say where the key is used')).toBeVisible();
    await create.getByRole('textbox', { name: 'Name' }).fill('prod-invoice-flow-finance');
    await expect(create.getByText('does not say where the key is used')).toBeHidden();
    await create.getByRole('textbox', { name: 'Team' }).fill('finance');
    await create.getByText('90 days').click();
    await create.getByRole('button', { name: 'Create' }).click();

    // The key is shown once, in full, with the warnings.
    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    await expect(shown.getByText("This key won't be shown again")).toBeVisible();
    await expect(shown.getByText(/password manager or in Azure Key Vault/)).toBeVisible();
    const secret = (await shown.getByLabel('The new API key').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^bdoc_[0-9A-Za-z]{36}$/);

    // Closing before copying asks first.
    await shown.getByRole('button', { name: 'Close', exact: true }).click();
    await expect(shown.getByText('You have not copied the key')).toBeVisible();
    await shown.getByRole('button', { name: 'Go back to the key' }).click();

    await shown.getByRole('button', { name: 'Copy key' }).click();
    await expect(shown.getByText('Copied to the clipboard.')).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect(shown).toBeHidden();

    const row = page.getByRole('row', { name: /prod-invoice-flow-finance/ });
    await expect(row).toContainText(`${secret.slice(0, 9)}…${secret.slice(-4)}`);
    await expect(row).toContainText('Active');
    await expect(row).toContainText('Never');

    // A Power Automate flow calls the gateway with the copied key.
    const accepted = await callGateway(request, secret, 'invoice-approval-flow');
    expect(accepted.status()).toBe(200);
    expect(await accepted.json()).toMatchObject({ keyName: 'prod-invoice-flow-finance', organisation: admin.organisation });

    // The row shows a recent "last used" and the flow (usage is flushed within a second).
    await expect(async () => {
      await page.reload();
      await expect(row).toContainText('a few seconds ago', { timeout: 3_000 });
    }).toPass({ timeout: 15_000 });
    await expect(row.getByRole("cell").nth(7)).toHaveText('1');

    await row.getByRole('link', { name: 'prod-invoice-flow-finance' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'prod-invoice-flow-finance' })).toBeVisible();
    const flows = page.getByRole('table', { name: 'Flows using this key' });
    await expect(flows).toContainText('invoice-approval-flow');
    await expect(flows).toContainText('westeurope');
    await page.getByRole('link', { name: 'All API keys' }).click();

    // Revoke, confirmed by typing the key's name.
    await page.getByRole('button', { name: 'Actions for prod-invoice-flow-finance' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke API key' });
    await expect(confirm).toContainText('takes effect immediately');
    await expect(confirm).toContainText('401 api_key_revoked');
    await expect(confirm).toContainText('This cannot be undone');
    const revoke = confirm.getByRole('button', { name: 'Revoke key' });
    await expect(revoke).toBeDisabled();
    await confirm.getByLabel("Type the key's name to confirm").fill('prod-invoice-flow-finance');
    await revoke.click();
    await expect(confirm).toBeHidden();

    const refused = await callGateway(request, secret, 'invoice-approval-flow');
    expect(refused.status()).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'api_key_revoked' });
    await expect(row).toContainText('Revoked');
  });
});
