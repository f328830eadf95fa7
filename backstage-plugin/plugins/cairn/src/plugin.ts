import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { cairnApiRef, createCairnApi } from './api';

/**
 * Cairn's plugin for apps on Backstage's legacy frontend system.
 *
 * @public
 */
export const cairnPlugin = createPlugin({
  id: 'cairn',
  apis: [
    createApiFactory({
      api: cairnApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: createCairnApi,
    }),
  ],
});

/**
 * The cost card, for an entity page's overview.
 *
 * @public
 */
export const EntityCairnCostCard = cairnPlugin.provide(
  createComponentExtension({
    name: 'EntityCairnCostCard',
    component: {
      lazy: () => import('./components/CostCard').then(m => m.CostCard),
    },
  }),
);

/**
 * The provisioning status card.
 *
 * @public
 */
export const EntityCairnStatusCard = cairnPlugin.provide(
  createComponentExtension({
    name: 'EntityCairnStatusCard',
    component: {
      lazy: () => import('./components/StatusCard').then(m => m.StatusCard),
    },
  }),
);

/**
 * The DORA metrics card.
 *
 * @public
 */
export const EntityCairnDoraCard = cairnPlugin.provide(
  createComponentExtension({
    name: 'EntityCairnDoraCard',
    component: {
      lazy: () => import('./components/DoraCard').then(m => m.DoraCard),
    },
  }),
);

/**
 * The promotions card: promotions awaiting a decision, with Approve and Deny
 * for the signed-in user where Cairn lets them decide, and the decided ones.
 *
 * @public
 */
export const EntityCairnPromotionsCard = cairnPlugin.provide(
  createComponentExtension({
    name: 'EntityCairnPromotionsCard',
    component: {
      lazy: () =>
        import('./components/PromotionsCard').then(m => m.PromotionsCard),
    },
  }),
);
