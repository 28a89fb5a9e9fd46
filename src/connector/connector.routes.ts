import JSZip from 'jszip';
import type { GatewayOperation } from '../operations/operation.js';
import type { App } from '../http/types.js';
import { API_DEFINITION_FILE, API_PROPERTIES_FILE, CONNECTOR_ZIP_FILE, connectorFiles } from './definition.js';

export interface ConnectorRouteDeps {
  operations: readonly GatewayOperation[];
  publicUrl: string;
}

/** A fixed date, so the same definition always zips to the same bytes. */
const ZIP_DATE = new Date('2024-01-01T00:00:00Z');

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(files)) zip.file(name, text, { date: ZIP_DATE });
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', platform: 'UNIX' });
}

/**
 * The connector files a maker imports into Power Platform, public like any download page.
 * They are generated once, when the routes are registered: an operation whose schema cannot
 * become Swagger 2.0 stops the app from starting rather than publishing a broken connector.
 */
export function connectorRoutes(app: App, deps: ConnectorRouteDeps): void {
  const files = connectorFiles(deps.operations, deps.publicUrl);
  let zip: Promise<Buffer> | undefined;

  for (const name of [API_DEFINITION_FILE, API_PROPERTIES_FILE] as const) {
    app.get(`/connector/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(files[name]),
    );
  }

  app.get(`/connector/${CONNECTOR_ZIP_FILE}`, { schema: { hide: true } }, async (_request, reply) => {
    zip ??= zipOf(files).catch((error: unknown) => {
      zip = undefined;
      throw error;
    });
    const bytes = await zip;
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="${CONNECTOR_ZIP_FILE}"`)
      .header('cache-control', 'no-cache')
      .send(bytes);
  });
}
