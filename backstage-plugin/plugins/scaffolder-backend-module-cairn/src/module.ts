import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createServiceAction } from './actions/createService';
import { estimateCostAction } from './actions/estimateCost';
import { requestPromotionAction } from './actions/requestPromotion';
import { waitUntilReadyAction } from './actions/waitUntilReady';
import { cairnClientsFromConfig } from './client';

/**
 * Cairn's scaffolder actions, for the new backend system:
 * `backend.add(import('@cairn-dev/plugin-scaffolder-backend-module-cairn'))`.
 * Reads Cairn's URL and read-only token from the `cairn` section of
 * app-config; every call a person starts carries that person's Backstage
 * token.
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
        const clients = cairnClientsFromConfig(config);
        scaffolder.addActions(
          createServiceAction({ clients }),
          waitUntilReadyAction({ clients }),
          estimateCostAction({ clients }),
          requestPromotionAction({ clients }),
        );
      },
    });
  },
});
