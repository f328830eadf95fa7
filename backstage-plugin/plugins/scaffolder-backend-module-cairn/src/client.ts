import type { RootConfigService } from '@backstage/backend-plugin-api';
import { CairnClient } from '@cairn-dev/plugin-cairn-common';

/** The client the actions use, from the `cairn` section of app-config. */
export function cairnClientFromConfig(config: RootConfigService): CairnClient {
  return new CairnClient({
    baseUrl: config.getString('cairn.baseUrl').replace(/\/+$/, ''),
    token: config.getOptionalString('cairn.token'),
  });
}

/** The scaffolder actions' view of Cairn. */
export type CairnActionsClient = Pick<
  CairnClient,
  | 'createService'
  | 'getServiceStatus'
  | 'estimateServiceCost'
  | 'createPromotion'
>;
