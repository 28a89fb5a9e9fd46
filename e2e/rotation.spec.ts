import { callGateway, createKeyViaApi, expect, expectAccessible, expectRowsFit, newPerson, saveScreenshot, signUp, test } from './support.js';

test.describe('the rotation assistant', () => {
  for (const width of [1280, 375]) {
    test(`rotating shows the new key once, follows two flows as they move, then revokes the old key (${width} px)`, async ({ page, request }) => {
      await page.setViewportSize({ width, height: 900 });
      await signUp(page, newPerson('Ann Admin', 'Northwind Traders'));
      const old = await createKeyViaApi(page.request, 'prod-orders-flow-sales');
      for (const flow of ['orders-intake', 'refund-approvals']) expect((await callGateway(request, old.secret, flow)).status()).toBe(200);

      await page.goto('/keys');
      await page.getByRole('button', { name: 'Actions for prod-orders-flow-sales' }).click();
      await page.getByRole('menuitem', { name: 'Rotate' }).click();
      await page.getByRole('dialog', { name: 'Rotate key' }).getByRole('button', { name: 'Rotate key' }).click();

      const shown = page.getByRole('dialog', { name: 'Your rotated key' });
      const successor = (await shown.getByLabel('The new API key').textContent())?.trim() ?? '';
      expect(successor).toMatch(/^bdoc_/);
      await shown.getByRole('button', { name: 'Copy key' }).click();
      await shown.getByRole('button', { name: 'Done' }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Rotation' })).toBeVisible();
      // Both keys share a name: their last four characters tell them apart, and the old one is marked.
      const oldLink = page.getByRole('link', { name: `prod-orders-flow-sales …${old.secret.slice(-4)}`, exact: true });
      const newLink = page.getByRole('link', { name: `prod-orders-flow-sales …${successor.slice(-4)}`, exact: true });
      await expect(oldLink).toHaveAttribute('href', `/keys/${old.id}`);
      const { replacedByKeyId } = (await (await page.request.get(`/api/keys/${old.id}`)).json()) as { replacedByKeyId: string };
      await expect(newLink).toHaveAttribute('href', `/keys/${replacedByKeyId}`);
      const header = page.getByRole('main').getByText(/^From /);
      await expect(header).toContainText(`…${old.secret.slice(-4)} Replaced (old key) to`);

      const checklist = page.getByRole('table', { name: /Flows that used the old key/ });
      await expect(checklist.getByRole('row', { name: /orders-intake/ })).toContainText('Quiet since the rotation');
      await expect(checklist.getByRole('row', { name: /refund-approvals/ })).toContainText('Quiet since the rotation');
      await expect(page.getByText('Not yet safe to revoke')).toBeVisible();

      // The flows get the new key; the page follows them without a reload.
      for (const flow of ['orders-intake', 'refund-approvals']) expect((await callGateway(request, successor, flow)).status()).toBe(200);
      await expect(checklist.getByRole('row', { name: /orders-intake/ })).toContainText('Moved', { timeout: 15_000 });
      await expect(checklist.getByRole('row', { name: /refund-approvals/ })).toContainText('Moved', { timeout: 15_000 });
      await expect(page.getByText('2 of 2 flows have moved.')).toBeVisible();
      // Each flow's state reads whole ("Moved", not "MO…"), at 375 px as cards.
      await expectRowsFit(page, checklist, 'the rotation checklist');
      await expectAccessible(page, `the rotation assistant at ${width} px`);
      if (width === 1280) await saveScreenshot(page, 'rotation-assistant');
      else await saveScreenshot(page, 'rotation-assistant-mobile');

      // The old key was called minutes ago, so it is not "safe" yet; revoking is still one click away.
      await page.getByRole('button', { name: 'Revoke old key' }).click();
      await page.getByRole('dialog', { name: 'Revoke the old key?' }).getByRole('button', { name: 'Revoke prod-orders-flow-sales' }).click();
      await expect(page.getByText('The old key is revoked')).toBeVisible();
      await expect(header).toContainText(`…${old.secret.slice(-4)} Revoked (old key) to`);
      expect((await callGateway(request, old.secret, 'orders-intake')).status()).toBe(401);
      expect((await callGateway(request, successor, 'orders-intake')).status()).toBe(200);

      // The new key's page leads back to the rotation.
      await newLink.click();
      await expect(page.getByRole('link', { name: 'See which flows have moved to the new key' })).toBeVisible();
    });
  }
});
