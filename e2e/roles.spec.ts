import { acceptInvitation, createKeyViaApi, expect, newPerson, saveScreenshot, signUp, test, watchForErrors } from './support.js';

test.describe('roles', () => {
  test("a Member invited from the Users page cannot revoke an Admin's key", async ({ page, browser, baseURL }) => {
    const admin = newPerson('Ann Admin');
    await signUp(page, admin);
    await createKeyViaApi(page.request, 'prod-payroll-flow-hr');

    // The Admin invites a Member and copies the one-time link.
    await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
    await page.getByRole('button', { name: 'Invite user' }).click();
    const invite = page.getByRole('dialog', { name: 'Invite user' });
    const memberEmail = newPerson('Mia Member').email;
    await invite.getByRole('textbox', { name: 'Email' }).fill(memberEmail);
    await expect(invite.getByRole('combobox', { name: 'Role' })).toHaveValue('Member');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    const created = page.getByRole('dialog', { name: 'Invitation created' });
    const link = (await created.getByLabel('Invitation link').textContent())?.trim() ?? '';
    expect(link).toMatch(new RegExp(`^${baseURL}/accept-invitation#token=`));
    await created.getByRole('button', { name: 'Done' }).click();

    // The Member accepts in their own browser.
    const memberContext = await browser.newContext({ baseURL });
    const member = await memberContext.newPage();
    const errors = watchForErrors(member);
    // The accept page says who invites whom, to what, before anything is typed.
    await member.goto(link);
    await expect(member.getByText(`Ann Admin invites you to join ${admin.organisation} as a Member (${memberEmail})`)).toBeVisible();
    await saveScreenshot(member, 'accept-invitation');
    await acceptInvitation(member, link, 'Mia Member');
    await expect(member.getByRole('banner').getByText('Member', { exact: true })).toBeVisible();
    await expect(member.getByRole('banner').getByText(admin.organisation)).toBeVisible();

    // The Admin's key is visible, but its actions are disabled with the reason.
    await member.getByRole('button', { name: 'Actions for prod-payroll-flow-hr' }).click();
    await expect(member.getByRole('menuitem', { name: 'Revoke' })).toBeDisabled();
    await expect(member.getByRole('menuitem', { name: 'Delete' })).toBeDisabled();
    await expect(member.getByText('Members manage only the keys they created; this key belongs to Ann Admin.')).toBeVisible();
    await member.keyboard.press('Escape');

    await member.getByRole('link', { name: 'prod-payroll-flow-hr' }).click();
    await expect(member.getByRole('button', { name: 'Revoke' })).toBeDisabled();
    await expect(member.getByRole('note')).toContainText('Members manage only the keys they created');

    // A Member may create keys of their own, and manage those.
    await member.getByRole('navigation').getByRole('link', { name: 'API Keys' }).click();
    await expect(member.getByRole('button', { name: 'Create New Key' })).toBeEnabled();
    // Members cannot manage the team.
    await member.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
    await expect(member.getByRole('button', { name: 'Invite user' })).toBeDisabled();
    await expect(member.getByText('Only Admins can invite people')).toBeVisible();
    expect(errors).toEqual([]);
    await memberContext.close();
  });
});
