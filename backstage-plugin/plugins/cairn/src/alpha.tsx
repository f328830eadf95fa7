import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { z } from 'zod';
import { cairnApiRef, createCairnApi } from './api';
import { isCairnAvailable } from './entity';

export { cairnTranslationRef } from './translation';

/** @alpha */
export const cairnApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: cairnApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: createCairnApi,
    }),
});

// The cards go on the overview of Components that carry the cairn.dev/service
// annotation; an app can narrow that with a filter predicate in its config.
// All four are tables too wide for the info column, hence `content`.
const filter = isCairnAvailable;
const type = 'content';

/**
 * The cost card. Config: `month`, the month it opens on (`current`,
 * `previous` or `YYYY-MM`).
 *
 * @alpha
 */
export const cairnCostEntityCard = EntityCardBlueprint.makeWithOverrides({
  name: 'cost',
  configSchema: {
    month: z
      .string()
      .regex(/^(current|previous|\d{4}-(0[1-9]|1[0-2]))$/)
      .optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      filter,
      type,
      loader: () =>
        import('./components/CostCard').then(m => (
          <m.CostCard month={config.month} />
        )),
    });
  },
});

/**
 * The provisioning status card. Config: `refreshIntervalMs`, how often it
 * reads again while provisioning; `argoCdBaseUrl`, Argo CD's web address,
 * for links to each environment's Application.
 *
 * @alpha
 */
export const cairnStatusEntityCard = EntityCardBlueprint.makeWithOverrides({
  name: 'status',
  configSchema: {
    refreshIntervalMs: z.number().int().min(1000).optional(),
    argoCdBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      filter,
      type,
      loader: () =>
        import('./components/StatusCard').then(m => (
          <m.StatusCard
            refreshIntervalMs={config.refreshIntervalMs}
            argoCdBaseUrl={config.argoCdBaseUrl}
          />
        )),
    });
  },
});

/**
 * The DORA metrics card. Config: `window`, in days such as `90d`.
 *
 * @alpha
 */
export const cairnDoraEntityCard = EntityCardBlueprint.makeWithOverrides({
  name: 'dora',
  configSchema: {
    window: z
      .string()
      .regex(/^[1-9][0-9]{0,2}d$/)
      .optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      filter,
      type,
      loader: () =>
        import('./components/DoraCard').then(m => (
          <m.DoraCard window={config.window} />
        )),
    });
  },
});

/**
 * The promotions card: those awaiting a decision, with Approve and Deny for
 * the signed-in user where Cairn lets them decide, and the decided ones.
 * Config: `pageSize`, how many promotions it reads at first and adds with
 * each "Show older promotions" (20 by default).
 *
 * @alpha
 */
export const cairnPromotionsEntityCard = EntityCardBlueprint.makeWithOverrides({
  name: 'promotions',
  configSchema: {
    pageSize: z.number().int().min(1).max(100).optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      filter,
      type,
      loader: () =>
        import('./components/PromotionsCard').then(m => (
          <m.PromotionsCard pageSize={config.pageSize} />
        )),
    });
  },
});

/**
 * Cairn's plugin for apps on Backstage's new frontend system: the Cairn API
 * and four entity cards (cost, provisioning status, DORA metrics,
 * promotions).
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
    cairnPromotionsEntityCard,
  ],
});
