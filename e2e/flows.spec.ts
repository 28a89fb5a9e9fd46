import type { APIRequestContext } from '@playwright/test';
import { createKeyViaApi, expect, expectAccessible, expectRowsFit, newPerson, saveScreenshot, signUp, test } from './support.js';

const ENVIRONMENT = 'Default-7c1e2d3f-finance';

/** Calls the gateway as a flow of a known Power Platform environment does (or, without a flow, as a script). */
function call(request: APIRequestContext, key: string, flow?: { name: string; environment?: string }) {
  const headers: Record<string, string> = { 'x-api-key': key };
  if (flow) {
    headers['x-ms-workflow-name'] = flow.name;
    headers['x-ms-workflow-run-id'] = `run-${Date.now()}`;
    headers['x-ms-execution-location'] = 'westeurope';
    if (flow.environment) headers['x-ms-client-environment-id'] = flow.environment;
  }
  return request.get('/v1/connection', { headers });
}

async function flowTotal(request: APIRequestContext, keyId?: string): Promise<number> {
  const response = await request.get('/api/flows', { params: keyId ? { keyId } : {} });
  return ((await response.json()) as { total: number }).total;
}

test.describe('the Flows page', () => {
  // Three pages, three accessibility checks and a rotation: more than the default minute on a loaded machine.
  test.describe.configure({ timeout: 120_000 });
  for (const width of [1280, 375]) {
    test(`lists the flows that called, keeps a label across a rotation, filters by key and environment (${width} px)`, async ({ page, request }) => {
      await page.setViewportSize({ width, height: 900 });
      await signUp(page, newPerson('Ann Admin', 'Woodgrove Bank'));
      const invoices = await createKeyViaApi(page.request, 'prod-invoices-flow-finance');
      const quotes = await createKeyViaApi(page.request, 'test-quotes-flow-sales', { environment: 'test' });

      // A script's direct call makes no flow; two flows call, one from a known environment.
      expect((await call(request, invoices.secret)).status()).toBe(200);
      for (let i = 0; i < 2; i++) expect((await call(request, invoices.secret, { name: 'invoice-approval', environment: ENVIRONMENT })).status()).toBe(200);
      expect((await call(request, quotes.secret, { name: 'quote-builder' })).status()).toBe(200);
      await expect.poll(() => flowTotal(page.request)).toBe(2);

      await page.goto('/flows');
      await expect(page.getByRole('heading', { level: 1, name: 'Flows' })).toBeVisible();
      const table = page.getByRole('table', { name: 'Flows' });
      // The header row and one row per flow: the direct call is not among them.
      await expect(table.getByRole('row')).toHaveCount(3);
      const invoiceRow = table.getByRole('row', { name: /invoice-approval/ });
      const quoteRow = table.getByRole('row', { name: /quote-builder/ });
      await expect(invoiceRow).toContainText('prod-invoices-flow-finance');
      await expect(quoteRow).toContainText('test-quotes-flow-sales');

      // Power Automate's page for the flow, only where its environment is known.
      await expect(invoiceRow.getByRole('link', { name: 'Open in Power Automate' })).toHaveAttribute(
        'href',
        `https://make.powerautomate.com/environments/${ENVIRONMENT}/flows/invoice-approval/details`,
      );
      await expect(quoteRow.getByRole('link', { name: 'Open in Power Automate' })).toHaveCount(0);

      // A label for everyone in the organisation.
      await invoiceRow.getByRole('button', { name: 'Label invoice-approval' }).click();
      const labelDialog = page.getByRole('dialog', { name: 'Label flow' });
      await labelDialog.getByRole('textbox', { name: 'Label' }).fill('Invoice approval');
      await expectAccessible(page, `the label dialog at ${width} px`);
      await labelDialog.getByRole('button', { name: 'Save label' }).click();
      await expect(labelDialog).toBeHidden();
      const labelled = table.getByRole('row', { name: /Invoice approval/ });
      await expect(labelled).toContainText('invoice-approval');

      // The key is rotated and the flow moves to the new key: still one flow, still labelled, with both keys.
      const rotated = await page.request.post(`/api/keys/${invoices.id}/rotate`, { data: {} });
      expect(rotated.status()).toBe(201);
      const successor = (await rotated.json()) as { key: { id: string }; secret: string };
      expect((await call(request, successor.secret, { name: 'invoice-approval', environment: ENVIRONMENT })).status()).toBe(200);
      await expect.poll(() => flowTotal(page.request, successor.key.id)).toBe(1);
      await page.reload();
      await expect(table.getByRole('row')).toHaveCount(3);
      await expect(labelled.getByRole('link', { name: 'prod-invoices-flow-finance' })).toHaveCount(2);
      // The two keys share a name: their last four characters tell them apart, and the old one is marked.
      const oldKey = labelled.getByRole('link', { name: `prod-invoices-flow-finance …${invoices.secret.slice(-4)}`, exact: true });
      const newKey = labelled.getByRole('link', { name: `prod-invoices-flow-finance …${successor.secret.slice(-4)}`, exact: true });
      await expect(oldKey).toHaveAttribute('href', `/keys/${invoices.id}`);
      await expect(newKey).toHaveAttribute('href', `/keys/${successor.key.id}`);
      await expect(oldKey.locator('..')).toContainText('Replaced');
      await expect(newKey.locator('..')).not.toContainText('Replaced');
      await expectRowsFit(page, table, 'the Flows table');
      await expectAccessible(page, `the Flows page at ${width} px`);
      await saveScreenshot(page, width === 1280 ? 'flows' : 'flows-mobile', { fullPage: width !== 1280 });

      // By key: the old key's flows, then the test key's.
      const keyFilter = page.getByRole('combobox', { name: 'Key' });
      await keyFilter.click();
      await page.getByRole('option', { name: `test-quotes-flow-sales (…${quotes.secret.slice(-4)})` }).click();
      await expect(table.getByRole('row')).toHaveCount(2);
      await expect(quoteRow).toBeVisible();
      await keyFilter.click();
      await page.getByRole('option', { name: `prod-invoices-flow-finance (…${invoices.secret.slice(-4)})` }).click();
      await expect(table.getByRole('row')).toHaveCount(2);
      await expect(labelled).toBeVisible();
      if (width === 1280) await saveScreenshot(page, 'flows-by-key');

      // By environment, the key filter cleared.
      await page.reload();
      await expect(table.getByRole('row')).toHaveCount(3);
      await page.getByRole('textbox', { name: 'Environment' }).fill(ENVIRONMENT);
      await expect(table.getByRole('row')).toHaveCount(2);
      await expect(labelled).toBeVisible();
      await page.getByRole('textbox', { name: 'Environment' }).fill('Default-unknown');
      await expect(page.getByText('No flow matches these filters')).toBeVisible();

      // Each key's page lists its own flows, with the organisation's label.
      await page.goto(`/keys/${quotes.id}`);
      const keyFlows = page.getByRole('table', { name: 'Flows using this key' });
      await expect(keyFlows.getByRole('row', { name: /quote-builder/ })).toBeVisible();
      await expect(keyFlows.getByRole('row', { name: /invoice-approval/ })).toHaveCount(0);
      // A key's page labels a flow with the same dialog; the Flows page shows the label too.
      await keyFlows.getByRole('button', { name: 'Edit label of quote-builder' }).click();
      await expect(labelDialog).toContainText('quote-builder');
      await labelDialog.getByRole('textbox', { name: 'Label' }).fill('Quote builder');
      await labelDialog.getByRole('button', { name: 'Save label' }).click();
      await expect(labelDialog).toBeHidden();
      await expect(keyFlows.getByRole('row', { name: /Quote builder/ })).toContainText('quote-builder');
      await page.goto('/flows');
      await expect(table.getByRole('row', { name: /Quote builder/ })).toContainText('test-quotes-flow-sales');
      await page.goto(`/keys/${invoices.id}`);
      await expect(keyFlows.getByRole('row', { name: /Invoice approval/ })).toContainText('invoice-approval');
      await expect(keyFlows.getByRole('row', { name: /quote-builder/ })).toHaveCount(0);
      await expectAccessible(page, `a key's flows at ${width} px`);
    });
  }
});
