import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createServiceAction } from './actions/createService';
import { estimateCostAction } from './actions/estimateCost';
import { requestPromotionAction } from './actions/requestPromotion';
import { waitUntilReadyAction } from './actions/waitUntilReady';
import { cairnClientFromConfig } from './client';

/**
 * Cairn's scaffolder actions, for the new backend system:
 * `backend.add(import('@cairn-dev/plugin-scaffolder-backend-module-cairn'))`.
 * Reads Cairn's URL and token from the `cairn` section of app-config.
 *
 * @public
 */
export const scaffolderModuleCairn = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'cairn',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ scaffolder, config }) {
        const client = cairnClientFromConfig(config);
        scaffolder.addActions(
          createServiceAction({ client }),
          waitUntilReadyAction({ client }),
          estimateCostAction({ client }),
          requestPromotionAction({ client }),
        );
      },
    });
  },
});
