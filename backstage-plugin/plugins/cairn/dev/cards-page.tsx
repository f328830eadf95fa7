// The page packages/e2e's browser test bundles and opens: Cairn's entity
// cards on an entity page of Backstage's test app, as an adopter's app
// renders them. The Cairn API
// is the plugin's own (createCairnApi: discovery finds Backstage's proxy,
// fetch sends the user's Backstage token); the proxy is the real
// @backstage/plugin-proxy-backend, configured by
// deploy/backstage/app-config.cairn.yaml, in front of the real Cairn.
import { Entity } from '@backstage/catalog-model';
import {
  createFetchApi,
  FetchMiddlewares,
  UrlPatternDiscovery,
} from '@backstage/core-app-api';
import { IdentityApi, identityApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider, wrapInTestApp } from '@backstage/test-utils';
import {
  CAIRN_SERVICE_ANNOTATION,
  cairnApiRef,
  createCairnApi,
  EntityCairnCostCard,
  EntityCairnDoraCard,
  EntityCairnPromotionsCard,
  EntityCairnStatusCard,
} from '../src';
import Grid from '@material-ui/core/Grid';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(window.location.search);
const service = params.get('service') ?? 'orders-service';
// The signed-in user's Backstage token, which the test makes as Backstage's
// auth backend would (here: the test backend's mock user token).
const userToken = params.get('token') ?? '';
// Whom the token names: the promotions card says so when the user requested
// a promotion they may not decide.
const user = params.get('user') ?? 'user:default/jane';

// A signed-in user, as Backstage's sign-in would leave one.
const identityApi: IdentityApi = {
  getCredentials: async () => ({ token: userToken }),
  getBackstageIdentity: async () => ({
    type: 'user',
    userEntityRef: user,
    ownershipEntityRefs: [user, 'group:default/team-orders'],
  }),
  getProfileInfo: async () => ({ displayName: user.split('/').pop() }),
  signOut: async () => {},
};

const origin = window.location.origin;
const discoveryApi = UrlPatternDiscovery.compile(`${origin}/api/{{pluginId}}`);
const fetchApi = createFetchApi({
  middleware: [
    FetchMiddlewares.injectIdentityAuth({
      identityApi,
      allowUrl: url => url.startsWith(origin),
    }),
  ],
});

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: service,
    annotations: { [CAIRN_SERVICE_ANNOTATION]: service },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-orders' },
};

createRoot(document.getElementById('root')!).render(
  wrapInTestApp(
    <TestApiProvider
      apis={[
        [cairnApiRef, createCairnApi({ discoveryApi, fetchApi })],
        [identityApiRef, identityApi],
      ]}
    >
      <EntityProvider entity={entity}>
        <Grid container spacing={3} style={{ padding: 24, maxWidth: 1000 }}>
          <Grid item xs={12} data-card="cost">
            <EntityCairnCostCard />
          </Grid>
          <Grid item xs={12} data-card="status">
            <EntityCairnStatusCard refreshIntervalMs={1000} />
          </Grid>
          <Grid item xs={12} data-card="dora">
            <EntityCairnDoraCard />
          </Grid>
          <Grid item xs={12} data-card="promotions">
            <EntityCairnPromotionsCard />
          </Grid>
        </Grid>
      </EntityProvider>
    </TestApiProvider>,
  ),
);
