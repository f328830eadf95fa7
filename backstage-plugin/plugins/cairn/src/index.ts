/**
 * Entity cards for Cairn: cost, provisioning status and DORA metrics, read
 * from Cairn's REST API through Backstage's proxy. The new frontend system's
 * plugin is the default export of `@cairn-dev/plugin-cairn/alpha`.
 *
 * @packageDocumentation
 */
export {
  cairnPlugin,
  EntityCairnCostCard,
  EntityCairnDoraCard,
  EntityCairnStatusCard,
} from './plugin';
export { cairnApiRef, createCairnApi, CAIRN_PROXY_PATH } from './api';
export type { CairnApi } from './api';
export {
  CAIRN_SERVICE_ANNOTATION,
  cairnServiceName,
  isCairnAvailable,
} from './entity';
export type { CostCardProps } from './components/CostCard';
export type { StatusCardProps } from './components/StatusCard';
export type { DoraCardProps } from './components/DoraCard';
