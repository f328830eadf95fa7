/**
 * Scaffolder actions for Cairn: create a service's infrastructure, wait
 * until it is ready, estimate its cost, request a promotion into an
 * environment (production by default).
 *
 * @packageDocumentation
 */
export { scaffolderModuleCairn as default } from './module';
export {
  createServiceAction,
  CREATE_SERVICE_ACTION_ID,
} from './actions/createService';
export {
  waitUntilReadyAction,
  WAIT_UNTIL_READY_ACTION_ID,
} from './actions/waitUntilReady';
export {
  estimateCostAction,
  ESTIMATE_COST_ACTION_ID,
} from './actions/estimateCost';
export {
  requestPromotionAction,
  REQUEST_PROMOTION_ACTION_ID,
} from './actions/requestPromotion';
export { cairnClientsFromConfig } from './client';
export type { CairnActionsClient, CairnClients } from './client';
