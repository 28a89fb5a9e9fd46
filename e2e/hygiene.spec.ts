import { request as apiRequest } from '@playwright/test';
import { callGateway, createKeyViaApi, expect, expectAccessible, expectRowsFit, newPerson, PASSWORD, saveScreenshot, signUp, test } from './support.js';

// The e2e server runs on the real clock, so the findings here are the ones reachable now:
// a revoked key still called, and keys whose owner was deactivated.
test.describe('key hygiene', () => {
  // Calling a revoked key is what makes it a finding; the gateway refuses it.
  test.use({ expectedFailedStatuses: [401] });

  for (const width of [1280, 375]) {
    test(`the banner shows the findings, filters by one and revokes the selected keys in one confirmation (${width} px)`, async ({
      page,
      request,
      baseURL,
    }) => {
      await page.setViewportSize({ width, height: 900 });
      await signUp(page, newPerson('Ann Admin', 'Fabrikam Logistics'));

      // A revoked key a flow still calls (a refused call only counts on a flow already known).
      const stale = await createKeyViaApi(page.request, 'prod-shipping-flow-ops');
      expect((await callGateway(request, stale.secret, 'shipping-labels')).status()).toBe(200);
      expect((await page.request.post(`/api/keys/${stale.id}/revoke`)).status()).toBe(200);
      expect((await callGateway(request, stale.secret, 'shipping-labels')).status()).toBe(401);

      // A colleague creates two keys, then leaves and is deactivated.
      const invited = await page.request.post('/api/invitations', { data: { email: newPerson('Mia Member').email, role: 'member' } });
      expect(invited.status()).toBe(201);
      const { url } = (await invited.json()) as { url: string };
      const colleague = await apiRequest.newContext({ baseURL });
      const accepted = await colleague.post('/api/invitations/accept', {
        data: { token: new URL(url).hash.replace('#token=', ''), name: 'Mia Member', password: PASSWORD },
      });
      expect(accepted.status()).toBe(200);
      const mia = ((await (await colleague.get('/api/me')).json()) as { user: { id: string } }).user.id;
      const customs = await createKeyViaApi(colleague, 'prod-customs-flow-trade');
      const tracking = await createKeyViaApi(colleague, 'test-tracking-flow-trade', { environment: 'test' });
      await colleague.dispose();
      expect((await page.request.post(`/api/members/${mia}/deactivate`)).status()).toBe(200);
      for (const key of [customs, tracking]) expect((await callGateway(request, key.secret, 'customs-declarations')).status()).toBe(200);

      // The refused call is recorded after the gateway answered: the banner shows it once it is.
      await expect
        .poll(async () => ((await (await page.request.get('/api/hygiene')).json()) as { findings: Array<{ kind: string }> }).findings.map((f) => f.kind))
        .toEqual(['revoked_still_called', 'owner_deactivated']);
      await page.goto('/keys');
      const banner = page.getByRole('alert').filter({ hasText: /needs? attention/ });
      await expect(banner).toContainText('3 keys need attention');
      await expect(banner.getByText('Revoked or expired keys still called in the last 7 days (1)')).toBeVisible();
      await expect(banner.getByText('Keys owned by a deactivated person (2)')).toBeVisible();

      // One finding: the revoked key, with the flow that still calls it.
      await banner.getByText('Revoked or expired keys still called in the last 7 days (1)').click();
      await expect(banner.getByRole('link', { name: 'prod-shipping-flow-ops' })).toBeVisible();
      await expect(banner.getByText('Still called by shipping-labels')).toBeVisible();
      // A revoked key cannot be rotated or revoked again: the fix is a new key for its flows.
      await expect(banner.getByText('Fix: Give their flows a new key (create a key, then update the connection in each flow).')).toBeVisible();
      await expect(banner.getByRole('checkbox', { name: /^Select / })).toHaveCount(0);
      await expect(banner.getByRole('button', { name: 'Revoke selected' })).toHaveCount(0);
      await expect(banner.getByRole('link', { name: 'prod-customs-flow-trade' })).toHaveCount(0);

      // The other finding: the deactivated colleague's keys.
      await banner.getByText('Keys owned by a deactivated person (2)').click();
      await expect(banner.getByText('Fix: Hand to someone else.')).toBeVisible();
      await expect(banner.getByRole('link', { name: 'prod-shipping-flow-ops' })).toHaveCount(0);
      await expect(banner.getByRole('button', { name: 'Revoke selected' })).toBeDisabled();
      await banner.getByRole('checkbox', { name: 'Select prod-customs-flow-trade' }).check();
      await banner.getByRole('checkbox', { name: 'Select test-tracking-flow-trade' }).check();
      // The finding's keys fit the screen, with their status and owner, at 375 px too.
      await expectRowsFit(page, banner.getByRole('table', { name: 'Keys of this finding' }), 'the hygiene banner');
      await expect(banner.getByRole('row', { name: /prod-customs-flow-trade/ })).toContainText('Mia Member');
      await expectAccessible(page, `the hygiene banner at ${width} px`);
      await saveScreenshot(page, width === 1280 ? 'hygiene' : 'hygiene-mobile', { fullPage: width !== 1280 });

      await banner.getByRole('button', { name: 'Revoke selected' }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke 2 keys?' });
      await expect(confirm.getByText('All of them change, or none does.')).toBeVisible();
      await expectAccessible(page, `the bulk revoke confirmation at ${width} px`);
      if (width === 1280) await saveScreenshot(page, 'hygiene-bulk-revoke');
      await confirm.getByRole('button', { name: 'Revoke 2 keys' }).click();
      await expect(page.getByText('2 keys changed.')).toBeVisible();
      await expect(confirm).toBeHidden();
      // Revoked keys leave the list; asked for, they show as revoked.
      const keyTable = page.getByRole('table', { name: 'API keys' });
      for (const name of ['prod-customs-flow-trade', 'test-tracking-flow-trade'])
        await expect(keyTable.getByRole('row', { name: new RegExp(name) })).toHaveCount(0);
      await page.goto('/keys?revoked=show');
      for (const name of ['prod-customs-flow-trade', 'test-tracking-flow-trade'])
        await expect(keyTable.getByRole('row', { name: new RegExp(name) })).toContainText('Revoked');
      await page.goto('/keys');
      // Revoked, the deactivated person's keys are no longer a finding; the revoked key still called still is.
      await expect(banner.getByText('Keys owned by a deactivated person', { exact: false })).toHaveCount(0);
      await expect(banner).toContainText('1 key needs attention');
      await expect(banner.getByText('Revoked or expired keys still called in the last 7 days (1)')).toBeVisible();

      // Both keys are refused on their very next call.
      for (const key of [customs, tracking]) expect((await callGateway(request, key.secret, 'customs-declarations')).status()).toBe(401);
    });
  }
});
