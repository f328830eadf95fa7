import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { cairnApiRef, createCairnApi } from './api';

/** @alpha */
export const cairnApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: cairnApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: createCairnApi,
    }),
});

// The cards go on Components' overview pages; each app can move them or
// narrow the filter in its app-config.
const filter = 'kind:component';

/** @alpha */
export const cairnCostEntityCard = EntityCardBlueprint.make({
  name: 'cost',
  params: {
    filter,
    loader: () => import('./components/CostCard').then(m => <m.CostCard />),
  },
});

/** @alpha */
export const cairnStatusEntityCard = EntityCardBlueprint.make({
  name: 'status',
  params: {
    filter,
    loader: () => import('./components/StatusCard').then(m => <m.StatusCard />),
  },
});

/** @alpha */
export const cairnDoraEntityCard = EntityCardBlueprint.make({
  name: 'dora',
  params: {
    filter,
    loader: () => import('./components/DoraCard').then(m => <m.DoraCard />),
  },
});

/**
 * Cairn's plugin for apps on Backstage's new frontend system: the Cairn API
 * and three entity cards (cost, provisioning status, DORA metrics).
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'cairn',
  title: 'Cairn',
  extensions: [
    cairnApi,
    cairnCostEntityCard,
    cairnStatusEntityCard,
    cairnDoraEntityCard,
  ],
});
