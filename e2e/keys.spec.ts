import type { APIRequestContext } from '@playwright/test';
import { callGateway, createKeyViaApi, expect, newPerson, signUp, test } from './support.js';

/** The gateway's verdict on a key: 200, or the error code. */
async function verdict(request: APIRequestContext, key: string): Promise<string> {
  const response = await callGateway(request, key, 'contract-renewals-flow');
  return response.ok() ? 'ok' : ((await response.json()) as { code: string }).code;
}

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
    // The conventional name already says the environment and team: they are not asked again.
    await expect(create.getByText('From the name: environment Production, team finance.')).toBeVisible();
    await expect(create.getByRole('textbox', { name: 'Team' })).toHaveCount(0);
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
    await page.clock.install();
    await expect(async () => {
      await page.reload();
      await expect(row).toContainText('a few seconds ago', { timeout: 3_000 });
    }).toPass({ timeout: 15_000 });
    // Left open, the page keeps "last used" current.
    await page.clock.fastForward('05:00');
    await expect(row).toContainText('5 minutes ago');
    await expect(row.getByRole('cell').nth(7)).toHaveText('1');

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
    // The list hides revoked keys unless asked for them.
    await page.goto('/keys');
    await expect(row).toHaveCount(0);
    await page.goto('/keys?revoked=show');
    await expect(row).toContainText('Revoked');
  });
});

test.describe('API key actions', () => {
  // Suspending a key revoked meanwhile is refused with 409 on purpose.
  test.use({ expectedFailedStatuses: [409] });

  test('rotation without disruption, then rename, suspend, resume and delete from the key list', async ({ page, request }) => {
    // Some twenty steps in one story: on a loaded two-core machine it once ran past the 60 s default.
    test.slow();
    await signUp(page, newPerson());
    const old = await createKeyViaApi(page.request, 'prod-contracts-flow-legal', { team: 'legal' });
    await page.reload();
    expect(await verdict(request, old.secret)).toBe('ok');

    // Rotate: the successor is shown once; the old key keeps working until it is revoked.
    await page.getByRole('button', { name: 'Actions for prod-contracts-flow-legal' }).click();
    await page.getByRole('menuitem', { name: 'Rotate' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate key' });
    await expect(rotate.getByRole('radio', { name: 'Until I revoke it' })).toBeChecked();
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    const shown = page.getByRole('dialog', { name: 'Your rotated key' });
    const successor = (await shown.getByLabel('The new API key').textContent())?.trim() ?? '';
    expect(successor).toMatch(/^bdoc_[0-9A-Za-z]{36}$/);
    expect(successor).not.toBe(old.secret);
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByRole('button', { name: 'Done' }).click();
    // Rotating opens the rotation assistant (e2e/rotation.spec.ts); back to the list.
    await expect(page.getByRole('heading', { level: 1, name: 'Rotation' })).toBeVisible();
    await page.goto('/keys');

    const rows = page.getByRole('row', { name: /prod-contracts-flow-legal/ });
    await expect(rows).toHaveCount(2);
    const newRow = rows.filter({ hasText: 'Rotated successor' });
    const oldRow = rows.filter({ hasNotText: 'Rotated successor' });
    await expect(newRow).toContainText(`${successor.slice(0, 9)}…${successor.slice(-4)}`);
    await expect(newRow).toContainText('legal');
    await expect(oldRow).toContainText('Active');
    expect(await verdict(request, old.secret)).toBe('ok');
    expect(await verdict(request, successor)).toBe('ok');

    // The old key's page links to its successor.
    await oldRow.getByRole('link', { name: 'prod-contracts-flow-legal' }).click();
    await expect(page.getByText('Replaced by')).toBeVisible();
    await page.getByRole('link', { name: 'All API keys' }).click();

    // Flows updated and tested: revoke the old key; the successor carries on.
    await oldRow.getByRole('button', { name: 'Actions for prod-contracts-flow-legal' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke API key' });
    await revoke.getByLabel("Type the key's name to confirm").fill('prod-contracts-flow-legal');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await expect(revoke).toBeHidden();
    // The revoked key leaves the list (revoked keys are shown only when asked for); the successor stays.
    await expect(page.getByRole('row', { name: /prod-contracts-flow-legal/ })).toHaveCount(1);
    await expect(page.getByRole('row', { name: /prod-contracts-flow-legal/ })).toContainText('Rotated successor');
    expect(await verdict(request, old.secret)).toBe('api_key_revoked');
    expect(await verdict(request, successor)).toBe('ok');

    // Rename: the key itself does not change.
    await newRow.getByRole('button', { name: 'Actions for prod-contracts-flow-legal' }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename key' });
    await rename.getByRole('textbox', { name: 'Name' }).fill('prod-contracts-renewals-legal');
    await rename.getByRole('button', { name: 'Save name' }).click();
    const renamed = page.getByRole('row', { name: /prod-contracts-renewals-legal/ });
    await expect(renamed).toContainText('Active');
    expect(await verdict(request, successor)).toBe('ok');

    // A failed action explains itself, and is forgotten once the dialog is cancelled.
    const spare = await createKeyViaApi(page.request, 'prod-spare-flow-ops');
    await page.reload();
    // The list shows the key as it was (active, so Suspend is offered) before it is revoked behind the page's back.
    await expect(page.getByRole('row', { name: /prod-spare-flow-ops/ })).toContainText('Active');
    expect((await page.request.post(`/api/keys/${spare.id}/revoke`)).status()).toBe(200);
    await page.getByRole('button', { name: 'Actions for prod-spare-flow-ops' }).click();
    await page.getByRole('menuitem', { name: 'Suspend' }).click();
    const suspend = page.getByRole('dialog', { name: 'Suspend key' });
    await suspend.getByRole('button', { name: 'Suspend key' }).click();
    await expect(suspend.getByRole('alert')).toBeVisible();
    await suspend.getByRole('button', { name: 'Cancel' }).click();
    await expect(suspend).toBeHidden();

    // Suspend, then resume.
    await renamed.getByRole('button', { name: 'Actions for prod-contracts-renewals-legal' }).click();
    await page.getByRole('menuitem', { name: 'Suspend' }).click();
    await expect(suspend).toBeVisible();
    await expect(suspend.getByRole('alert')).toHaveCount(0);
    await suspend.getByRole('button', { name: 'Suspend key' }).click();
    await expect(renamed).toContainText('Suspended');
    expect(await verdict(request, successor)).toBe('api_key_suspended');
    await renamed.getByRole('button', { name: 'Actions for prod-contracts-renewals-legal' }).click();
    await page.getByRole('menuitem', { name: 'Resume' }).click();
    await expect(renamed).toContainText('Active');
    expect(await verdict(request, successor)).toBe('ok');

    // Delete, confirmed by typing the name: the row goes, the key stops at once.
    await renamed.getByRole('button', { name: 'Actions for prod-contracts-renewals-legal' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const remove = page.getByRole('dialog', { name: 'Delete API key' });
    await expect(remove).toContainText('cannot be undone');
    await remove.getByLabel("Type the key's name to confirm").fill('prod-contracts-renewals-legal');
    await remove.getByRole('button', { name: 'Delete key' }).click();
    await expect(renamed).toHaveCount(0);
    expect(await verdict(request, successor)).toBe('api_key_revoked');
  });

  test('deleting a key from its own page leads back to the list', async ({ page, request }) => {
    await signUp(page, newPerson());
    const key = await createKeyViaApi(page.request, 'test-drafts-flow-sales', { environment: 'test' });
    await page.goto(`/keys/${key.id}`);
    await expect(page.getByRole('heading', { level: 1, name: 'test-drafts-flow-sales' })).toBeVisible();
    await page.getByRole('button', { name: 'Delete' }).click();
    const remove = page.getByRole('dialog', { name: 'Delete API key' });
    await remove.getByLabel("Type the key's name to confirm").fill('test-drafts-flow-sales');
    await remove.getByRole('button', { name: 'Delete key' }).click();
    // Back on the list, without asking again for the deleted key (the console guard fails on a 404).
    await expect(page).toHaveURL(/\/keys$/);
    await expect(page.getByText('No API keys yet')).toBeVisible();
    expect(await verdict(request, key.secret)).toBe('api_key_revoked');
  });
});
