import { computeDataOperation } from '../compute/compute.operation.js';
import { DOCUMENT_OPERATIONS } from '../documents/document.operations.js';
import { checkConnection } from './connection.operation.js';
import type { GatewayOperation } from './operation.js';

/** Every `/v1` operation, in the order the connector definition lists them. */
export const GATEWAY_OPERATIONS = [checkConnection, ...DOCUMENT_OPERATIONS, computeDataOperation] as unknown as readonly GatewayOperation[];
