/**
 * Cairn's REST API for Backstage packages: types generated from Cairn's
 * OpenAPI document and a typed client.
 *
 * @packageDocumentation
 */
export { CairnClient } from './client';
export type {
  CairnClientOptions,
  CairnRequestOptions,
  FetchFunction,
} from './client';
export {
  CairnError,
  isProvisioningNotFound,
  isServiceNotFound,
} from './errors';
export type { CairnErrorSource, FieldViolation } from './errors';
export type * from './types';
export type { paths, components } from './generated/cairn';
