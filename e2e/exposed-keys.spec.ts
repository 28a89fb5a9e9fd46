import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createKeyViaApi, expect, newPerson, signUp, test } from './support.js';

/** GitHub's key list as the server reads it, with a key pair made here standing in for GitHub's. */
function githubStandIn() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyId = 'e2e-github-key';
  const file = path.join(process.env.E2E_DATA_DIR!, 'github-secret-scanning-keys.json');
  writeFileSync(
    file,
    JSON.stringify({ public_keys: [{ key_identifier: keyId, key: publicKey.export({ type: 'spki', format: 'pem' }).toString(), is_current: true }] }),
  );
  return (body: string) => ({
    'content-type': 'application/json',
    'github-public-key-identifier': keyId,
    'github-public-key-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64'),
  });
}

test.describe('Exposed keys and mail choices', () => {
  test('a key reported by secret scanning shows as exposed, with where it was found, on the list and its page', async ({ page, request }) => {
    const admin = newPerson('Ann Admin', 'Leaky Finance');
    await signUp(page, admin);
    const key = await createKeyViaApi(page.request, 'prod-leaky-flow-finance');
    const signed = githubStandIn();
    const url = 'https://github.com/octo/flows/blob/main/.env';
    const body = JSON.stringify([{ token: key.secret, type: 'build_a_doc_api_key', url, source: 'content' }]);
    const report = await request.post('/v1/secret-scanning/github', { headers: signed(body), data: body });
    expect(report.status(), await report.text()).toBe(200);

    // The report revoked the key; the list hides revoked keys unless asked.
    await page.goto('/keys?revoked=show');
    const row = page.getByRole('row').filter({ hasText: 'prod-leaky-flow-finance' });
    await expect(row.getByText('Exposed')).toBeVisible();
    await expect(row.getByText('Revoked')).toBeVisible();
    await row.getByRole('link', { name: 'prod-leaky-flow-finance' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'This key was found in public' });
    await expect(alert).toBeVisible();
    await expect(alert.getByRole('link', { name: url })).toHaveAttribute('href', url);
  });

  test('a person turns expiry reminders off; an Admin chooses what a leak report does', async ({ page }) => {
    await signUp(page, newPerson('Ann Admin', 'Quiet Finance'));
    await page.goto('/account');
    await expect(page.getByRole('heading', { level: 1, name: 'Account and mail' })).toBeVisible();
    const reminders = page.getByRole('switch', { name: 'Expiry reminders by mail' });
    await expect(reminders).toBeChecked();
    await reminders.click({ force: true });
    await expect(page.getByText('Expiry reminders are off.')).toBeVisible();
    // The choice is saved at once; the controlled radio shows it when the save starts, a moment after the click.
    const notify = page.getByRole('radio', { name: 'Only tell us' });
    await notify.click({ force: true });
    await expect(notify).toBeChecked();
    await expect(page.getByText('Saved.')).toBeVisible();
    await page.reload();
    await expect(page.getByRole('switch', { name: 'Expiry reminders by mail' })).not.toBeChecked();
    await expect(page.getByRole('radio', { name: 'Only tell us' })).toBeChecked();
  });
});
