/**
 * Entity cards for Cairn: cost, provisioning status, DORA metrics and
 * promotions, read from Cairn's REST API through Backstage's proxy as the
 * signed-in user, who approves or denies promotions on the promotions card
 * where Cairn lets them. The new frontend system's plugin is the default
 * export of `@cairn-dev/plugin-cairn/alpha`.
 *
 * @packageDocumentation
 */
export {
  cairnPlugin,
  EntityCairnCostCard,
  EntityCairnDoraCard,
  EntityCairnPromotionsCard,
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
export type { PromotionsCardProps } from './components/PromotionsCard';
