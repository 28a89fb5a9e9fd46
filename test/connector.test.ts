import { CONNECTOR_TRIGGERS } from '../src/connector/triggers.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import Ajv04 from 'ajv-draft-04';
import Fastify from 'fastify';
import jsonc from 'jsonc-parser';
import JSZip from 'jszip';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorRoutes } from '../src/connector/connector.routes.js';
import { buildApiDefinition, connectorFiles } from '../src/connector/definition.js';
import { toSwaggerSchema } from '../src/connector/swagger-schema.js';
import { SOURCE_FORMATS } from '../src/documents/convert.js';
import { defineOperation, type GatewayOperation } from '../src/operations/operation.js';
import { GATEWAY_OPERATIONS } from '../src/operation-registry.js';
import { Nullable } from '../src/http/schemas.js';
import type { App } from '../src/http/types.js';
import { startTestApp, type TestApp } from './support/harness.js';

// The files are plain JSON: `any` keeps the walks below short.
type Json = any;

// Microsoft's connector schemas are not part of the repository: `.ci/run` points here at its
// copy; a developer can too. Without it the schema check is left out locally, never in CI.
const schemasDir = process.env.POWER_PLATFORM_SCHEMAS ? path.resolve(process.env.POWER_PLATFORM_SCHEMAS) : undefined;
const PUBLIC_URL = 'https://docs.example.com/portal';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const REQUIRED_ERRORS = ['400', '401', '403', '429', '500'];
const PRODUCT_NAMES = [
  'Power Automate',
  'Power Apps',
  'Power BI',
  'Power Pages',
  'Power Platform',
  'Power Virtual Agents',
  'Copilot Studio',
  'Logic Apps',
  'Dataverse',
  'Microsoft Flow',
  'AI Builder',
];
const CATEGORIES = [
  'AI',
  'Business Management',
  'Business Intelligence',
  'Collaboration',
  'Commerce',
  'Communication',
  'Content and Files',
  'Finance',
  'Data',
  'Human Resources',
  'Internet of Things',
  'IT Operations',
  'Lifestyle and Entertainment',
  'Marketing',
  'Productivity',
  'Sales and CRM',
  'Security',
  'Social Media',
  'Website',
];
const MINOR_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'from', 'in', 'into', 'of', 'on', 'or', 'per', 'the', 'to', 'with']);

async function connectorApp(publicUrl = PUBLIC_URL, operations: readonly GatewayOperation[] = GATEWAY_OPERATIONS): Promise<App> {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  connectorRoutes(app, { operations, publicUrl });
  await app.ready();
  return app;
}

function operationsOf(definition: Json): { where: string; operation: Json }[] {
  return Object.entries(definition.paths as Record<string, Json>).flatMap(([route, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => ({ where: `${m.toUpperCase()} ${route}`, operation: item[m] })),
  );
}

/** Every property below a schema, with its place: nested objects and array items included. */
function propertiesOf(schema: Json, where: string): { where: string; schema: Json }[] {
  if (!schema || typeof schema !== 'object') return [];
  const own = Object.entries((schema.properties ?? {}) as Record<string, Json>).flatMap(([name, property]) => [
    { where: `${where}.${name}`, schema: property },
    ...propertiesOf(property, `${where}.${name}`),
  ]);
  return schema.items ? [...own, ...propertiesOf(schema.items, `${where}[]`)] : own;
}

/** Every schema node (properties, items, definitions), to look for forbidden keywords. */
function schemaNodes(schema: Json, where: string): { where: string; schema: Json }[] {
  if (!schema || typeof schema !== 'object') return [];
  return [{ where, schema }, ...propertiesOf(schema, where)];
}

function allSchemas(definition: Json): { where: string; schema: Json }[] {
  const fromOperations = operationsOf(definition).flatMap(({ where, operation }) => [
    ...((operation.parameters ?? []) as Json[]).flatMap((p) => schemaNodes(p.schema, `${where} ${p.name}`)),
    ...Object.entries((operation.responses ?? {}) as Record<string, Json>).flatMap(([status, r]) => schemaNodes(r.schema, `${where} ${status}`)),
  ]);
  const fromDefinitions = Object.entries((definition.definitions ?? {}) as Record<string, Json>).flatMap(([name, s]) =>
    schemaNodes(s, `#/definitions/${name}`),
  );
  return [...fromOperations, ...fromDefinitions];
}

const isTitleCase = (text: string) => text.split(/\s+/).every((word, i) => !/^[a-z]/.test(word) || (i > 0 && MINOR_WORDS.has(word)));

/** First letter upper-case, and not every later word capitalised (acronyms such as PDF aside). */
function sentenceCaseProblem(text: string): string | null {
  if (!/^[A-Z]/.test(text)) return 'does not start with a capital letter';
  const later = text
    .split(/\s+/)
    .slice(1)
    .filter((w) => /^[A-Za-z]/.test(w) && !/^[A-Z0-9]+$/.test(w));
  return later.length > 0 && later.every((w) => /^[A-Z]/.test(w)) ? 'is in Title Case, not sentence case' : null;
}

// Microsoft's certification rules, each returning what it finds wrong.
const rules = {
  operationIds(definition: Json): string[] {
    const ids = operationsOf(definition).map(({ operation }) => operation.operationId as string);
    const notPascal = ids.filter((id) => typeof id !== 'string' || !/^[A-Z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$/.test(id)).map((id) => `${id} is not PascalCase`);
    const duplicated = ids.filter((id, i) => ids.indexOf(id) !== i).map((id) => `${id} is not unique`);
    return [...notPascal, ...duplicated];
  },
  summaries(definition: Json): string[] {
    return operationsOf(definition).flatMap(({ where, operation }) => {
      const summary = operation.summary as string | undefined;
      if (!summary) return [`${where} has no summary`];
      const problems = [sentenceCaseProblem(summary)];
      if (summary.length > 80) problems.push('is longer than 80 characters');
      if (summary.includes('/')) problems.push('contains a slash');
      if (!/[A-Za-z0-9]$/.test(summary)) problems.push('ends with punctuation or a space');
      return problems.filter((p) => p !== null).map((p) => `${where} summary "${summary}" ${p}`);
    });
  },
  descriptions(definition: Json): string[] {
    return operationsOf(definition).flatMap(({ where, operation }) => {
      const description = operation.description as string | undefined;
      if (!description) return [`${where} has no description`];
      const problems: string[] = [];
      if (description.trim().toLowerCase() === String(operation.summary).trim().toLowerCase()) problems.push('repeats the summary');
      if (!description.endsWith('.')) problems.push('does not end with a period');
      if (sentenceCaseProblem(description) === 'does not start with a capital letter') problems.push('does not start with a capital letter');
      return problems.map((p) => `${where} description ${p}`);
    });
  },
  fieldLabels(definition: Json): string[] {
    const fields = operationsOf(definition).flatMap(({ where, operation }) => [
      ...((operation.parameters ?? []) as Json[]).flatMap((p) => [
        { where: `${where} parameter ${p.name}`, schema: p },
        ...propertiesOf(p.schema, `${where} ${p.name}`),
      ]),
      ...Object.entries((operation.responses ?? {}) as Record<string, Json>).flatMap(([status, r]) => propertiesOf(r.schema, `${where} ${status}`)),
    ]);
    const defined = Object.entries((definition.definitions ?? {}) as Record<string, Json>).flatMap(([name, s]) => propertiesOf(s, `#/definitions/${name}`));
    return [...fields, ...defined].flatMap(({ where, schema }) => {
      const summary = schema['x-ms-summary'];
      const problems: string[] = [];
      if (typeof summary !== 'string' || summary.trim() === '') problems.push(`${where} has no x-ms-summary`);
      else if (!isTitleCase(summary)) problems.push(`${where} x-ms-summary "${summary}" is not Title Case`);
      if (typeof schema.description !== 'string' || schema.description.trim() === '') problems.push(`${where} has no description`);
      return problems;
    });
  },
  responses(definition: Json): string[] {
    return operationsOf(definition).flatMap(({ where, operation }) => {
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      const success = Object.entries(responses).filter(([status]) => /^2\d\d$/.test(status));
      const problems = success.length === 0 ? ['declares no 2xx response'] : [];
      for (const [status, response] of success) {
        if (!response.schema || (!response.schema.type && !response.schema.$ref)) problems.push(`has no schema for ${status}`);
      }
      for (const status of REQUIRED_ERRORS) {
        if (responses[status]?.schema?.$ref !== '#/definitions/Problem') problems.push(`does not declare ${status} as a Problem`);
      }
      return problems.map((p) => `${where} ${p}`);
    });
  },
};

function forbiddenWords(text: string, extra: RegExp[] = []): string[] {
  const patterns = [/\bAPIs?\b/i, ...extra, ...PRODUCT_NAMES.map((name) => new RegExp(`\\b${name}\\b`, 'i'))];
  return patterns.filter((p) => p.test(text)).map(String);
}

describe('the connector definition follows the certification rules (CONTRACT §7)', () => {
  let app: App;
  let definition: Json;
  let properties: Json;

  beforeAll(async () => {
    app = await connectorApp();
    definition = (await app.inject({ method: 'GET', url: '/connector/apiDefinition.swagger.json' })).json();
    properties = (await app.inject({ method: 'GET', url: '/connector/apiProperties.json' })).json();
  });
  afterAll(() => app.close());

  it('is Swagger 2.0 with a short title and a 30–500 character description, free of forbidden words', () => {
    expect(definition.swagger).toBe('2.0');
    const { title, description, version } = definition.info;
    expect(title).toBe('Build a Doc');
    expect(title.length).toBeLessThanOrEqual(30);
    expect(forbiddenWords(title, [/connector/i])).toEqual([]);
    expect(description.length).toBeGreaterThanOrEqual(30);
    expect(description.length).toBeLessThanOrEqual(500);
    expect(description).not.toBe(title);
    expect(forbiddenWords(description)).toEqual([]);
    expect(version).toMatch(/^\d+\.\d+(\.\d+)?$/);
    expect(definition.consumes).toEqual(['application/json']);
    expect(definition.produces).toEqual(['application/json']);
  });

  it('authenticates every action with the x-api-key header', () => {
    expect(definition.securityDefinitions).toEqual({ api_key: { type: 'apiKey', in: 'header', name: 'x-api-key' } });
    expect(definition.security).toEqual([{ api_key: [] }]);
  });

  it('names its website, privacy policy and categories', () => {
    const metadata = Object.fromEntries((definition['x-ms-connector-metadata'] as Json[]).map((m) => [m.propertyName, m.propertyValue]));
    expect(Object.keys(metadata).sort()).toEqual(['Categories', 'Privacy policy', 'Website']);
    expect(metadata.Website).toBe(PUBLIC_URL);
    expect(metadata['Privacy policy']).toMatch(/^https:\/\/docs\.example\.com\/portal\/\S+$/);
    const categories = String(metadata.Categories).split(';');
    expect(categories.length).toBeGreaterThan(0);
    expect(categories.filter((c) => !CATEGORIES.includes(c))).toEqual([]);
  });

  it('lists every gateway operation once, at its method and path, with its visibility', () => {
    // Besides the actions: one subscription per trigger, and the DELETE of a subscription.
    expect(operationsOf(definition)).toHaveLength(GATEWAY_OPERATIONS.length + CONNECTOR_TRIGGERS.length + 1);
    for (const operation of GATEWAY_OPERATIONS) {
      const entry = definition.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(entry, operation.operationId).toBeDefined();
      expect(entry.operationId).toBe(operation.operationId);
      expect(entry.summary).toBe(operation.summary);
      expect(entry.description).toBe(operation.description);
      expect(entry['x-ms-visibility']).toBe(operation.visibility);
    }
  });

  it('declares each webhook trigger: x-ms-trigger, a hidden x-ms-notification-url callback, 201 with a Location to the DELETE, and its notification schema', () => {
    expect(CONNECTOR_TRIGGERS.map((t) => t.summary)).toEqual([
      'When a key is about to expire',
      'When a key is revoked or exposed',
      'When a quota threshold is reached',
    ]);
    for (const trigger of CONNECTOR_TRIGGERS) {
      const item = definition.paths[trigger.path];
      const post = item.post;
      expect(post['x-ms-trigger'], trigger.operationId).toBe('single');
      expect(post.operationId).toBe(trigger.operationId);
      const callback = post.parameters[0].schema.properties.callbackUrl;
      expect(callback).toMatchObject({ type: 'string', 'x-ms-notification-url': true, 'x-ms-visibility': 'internal' });
      expect(post.parameters[0].schema.required).toEqual(['callbackUrl']);
      expect(post.responses['201'].headers.Location).toMatchObject({ type: 'string' });
      expect(post.responses['200']).toBeUndefined();
      const content = item['x-ms-notification-content'];
      expect(content.schema.properties.type.enum).toEqual([...trigger.eventTypes]);
      expect(Object.keys(content.schema.properties)).toEqual(['id', 'type', 'timestamp', 'organisationId', 'data']);
    }
    const remove = definition.paths['/triggers/subscriptions/{subscriptionId}'].delete;
    expect(remove).toMatchObject({ operationId: 'DeleteTriggerSubscription', 'x-ms-visibility': 'internal' });
    expect(remove.parameters[0]).toMatchObject({ name: 'subscriptionId', in: 'path', required: true });
  });

  it('gives every action a unique PascalCase operationId', () => {
    expect(rules.operationIds(definition)).toEqual([]);
  });

  it('gives every action a sentence-case summary of at most 80 characters, without a slash or final punctuation', () => {
    expect(rules.summaries(definition)).toEqual([]);
  });

  it('gives every action a description that differs from its summary and ends with a period', () => {
    expect(rules.descriptions(definition)).toEqual([]);
  });

  it('labels every parameter and every response property with a Title Case x-ms-summary and a description', () => {
    expect(rules.fieldLabels(definition)).toEqual([]);
  });

  it('sends each body as one required body parameter, and GET actions none', () => {
    for (const operation of GATEWAY_OPERATIONS) {
      const parameters = definition.paths[operation.path][operation.method.toLowerCase()].parameters ?? [];
      if (!operation.body) {
        expect(parameters, operation.operationId).toEqual([]);
        continue;
      }
      expect(parameters, operation.operationId).toHaveLength(1);
      expect(parameters[0]).toMatchObject({ name: 'body', in: 'body', required: true, schema: { type: 'object' } });
    }
  });

  it('defines the 200 schema and declares 400, 401, 403, 429 and 500 as RFC 9457 problems', () => {
    expect(rules.responses(definition)).toEqual([]);
    const problem = definition.definitions.Problem;
    expect(Object.keys(problem.properties)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId']));
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId']));
  });

  it("says what each 403 and 429 can be: a billed action's used-up quota is a 403, and a trigger's subscription also meets the cap on live subscriptions", () => {
    const responses = (path: string, method: string) => definition.paths[path][method].responses;
    for (const operation of GATEWAY_OPERATIONS) {
      const forbidden: string = responses(operation.path, operation.method.toLowerCase())['403'].description;
      expect(forbidden, operation.operationId).toMatch(/subscription_inactive/);
      expect(forbidden, operation.operationId).toMatch(/feature_not_available/);
      // Only billed actions use up a monthly quota (CONTRACT §4, check 11).
      if (operation.actionType === 'none') expect(forbidden, operation.operationId).not.toMatch(/quota/);
      else expect(forbidden, operation.operationId).toMatch(/monthly quota.*quota_exceeded/);
      expect(responses(operation.path, operation.method.toLowerCase())['429'].description, operation.operationId).not.toMatch(/quota/);
    }
    for (const trigger of CONNECTOR_TRIGGERS) {
      expect(responses(trigger.path, 'post')['403'].description, trigger.operationId).toMatch(/100 live trigger subscriptions \(quota_exceeded\)/);
    }
    const unsubscribe = Object.entries(definition.paths).find(([path]) => path.endsWith('/{subscriptionId}'))![1] as Json;
    expect(unsubscribe.delete.responses['403'].description).not.toMatch(/quota/);
  });

  it('shows every file argument as base64 text (type string, format byte)', () => {
    let files = 0;
    const visit = (source: Json, generated: Json, where: string) => {
      if (!source || typeof source !== 'object') return;
      if (source['x-bdoc-file'] === true) {
        files++;
        expect(generated, where).toMatchObject({ type: 'string', format: 'byte' });
      }
      for (const [name, property] of Object.entries((source.properties ?? {}) as Record<string, Json>))
        visit(property, generated?.properties?.[name], `${where}.${name}`);
      if (source.items) visit(source.items, generated?.items, `${where}[]`);
    };
    for (const operation of GATEWAY_OPERATIONS) {
      if (operation.body) visit(operation.body, definition.paths[operation.path][operation.method.toLowerCase()].parameters[0].schema, operation.operationId);
    }
    expect(files).toBeGreaterThanOrEqual(4);
  });

  it('uses no JSON Schema construct Swagger 2.0 lacks: literal unions are enums, nullable values x-nullable', () => {
    const forbidden = ['anyOf', 'oneOf', 'allOf', 'not', 'const', '$id', '$schema', 'patternProperties', 'prefixItems', 'x-bdoc-file'];
    const found = allSchemas(definition).flatMap(({ where, schema }) => [
      ...forbidden.filter((k) => k in schema).map((k) => `${where} uses ${k}`),
      ...(Array.isArray(schema.type) ? [`${where} has several types`] : []),
      ...Object.keys(schema)
        .filter((k) => k.startsWith('~'))
        .map((k) => `${where} leaks ${k}`),
    ]);
    expect(found).toEqual([]);
    const sourceFormat = definition.paths['/convert/pdf'].post.parameters[0].schema.properties.sourceFormat;
    expect(sourceFormat).toMatchObject({ type: 'string', enum: [...SOURCE_FORMATS], 'x-ms-summary': 'Source Format' });
    const result = definition.paths['/data/compute'].post.responses['200'].schema.properties.result;
    expect(result).toMatchObject({ type: 'number', 'x-nullable': true, 'x-ms-summary': 'Result' });
  });

  it('asks for the API key as a secure string, under a brand colour of its own', () => {
    const { connectionParameters, iconBrandColor, publisher, stackOwner, capabilities } = properties.properties;
    expect(Object.keys(connectionParameters)).toEqual(['api_key']);
    expect(connectionParameters.api_key.type).toBe('securestring');
    expect(connectionParameters.api_key.uiDefinition).toMatchObject({ displayName: 'API Key', constraints: { required: 'true', clearText: false } });
    expect(iconBrandColor).toMatch(/^#[0-9a-f]{6}$/i);
    expect(['#007ee5', '#ffffff']).not.toContain(iconBrandColor.toLowerCase());
    expect(publisher).toBe('Build a Doc');
    expect(stackOwner).toBe('Build a Doc');
    expect(capabilities).toEqual([]);
  });

  // Never skipped in CI: there a missing folder is a broken CI script, and a skip would hide it.
  if (schemasDir || process.env.CI)
    describe("validates against Microsoft's connector schemas", () => {
      function loadSchema(file: string): Json {
        expect(
          schemasDir && existsSync(schemasDir),
          `Microsoft's schemas are missing: set POWER_PLATFORM_SCHEMAS to their folder (now ${schemasDir ?? 'unset'})`,
        ).toBe(true);
        const errors: jsonc.ParseError[] = [];
        const { id, ...schema } = jsonc.parse(readFileSync(path.join(schemasDir!, file), 'utf8'), errors, { allowTrailingComma: true });
        expect(errors).toEqual([]);
        // Draft-04 names a schema with `id`; Ajv's draft-07 mode only knows `$id`.
        return file.includes('swagger') ? { id, ...schema } : { $id: id, ...schema };
      }
      const formats = { uri: (value: string) => URL.canParse(value), email: /^[^\s@]+@[^\s@]+$/ };
      let compiled: { apiDefinition: ValidateFunction; apiProperties: ValidateFunction } | undefined;
      const validators = () =>
        (compiled ??= {
          apiDefinition: new Ajv04.default({ strict: false, allErrors: true, logger: false, formats }).compile(loadSchema('apiDefinition.swagger.schema.json')),
          apiProperties: new Ajv({ strict: false, allErrors: true, logger: false, formats }).compile(loadSchema('apiProperties.schema.json')),
        });

      it('apiDefinition.swagger.json and apiProperties.json are valid', () => {
        const { apiDefinition, apiProperties } = validators();
        expect(apiDefinition(definition), JSON.stringify(apiDefinition.errors, null, 2)).toBe(true);
        expect(apiProperties(properties), JSON.stringify(apiProperties.errors, null, 2)).toBe(true);
      });

      it('and the same schemas refuse what Power Platform would refuse', () => {
        const { apiDefinition, apiProperties } = validators();
        const withAnyOf = structuredClone(definition);
        withAnyOf.paths['/pdf/merge'].post.parameters[0].schema.properties.fileName.anyOf = [{ type: 'string' }];
        expect(apiDefinition(withAnyOf)).toBe(false);
        expect(apiDefinition({ ...definition, swagger: '3.0' })).toBe(false);
        const hiddenOperation = structuredClone(definition);
        hiddenOperation.paths['/connection'].get['x-ms-visibility'] = 'hidden';
        expect(apiDefinition(hiddenOperation)).toBe(false);
        const passwordParameter = structuredClone(properties);
        passwordParameter.properties.connectionParameters.api_key.type = 'password';
        expect(apiProperties(passwordParameter)).toBe(false);
        const { iconBrandColor: _colour, ...colourless } = properties.properties;
        expect(apiProperties({ properties: colourless })).toBe(false);
      });
    });

  it('the rule checks above do catch broken operations', () => {
    const broken = structuredClone(definition);
    const merge = broken.paths['/pdf/merge'].post;
    merge.operationId = 'mergePdfs';
    broken.paths['/pdf/split'].post.operationId = 'CheckConnection';
    merge.summary = 'Merge PDF Files.';
    broken.paths['/pdf/split'].post.summary = 'Split a PDF/A file';
    merge.description = merge.summary;
    broken.paths['/pdf/split'].post.description = 'Cuts a PDF file';
    merge.parameters[0].schema.properties.fileName['x-ms-summary'] = 'Output file name';
    delete broken.paths['/pdf/split'].post.responses['200'].schema.properties.files.items.properties.range.description;
    delete merge.responses['429'];
    expect(rules.operationIds(broken)).toEqual(['mergePdfs is not PascalCase', 'CheckConnection is not unique']);
    expect(rules.summaries(broken)).toEqual([
      'POST /pdf/merge summary "Merge PDF Files." is in Title Case, not sentence case',
      'POST /pdf/merge summary "Merge PDF Files." ends with punctuation or a space',
      'POST /pdf/split summary "Split a PDF/A file" contains a slash',
    ]);
    expect(rules.descriptions(broken)).toEqual(['POST /pdf/merge description repeats the summary', 'POST /pdf/split description does not end with a period']);
    expect(rules.fieldLabels(broken)).toEqual(
      expect.arrayContaining([
        'POST /pdf/merge body.fileName x-ms-summary "Output file name" is not Title Case',
        'POST /pdf/split 200.files[].range has no description',
      ]),
    );
    expect(rules.responses(broken)).toEqual(['POST /pdf/merge does not declare 429 as a Problem']);
  });
});

describe('host, basePath and schemes follow PUBLIC_URL', () => {
  it.each([
    ['https://docs.example.com/portal/', 'docs.example.com', '/portal/v1', 'https'],
    ['http://localhost:8080', 'localhost:8080', '/v1', 'http'],
  ])('%s', async (publicUrl, host, basePath, scheme) => {
    const app = await connectorApp(publicUrl);
    const definition = (await app.inject({ method: 'GET', url: '/connector/apiDefinition.swagger.json' })).json();
    await app.close();
    expect(definition).toMatchObject({ host, basePath, schemes: [scheme] });
  });
});

describe('the connector zip', () => {
  it('holds exactly the two files, byte for byte as the routes serve them, as a download', async () => {
    const app = await connectorApp();
    const [zipped, apiDefinition, apiProperties] = await Promise.all(
      ['build-a-doc-connector.zip', 'apiDefinition.swagger.json', 'apiProperties.json'].map((file) => app.inject({ method: 'GET', url: `/connector/${file}` })),
    );
    await app.close();
    expect(zipped!.statusCode).toBe(200);
    expect(zipped!.headers['content-type']).toBe('application/zip');
    expect(zipped!.headers['content-disposition']).toBe('attachment; filename="build-a-doc-connector.zip"');
    expect(apiDefinition!.headers['content-type']).toMatch(/^application\/json/);
    const zip = await JSZip.loadAsync(zipped!.rawPayload);
    expect(Object.keys(zip.files).sort()).toEqual(['apiDefinition.swagger.json', 'apiProperties.json']);
    expect(await zip.file('apiDefinition.swagger.json')!.async('string')).toBe(apiDefinition!.body);
    expect(await zip.file('apiProperties.json')!.async('string')).toBe(apiProperties!.body);
  });
});

describe('schema conversion refuses what Swagger 2.0 cannot show', () => {
  it('turns TypeBox literals, nullables, bounds and file arguments into Swagger 2.0', () => {
    expect(toSwaggerSchema(Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'd' }), 'x')).toEqual({
      type: 'string',
      enum: ['a', 'b'],
      description: 'd',
    });
    expect(toSwaggerSchema(Type.Literal(3), 'x')).toEqual({ type: 'number', enum: [3] });
    expect(toSwaggerSchema(Type.Unsafe({ enum: [1, 2] }), 'x')).toEqual({ type: 'integer', enum: [1, 2] });
    expect(toSwaggerSchema(Nullable(Type.String({ maxLength: 5 })), 'x')).toEqual({ type: 'string', maxLength: 5, 'x-nullable': true });
    expect(toSwaggerSchema(Type.Number({ exclusiveMinimum: 0 }), 'x')).toEqual({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(toSwaggerSchema(Type.Unsafe({ 'x-bdoc-file': true, 'x-ms-summary': 'File' }), 'x')).toEqual({
      type: 'string',
      format: 'byte',
      'x-ms-summary': 'File',
    });
    const optional = toSwaggerSchema(Type.Object({ a: Type.Optional(Type.String()), b: Type.Boolean() }, { additionalProperties: false, $id: 'Thing' }), 'x');
    expect(optional).toEqual({ type: 'object', required: ['b'], properties: { a: { type: 'string' }, b: { type: 'boolean' } } });
    expect(Reflect.ownKeys(optional.properties as object)).toEqual(['a', 'b']);
  });

  it.each([
    ['a union of two kinds of value', Type.Union([Type.String(), Type.Number()]), /union of several kinds/],
    ['a value without a type', Type.Any(), /has no type/],
    ['a record', Type.Record(Type.String(), Type.Number()), /patternProperties/],
    ['a tuple', Type.Tuple([Type.String(), Type.Number()]), /tuple|prefixItems|Items/i],
    ['a format Power Platform does not know', Type.String({ format: 'hostname' }), /format "hostname"/],
    ['a null', Type.Null(), /type "null"/],
    ['an unknown x-ms-visibility', Type.String({ 'x-ms-visibility': 'hidden' }), /x-ms-visibility/],
    ['an array without items', Type.Unsafe({ type: 'array' }), /without items/],
  ])('%s', (_name, schema, message) => {
    expect(() => toSwaggerSchema(schema, 'Example body.field')).toThrow(message);
  });

  it('fails the whole definition, naming the operation, when one operation cannot be converted', () => {
    const broken = defineOperation({
      operationId: 'BrokenThing',
      method: 'POST',
      path: '/broken',
      summary: 'Do a broken thing',
      description: 'Has a body Swagger 2.0 cannot show.',
      actionType: 'utility',
      feature: 'compute',
      body: Type.Object({ value: Type.Union([Type.String(), Type.Number()], { 'x-ms-summary': 'Value', description: 'Either' }) }),
      response: Type.Object({}),
      handle: () => ({}),
    }) as unknown as GatewayOperation;
    expect(() => buildApiDefinition([...GATEWAY_OPERATIONS, broken], PUBLIC_URL)).toThrow(/BrokenThing body\.value/);
    expect(() => buildApiDefinition([...GATEWAY_OPERATIONS, GATEWAY_OPERATIONS[0]!], PUBLIC_URL)).toThrow(/two operations are called CheckConnection/);
  });
});

describe('the real app serves the connector files (needs connectorRoutes registered in src/app.ts)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('to anyone, without a session, as generated from the gateway operations and PUBLIC_URL', async () => {
    const expected = connectorFiles(GATEWAY_OPERATIONS, t.config.publicUrl);
    for (const file of ['apiDefinition.swagger.json', 'apiProperties.json'] as const) {
      const response = await t.app.inject({ method: 'GET', url: `/connector/${file}` });
      expect(response.statusCode, file).toBe(200);
      expect(response.body).toBe(expected[file]);
    }
    const zipped = await t.app.inject({ method: 'GET', url: '/connector/build-a-doc-connector.zip' });
    expect(zipped.statusCode).toBe(200);
  });

  it('and keeps them out of the portal OpenAPI document', async () => {
    const openapi = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(Object.keys(openapi.paths).filter((p) => p.startsWith('/connector'))).toEqual([]);
    expect(Object.keys(openapi.paths)).toContain('/v1/pdf/merge');
  });
});
