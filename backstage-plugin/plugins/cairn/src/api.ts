import {
  createApiRef,
  DiscoveryApi,
  FetchApi,
} from '@backstage/core-plugin-api';
import { CairnClient } from '@cairn-dev/plugin-cairn-common';

/**
 * What the entity cards read from Cairn, and the promotions card's
 * decisions, which Cairn takes as the signed-in user's.
 *
 * @public
 */
export type CairnApi = Pick<
  CairnClient,
  | 'getServiceCost'
  | 'getServiceStatus'
  | 'getServiceDora'
  | 'listDeployments'
  | 'listIncidents'
  | 'listPromotions'
  | 'approvePromotion'
  | 'denyPromotion'
>;

/** @public */
export const cairnApiRef = createApiRef<CairnApi>({
  id: 'plugin.cairn.service',
});

/**
 * The proxy endpoint, under Backstage's proxy, that forwards to Cairn with
 * Cairn's token (see deploy/backstage/app-config.cairn.yaml).
 *
 * @public
 */
export const CAIRN_PROXY_PATH = '/cairn';

/**
 * Cairn reached through Backstage's proxy: discovery finds the proxy, and
 * fetchApi sends the user's Backstage token, which the proxy checks.
 *
 * @public
 */
export function createCairnApi(options: {
  discoveryApi: DiscoveryApi;
  fetchApi: FetchApi;
}): CairnApi {
  return new CairnClient({
    baseUrl: async () =>
      `${await options.discoveryApi.getBaseUrl('proxy')}${CAIRN_PROXY_PATH}`,
    fetch: (input, init) => options.fetchApi.fetch(input, init),
  });
}
