import { randomBytes } from 'node:crypto';
import { request as apiRequest } from '@playwright/test';
import { PASSWORD, expect, expectAccessible, expectRowsFit, newPerson, saveScreenshot, signUp, test } from './support.js';

test.describe('pending invitations', () => {
  test('an Admin sees who has not joined yet, resends one (the old link stops working) and withdraws another after confirming', async ({ page, baseURL }) => {
    // A long walk (invite, resend, accept, withdraw, then axe and screenshots at two widths): 18 s alone, over 60 s beside other specs.
    test.slow();
    await signUp(page, newPerson('Ann Admin'));
    const invite = async (email: string, role: string) => {
      const response = await page.request.post('/api/invitations', { data: { email, role } });
      expect(response.status()).toBe(201);
      return ((await response.json()) as { url: string }).url;
    };
    const stamp = randomBytes(4).toString('hex');
    // A long address: it wraps in the table and in a card rather than push either wider.
    const mia = `mia.${stamp}.accounts-payable-automation@example.com`;
    const oldLink = await invite(mia, 'member');
    await invite(`vic.${stamp}@example.com`, 'viewer');

    await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
    const pending = page.getByRole('table', { name: 'Pending invitations' });
    await expect(pending.getByRole('row', { name: new RegExp(mia) })).toContainText('Member');
    await expect(pending.getByRole('row', { name: new RegExp(`vic.${stamp}@example.com`) })).toContainText('Viewer');
    await expect(pending.getByRole('row', { name: new RegExp(`mia.${stamp}`) })).toContainText('Ann Admin');

    for (const [width, name] of [
      [1280, 'pending-invitations'],
      [375, 'pending-invitations-mobile'],
    ] as const) {
      await page.setViewportSize({ width, height: 800 });
      await pending.scrollIntoViewIfNeeded();
      // Table or cards, Resend and Withdraw are in reach and nothing is cut short.
      await expectRowsFit(page, pending, 'the pending invitations');
      await expect(pending.getByRole('button', { name: `Withdraw the invitation to vic.${stamp}@example.com` })).toBeInViewport();
      await expectAccessible(page, `pending invitations at ${width} px`);
      await saveScreenshot(page, name);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // Resend: a new link is shown once; the old one no longer works.
    const resend = page.getByRole('button', { name: `Resend the invitation to ${mia}` });
    await resend.click();
    const resent = page.getByRole('dialog', { name: 'Invitation sent again' });
    const newLink = (await resent.getByLabel('Invitation link').textContent())?.trim() ?? '';
    expect(newLink).toMatch(new RegExp(`^${baseURL}/accept-invitation#token=`));
    expect(newLink).not.toBe(oldLink);
    await expectAccessible(page, 'the resent invitation');
    await resent.getByRole('button', { name: 'Done' }).click();
    await expect(resent).toBeHidden();
    // Focus is back on the button that opened the dialog.
    await expect(resend).toBeFocused();
    const guest = await apiRequest.newContext({ baseURL });
    const tokenOf = (link: string) => new URL(link).hash.replace('#token=', '');
    expect((await guest.get(`/api/invitations/${tokenOf(oldLink)}`)).status()).toBe(404);
    expect((await guest.get(`/api/invitations/${tokenOf(newLink)}`)).status()).toBe(200);

    // Withdraw asks first; Cancel keeps the invitation.
    const withdraw = page.getByRole('button', { name: `Withdraw the invitation to vic.${stamp}@example.com` });
    await withdraw.click();
    const confirm = page.getByRole('dialog', { name: 'Withdraw invitation' });
    await expect(confirm).toContainText(`vic.${stamp}@example.com`);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toBeHidden();
    await expect(withdraw).toBeFocused();
    await expect(pending.getByRole('row', { name: new RegExp(`vic.${stamp}`) })).toBeVisible();
    await withdraw.click();
    // Checked once the dialog is there: an axe run that starts before it opens measures its fade-in.
    await expect(confirm).toContainText(`vic.${stamp}@example.com`);
    await expectAccessible(page, 'the withdraw confirmation');
    await confirm.getByRole('button', { name: 'Withdraw invitation' }).click();
    await expect(pending.getByRole('row', { name: new RegExp(`vic.${stamp}`) })).toHaveCount(0);
    await expect(pending.getByRole('row', { name: new RegExp(`mia.${stamp}`) })).toBeVisible();

    // The new link still works: Mia joins, and her invitation leaves the pending list.
    const accepted = await guest.post('/api/invitations/accept', { data: { token: tokenOf(newLink), name: 'Mia Member', password: PASSWORD } });
    expect(accepted.status()).toBe(200);
    await guest.dispose();
    await page.reload();
    const users = page.getByRole('table', { name: 'Users' });
    await expect(users.getByRole('row', { name: /Mia Member/ })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Pending invitations' })).toHaveCount(0);

    // The Users table, with Mia's role to choose and her long address, fits at both widths.
    for (const [width, name] of [
      [1280, 'users-with-member'],
      [375, 'users-with-member-mobile'],
    ] as const) {
      await page.setViewportSize({ width, height: 800 });
      await expectRowsFit(page, users, 'the Users table');
      const mias = users.getByRole('row', { name: /Mia Member/ });
      await expect(mias.getByRole('combobox', { name: 'Role of Mia Member' })).toBeInViewport();
      await expect(mias.getByRole('button', { name: 'Deactivate Mia Member' })).toBeVisible();
      await expectAccessible(page, `the Users table at ${width} px`);
      await saveScreenshot(page, name);
    }
  });
});
