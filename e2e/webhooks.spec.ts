import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptInvitation, expect, expectAccessible, newPerson, signUp, test, watchForErrors } from './support.js';

/** A real receiver on 127.0.0.1 that keeps what it was sent. */
async function receiver() {
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

test.describe('webhooks page', () => {
  for (const width of [1280, 375]) {
    test(`an Admin adds an endpoint, sees its secret once, sends a test, reads the deliveries and rotates the secret (${width} px)`, async ({ page }) => {
      const hooks = await receiver();
      try {
        await page.setViewportSize({ width, height: 800 });
        await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
        await page.goto('/webhooks');
        await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
        await expect(page.getByText('No webhook endpoints yet')).toBeVisible();
        await expectAccessible(page, `Webhooks (empty) at ${width} px`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);

        await page.getByRole('button', { name: 'Add endpoint' }).click();
        const dialog = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
        await dialog.getByRole('textbox', { name: 'URL' }).fill(hooks.url);
        await dialog.getByRole('textbox', { name: 'Description' }).fill('Operations alerts');
        await expectAccessible(page, `Add endpoint at ${width} px`);
        await dialog.getByRole('button', { name: 'Add endpoint' }).click();

        const shown = page.getByRole('dialog', { name: 'Webhook endpoint added' });
        const secret = (await shown.getByTestId('webhook-secret').textContent())!.trim();
        expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{44}$/);
        await expectAccessible(page, `the secret at ${width} px`);
        await shown.getByRole('button', { name: 'Done' }).click();

        const table = page.getByRole('table', { name: 'Webhook endpoints' });
        await expect(table).toContainText(hooks.url);
        await expect(table).toContainText('Enabled');
        // The secret is never shown again.
        await expect(page.getByText(secret)).toHaveCount(0);

        await table.getByRole('button', { name: `Actions for ${hooks.url}` }).click();
        await page.getByRole('menuitem', { name: 'Send test event' }).click();
        await expect(page.getByText('A webhook.test event is on its way.')).toBeVisible();
        await expect.poll(() => hooks.received.length).toBe(1);
        // Signed with the secret shown (Standard Webhooks).
        const got = hooks.received[0]!;
        const signed = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
          .update(`${got.headers['webhook-id']}.${got.headers['webhook-timestamp']}.${got.body}`)
          .digest('base64');
        expect(String(got.headers['webhook-signature'])).toBe(`v1,${signed}`);

        await table.getByRole('button', { name: `Actions for ${hooks.url}` }).click();
        await page.getByRole('menuitem', { name: 'Deliveries' }).click();
        const log = page.getByRole('dialog', { name: 'Deliveries' });
        await expect(log.getByRole('table', { name: 'Deliveries' })).toContainText('webhook.test');
        await expect(log.getByRole('table', { name: 'Deliveries' })).toContainText('succeeded · 200');
        await expectAccessible(page, `Deliveries at ${width} px`);
        await page.keyboard.press('Escape');

        await table.getByRole('button', { name: `Actions for ${hooks.url}` }).click();
        await page.getByRole('menuitem', { name: 'Rotate secret' }).click();
        const rotated = page.getByRole('dialog', { name: 'New signing secret' });
        const fresh = (await rotated.getByTestId('webhook-secret').textContent())!.trim();
        expect(fresh).toMatch(/^whsec_/);
        expect(fresh).not.toBe(secret);
        await expect(rotated).toContainText('The previous secret also signs deliveries until');
        await rotated.getByRole('button', { name: 'Done' }).click();

        await table.getByRole('button', { name: `Actions for ${hooks.url}` }).click();
        await page.getByRole('menuitem', { name: 'Delete' }).click();
        await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click();
        await expect(page.getByText('No webhook endpoints yet')).toBeVisible();
      } finally {
        await hooks.close();
      }
    });
  }

  test('an Admin pages through more endpoints than one page shows, newest first', async ({ page }) => {
    await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
    // Made through the API (setup): twelve endpoints, the page shows ten at a time.
    const urls: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const url = `http://127.0.0.1:9/hooks/${String(i).padStart(2, '0')}`;
      const created = await page.request.post('/api/webhooks', { data: { url, eventTypes: ['api_key.revoked'] } });
      expect(created.status(), await created.text()).toBe(201);
      urls.push(url);
    }
    await page.goto('/webhooks');
    const table = page.getByRole('table', { name: 'Webhook endpoints' });
    const rows = table.locator('tbody tr');
    await expect(rows).toHaveCount(10);
    await expect(rows.first()).toContainText(urls[11]!);
    await expect(page.getByText('1–10 of 12 endpoints')).toBeVisible();
    await expectAccessible(page, 'Webhooks, first page');

    await page.getByRole('button', { name: '2', exact: true }).click();
    await expect(rows).toHaveCount(2);
    await expect(page.getByText('11–12 of 12 endpoints')).toBeVisible();
    await expect(rows.nth(0)).toContainText(urls[1]!);
    await expect(rows.nth(1)).toContainText(urls[0]!);

    // Emptying the last page goes back to the page before it.
    for (const url of [urls[0]!, urls[1]!]) {
      await table.getByRole('button', { name: `Actions for ${url}` }).click();
      await page.getByRole('menuitem', { name: 'Delete' }).click();
      await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click();
      await expect(table).not.toContainText(url);
    }
    await expect(page.getByText('10 endpoints', { exact: true })).toBeVisible();
    await expect(rows).toHaveCount(10);
    await expect(rows.first()).toContainText(urls[11]!);
  });

  test('a Member has no Webhooks page', async ({ page, browser, baseURL }) => {
    await signUp(page, newPerson('Ann Admin', 'Fabrikam'));
    const invited = await page.request.post('/api/invitations', { data: { email: newPerson('Mia Member').email, role: 'member' } });
    const { url } = (await invited.json()) as { url: string };
    const context = await browser.newContext({ baseURL });
    const member = await context.newPage();
    const errors = watchForErrors(member);
    await acceptInvitation(member, url, 'Mia Member');
    await expect(member.getByRole('navigation').getByRole('link', { name: 'Webhooks' })).toHaveCount(0);
    await member.goto('/webhooks');
    await expect(member.getByText('Only Admins manage webhooks')).toBeVisible();
    expect((await member.request.get('/api/webhooks')).status()).toBe(403);
    expect(errors).toEqual([]);
    await context.close();
  });
});
