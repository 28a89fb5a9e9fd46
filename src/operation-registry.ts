import { computeDataOperation } from './compute/compute.operation.js';
import { DOCUMENT_OPERATIONS } from './documents/document.operations.js';
import { checkConnection } from './gateway/connection.operation.js';
import type { GatewayOperation } from './operations/operation.js';

/**
 * Every `/v1` operation, in the order the connector definition lists them. The registry sits
 * where the app is composed: the parts declare operations against `operations/operation.ts`
 * and never import each other.
 */
export const GATEWAY_OPERATIONS = [checkConnection, ...DOCUMENT_OPERATIONS, computeDataOperation] as unknown as readonly GatewayOperation[];
