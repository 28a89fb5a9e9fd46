/**
 * Checks a real answer against what an OpenAPI 3 document declares for its operation: the
 * status is declared, the content type is one declared for it, and the body matches its schema.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

type Spec = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components?: unknown };

export function responseChecker(spec: Spec) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...(spec as object), $id: 'spec' });
  const compiled = new Map<string, ValidateFunction>();

  return function check(method: string, routePath: string, response: LightMyRequestResponse): void {
    const openapiPath = routePath.replace(/:([A-Za-z]+)/g, '{$1}');
    const operation = spec.paths[openapiPath]?.[method.toLowerCase()];
    const where = `${method} ${routePath} → ${response.statusCode}`;
    expect(operation, `${method} ${openapiPath} is not in the OpenAPI document`).toBeDefined();
    const declared = operation!.responses[String(response.statusCode)];
    expect(declared, `${where}: status not declared`).toBeDefined();
    if (!declared!.content) return; // 204 and the like: no body declared
    const type = String(response.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const media = declared!.content[type];
    expect(media, `${where}: content type ${type} not declared (${Object.keys(declared!.content).join(', ')})`).toBeDefined();
    if (!type.includes('json')) return;
    const key = `${method} ${openapiPath} ${response.statusCode} ${type}`;
    let validate = compiled.get(key);
    if (!validate) {
      const schema = JSON.parse(JSON.stringify(media!.schema).replaceAll('"#/components/', '"spec#/components/'));
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    const body = response.json();
    expect(validate(body), `${where}: body does not match the declared schema: ${ajv.errorsText(validate.errors)}`).toBe(true);
  };
}
