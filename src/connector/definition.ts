import type { GatewayOperation } from '../operations/operation.js';
import { ProblemSchema } from '../http/schemas.js';
import { TRIGGER_SUBSCRIPTIONS_PER_ORG_MAX } from '../webhooks/webhooks.service.js';
import { ConnectorSchemaError, toSwaggerSchema, type SwaggerSchema } from './swagger-schema.js';
import {
  CONNECTOR_TRIGGERS,
  DELETE_TRIGGER_OPERATION,
  labelled,
  notificationSchema,
  TRIGGER_SUBSCRIPTION_PATH,
  TriggerSubscriptionSchema,
  type ConnectorTrigger,
} from './triggers.js';

/**
 * The Power Platform connector: `apiDefinition.swagger.json` (Swagger 2.0) and
 * `apiProperties.json`, generated from the gateway operations so the connector always
 * describes exactly what `/v1` validates and answers (CONTRACT §7).
 */

export const CONNECTOR = {
  title: 'Build a Doc',
  description:
    'Build a Doc creates and transforms documents in your flows: merge, split and watermark PDF files, fill document templates with your data, convert documents to PDF, and compute totals and statistics from table data.',
  version: '1.0.0',
  publisher: 'Build a Doc',
  /** Not Microsoft's default blue (#007ee5) nor white: certification refuses both. */
  iconBrandColor: '#1b4d89',
  categories: 'Productivity;Content and Files',
} as const;

export const API_DEFINITION_FILE = 'apiDefinition.swagger.json';
export const API_PROPERTIES_FILE = 'apiProperties.json';
export const CONNECTOR_ZIP_FILE = 'build-a-doc-connector.zip';

/** Where the gateway answers below PUBLIC_URL. */
const GATEWAY_PREFIX = '/v1';

/** Every gateway operation can fail with these and with 403 (`FORBIDDEN`); each answers an RFC 9457 problem. */
const ERROR_RESPONSES: Record<number, string> = {
  400: 'The request is not valid; the problem details name each field to fix',
  401: 'The API key is missing, unknown, expired or revoked',
  429: "Too many requests for the plan's rate limit; retry after the seconds in the Retry-After header",
  500: 'Something went wrong at Build a Doc; retry, or contact support with the request id',
  503: 'Build a Doc is briefly unavailable; retry in a moment',
};

/**
 * What a 403 means for each kind of operation (CONTRACT §4 checks 8, 9 and 11, and the trigger
 * subscriptions an organisation may hold): every refusal it can answer, so a maker reading the
 * connector is not told "your plan" when the monthly quota or the subscription cap is the cause.
 */
const FORBIDDEN = {
  /** A billed action (document or utility): all three plan checks. */
  billed:
    "The subscription is not active (subscription_inactive), the plan does not include this action (feature_not_available), or the plan's monthly quota for this kind of action is used up (quota_exceeded); the problem's code and detail say which",
  /** An action that is not billed (CheckConnection): no quota to use up. */
  unbilled:
    "The subscription is not active (subscription_inactive) or the plan does not include this action (feature_not_available); the problem's code and detail say which",
  /** A trigger's subscription: the plan checks, and the cap on live trigger subscriptions. */
  subscribe: `The subscription is not active (subscription_inactive), the plan does not include this trigger (feature_not_available), or the organisation already holds ${TRIGGER_SUBSCRIPTIONS_PER_ORG_MAX} live trigger subscriptions (quota_exceeded); the problem's code and detail say which`,
  /** Deleting a trigger's subscription: the plan checks only. */
  unsubscribe:
    "The subscription is not active (subscription_inactive) or the plan does not include this action (feature_not_available); the problem's code and detail say which",
} as const;
const BODY_TOO_LARGE = 'The request body is larger than this action accepts';

/** How the connector shows each field of the problem document. */
const PROBLEM_FIELDS: Record<string, { summary: string; description: string }> = {
  type: { summary: 'Problem Type', description: 'A URL that identifies the kind of problem' },
  title: { summary: 'Problem Title', description: 'A short, general summary of the kind of problem' },
  status: { summary: 'Status Code', description: 'The HTTP status code of the answer' },
  detail: { summary: 'Problem Detail', description: 'What went wrong in this request and how to fix it' },
  code: { summary: 'Error Code', description: 'A stable, machine-readable error code such as api_key_expired' },
  requestId: { summary: 'Request ID', description: 'The id of this request, to quote when contacting support' },
};

/** The problem document: the schema the gateway answers with, plus the connector's labels. */
function problemDefinition(): SwaggerSchema {
  const labelled: Record<string, unknown> = Object.fromEntries(
    Object.entries(ProblemSchema.properties).map(([name, schema]) => {
      const label = PROBLEM_FIELDS[name];
      if (!label) throw new ConnectorSchemaError(`Connector definition: the problem field "${name}" has no x-ms-summary; add it to PROBLEM_FIELDS`);
      return [name, { ...schema, 'x-ms-summary': label.summary, description: label.description }];
    }),
  );
  // Validation failures (400) also list the fields to fix.
  labelled.errors = {
    type: 'array',
    'x-ms-summary': 'Field Errors',
    description: 'For a request that is not valid, each field to fix',
    items: {
      type: 'object',
      properties: {
        path: { type: 'string', 'x-ms-summary': 'Field Path', description: 'Where the field is in the request, such as /fileContent' },
        message: { type: 'string', 'x-ms-summary': 'Field Message', description: 'What is wrong with the field' },
      },
    },
  };
  return toSwaggerSchema({ ...ProblemSchema, properties: labelled }, 'Problem');
}

function problemResponse(description: string) {
  return { description, schema: { $ref: '#/definitions/Problem' } };
}

function pathItemOperation(operation: GatewayOperation): SwaggerSchema {
  const where = operation.operationId;
  // One body parameter: Power Platform shows each of its properties as a field of the action.
  const body = operation.body && {
    name: 'body',
    in: 'body',
    required: true,
    'x-ms-summary': 'Request Body',
    description: 'The input of this action',
    schema: toSwaggerSchema(operation.body, `${where} body`),
  };
  const responses: Record<string, unknown> = {
    200: { description: 'The result of the action', schema: toSwaggerSchema(operation.response, `${where} response`) },
  };
  Object.assign(responses, errorResponses(operation.actionType === 'none' ? FORBIDDEN.unbilled : FORBIDDEN.billed));
  if (operation.body) responses[413] = problemResponse(BODY_TOO_LARGE);
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    description: operation.description,
    ...(operation.visibility ? { 'x-ms-visibility': operation.visibility } : {}),
    ...(body ? { parameters: [body] } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

function paths(operations: readonly GatewayOperation[]): Record<string, Record<string, SwaggerSchema>> {
  const out: Record<string, Record<string, SwaggerSchema>> = {};
  const ids = new Set<string>();
  for (const operation of operations) {
    if (ids.has(operation.operationId)) throw new ConnectorSchemaError(`Connector definition: two operations are called ${operation.operationId}`);
    ids.add(operation.operationId);
    if (!operation.path.startsWith('/')) throw new ConnectorSchemaError(`Connector definition: the path of ${operation.operationId} must start with /`);
    out[operation.path] ??= {};
    const item = out[operation.path]!;
    const method = operation.method.toLowerCase();
    if (item[method]) throw new ConnectorSchemaError(`Connector definition: ${operation.method} ${operation.path} is declared twice`);
    item[method] = pathItemOperation(operation);
  }
  return out;
}

/** The problems every operation declares, with what 403 means for this one. */
function errorResponses(forbidden: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...ERROR_RESPONSES, 403: forbidden }).map(([status, description]) => [status, problemResponse(description)]));
}

/**
 * A webhook trigger: Power Automate POSTs its callback URL (hidden from the maker), gets 201
 * with a Location to delete the subscription, and receives the event described by
 * x-ms-notification-content.
 */
function triggerPathItem(trigger: ConnectorTrigger): Record<string, SwaggerSchema> {
  return {
    'x-ms-notification-content': { description: trigger.summary, schema: notificationSchema(trigger) },
    post: {
      operationId: trigger.operationId,
      summary: trigger.summary,
      description: trigger.description,
      'x-ms-trigger': 'single',
      parameters: [
        {
          name: 'body',
          in: 'body',
          required: true,
          'x-ms-summary': 'Subscription',
          description: 'Where Power Automate wants the events sent',
          schema: {
            type: 'object',
            required: ['callbackUrl'],
            properties: {
              callbackUrl: {
                type: 'string',
                'x-ms-notification-url': true,
                'x-ms-visibility': 'internal',
                'x-ms-summary': 'Callback URL',
                description: 'The URL Power Automate listens on for this flow',
              },
            },
          },
        },
      ],
      responses: {
        201: {
          description: 'Subscribed; the Location header is where the subscription is deleted',
          headers: { Location: { type: 'string', description: 'The URL that deletes this subscription' } },
          schema: labelled(toSwaggerSchema(TriggerSubscriptionSchema, `${trigger.operationId} response`)),
        },
        ...errorResponses(FORBIDDEN.subscribe),
      },
    },
  };
}

function deleteSubscriptionItem(): Record<string, SwaggerSchema> {
  return {
    delete: {
      operationId: DELETE_TRIGGER_OPERATION,
      summary: 'Delete a trigger subscription',
      description: 'Stops sending events to a flow; Power Automate calls it when the flow is turned off or deleted.',
      'x-ms-visibility': 'internal',
      parameters: [
        {
          name: 'subscriptionId',
          in: 'path',
          required: true,
          type: 'string',
          'x-ms-summary': 'Subscription Id',
          description: 'The id of the subscription',
          'x-ms-visibility': 'internal',
        },
      ],
      responses: {
        200: { description: 'Deleted', schema: labelled(toSwaggerSchema(TriggerSubscriptionSchema, `${DELETE_TRIGGER_OPERATION} response`)) },
        404: problemResponse('No such subscription in the organisation of this key'),
        ...errorResponses(FORBIDDEN.unsubscribe),
      },
    },
  };
}

function triggerPaths(): Record<string, Record<string, SwaggerSchema>> {
  const out: Record<string, Record<string, SwaggerSchema>> = {};
  for (const trigger of CONNECTOR_TRIGGERS) out[trigger.path] = triggerPathItem(trigger);
  out[`${TRIGGER_SUBSCRIPTION_PATH}/{subscriptionId}`] = deleteSubscriptionItem();
  return out;
}

/** `apiDefinition.swagger.json`: host, basePath and schemes follow PUBLIC_URL. */
export function buildApiDefinition(operations: readonly GatewayOperation[], publicUrl: string): Record<string, unknown> {
  const url = new URL(publicUrl);
  const base = url.pathname.replace(/\/+$/, '');
  return {
    swagger: '2.0',
    info: {
      title: CONNECTOR.title,
      description: CONNECTOR.description,
      version: CONNECTOR.version,
      contact: { name: CONNECTOR.publisher, url: `${url.origin}${base}` },
    },
    host: url.host,
    basePath: `${base}${GATEWAY_PREFIX}`,
    schemes: [url.protocol.replace(/:$/, '')],
    consumes: ['application/json'],
    produces: ['application/json'],
    paths: { ...paths(operations), ...triggerPaths() },
    definitions: { Problem: problemDefinition() },
    securityDefinitions: { api_key: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    security: [{ api_key: [] }],
    'x-ms-connector-metadata': [
      { propertyName: 'Website', propertyValue: `${url.origin}${base}` },
      { propertyName: 'Privacy policy', propertyValue: `${url.origin}${base}/privacy` },
      { propertyName: 'Categories', propertyValue: CONNECTOR.categories },
    ],
  };
}

/** `apiProperties.json`: one secret connection parameter, the API key. */
export function buildApiProperties(publicUrl: string): Record<string, unknown> {
  const portal = publicUrl.replace(/\/+$/, '');
  return {
    properties: {
      connectionParameters: {
        api_key: {
          type: 'securestring',
          uiDefinition: {
            displayName: 'API Key',
            description: 'The API key of your Build a Doc organisation',
            tooltip: `Create an API key in the Build a Doc portal (${portal}) under API keys, then paste it here`,
            constraints: { tabIndex: 2, clearText: false, required: 'true' },
          },
        },
      },
      iconBrandColor: CONNECTOR.iconBrandColor,
      capabilities: [],
      publisher: CONNECTOR.publisher,
      stackOwner: CONNECTOR.publisher,
    },
  };
}

/** Both files as the text they are served and zipped as (four-space indent, as Microsoft asks). */
export function connectorFiles(
  operations: readonly GatewayOperation[],
  publicUrl: string,
): Record<typeof API_DEFINITION_FILE | typeof API_PROPERTIES_FILE, string> {
  const text = (value: unknown) => `${JSON.stringify(value, null, 4)}\n`;
  return {
    [API_DEFINITION_FILE]: text(buildApiDefinition(operations, publicUrl)),
    [API_PROPERTIES_FILE]: text(buildApiProperties(publicUrl)),
  };
}
