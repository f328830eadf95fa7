import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { identityApiRef } from '@backstage/core-plugin-api';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { ReactElement } from 'react';
import { CairnApi, cairnApiRef } from '../api';

// Named in Cairn by its annotation, which differs from its entity name.
export const ordersEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders',
    annotations: { 'cairn.dev/service': 'orders-service' },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-orders' },
};

/**
 * Renders a card on an entity page of Backstage's test app, with a Cairn
 * API that answers as api says, for a signed-in user (Jane by default). The cards' reads of a real Cairn are
 * tested in packages/e2e.
 */
export function renderCard(
  card: ReactElement,
  api: Partial<CairnApi>,
  entity: Entity = ordersEntity,
  signedIn = 'user:default/jane',
) {
  const unexpected = (method: string) => () =>
    Promise.reject(new Error(`the card should not call ${method}`));
  const cairnApi: CairnApi = {
    getServiceCost: unexpected('getServiceCost'),
    getServiceStatus: unexpected('getServiceStatus'),
    getServiceDora: unexpected('getServiceDora'),
    listDeployments: unexpected('listDeployments'),
    listIncidents: unexpected('listIncidents'),
    listPromotions: unexpected('listPromotions'),
    approvePromotion: unexpected('approvePromotion'),
    denyPromotion: unexpected('denyPromotion'),
    ...api,
  };
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [cairnApiRef, cairnApi],
        [identityApiRef, mockApis.identity({ userEntityRef: signedIn })],
      ]}
    >
      <EntityProvider entity={entity}>{card}</EntityProvider>
    </TestApiProvider>,
  );
}
