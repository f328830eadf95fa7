import {
  discoveryApiRef,
  fetchApiRef,
  FetchApi,
} from '@backstage/core-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import { ReactElement } from 'react';
import {
  CairnApi,
  cairnApiRef,
  cairnPlugin,
  EntityCairnPromotionsCard,
  EntityCairnStatusCard,
} from './index';
import { ordersEntity } from './__testUtils__/renderCard';

// The plugin on Backstage's legacy frontend system: the API its factory
// makes, as an app installs it, and a card where an entity page puts it.
const discoveryApi = {
  getBaseUrl: async (pluginId: string) => `http://backstage/api/${pluginId}`,
};

function cairnThroughFactory(fetchApi: FetchApi): CairnApi {
  const factories = Array.from(cairnPlugin.getApis());
  expect(factories.map(f => f.api.id)).toEqual([cairnApiRef.id]);
  const [factory] = factories;
  expect(factory.deps).toEqual({
    discoveryApi: discoveryApiRef,
    fetchApi: fetchApiRef,
  });
  return factory.factory({ discoveryApi, fetchApi }) as CairnApi;
}

function renderEntityPage(
  entity: Entity,
  cairnApi: CairnApi,
  card: ReactElement = <EntityCairnStatusCard />,
) {
  return renderInTestApp(
    <TestApiProvider apis={[[cairnApiRef, cairnApi]]}>
      <EntityProvider entity={entity}>{card}</EntityProvider>
    </TestApiProvider>,
  );
}

describe('the cairn plugin on the legacy frontend system', () => {
  it("reads Cairn through Backstage's proxy with the user's fetch, for entities that name their service", async () => {
    const fetch = jest.fn(
      async (_input: RequestInfo | URL, _init?: RequestInit) =>
        new Response(
          JSON.stringify({
            service: 'orders-service',
            phase: 'ready',
            deployments: [],
            infrastructure: [],
          }),
        ),
    );
    await renderEntityPage(ordersEntity, cairnThroughFactory({ fetch }));
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0][0]).toBe(
      'http://backstage/api/proxy/cairn/v1/services/orders-service/status',
    );
    expect(fetch.mock.calls[0][1]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('asks for the annotation, reading nothing, on an entity without it', async () => {
    const fetch = jest.fn();
    await renderEntityPage(
      { ...ordersEntity, metadata: { name: 'orders' } },
      cairnThroughFactory({ fetch }),
    );
    expect(await screen.findByText('cairn.dev/service')).toBeInTheDocument();
    expect(fetch).not.toHaveBeenCalled();
  });

  it("decides a promotion through Backstage's proxy with the user's fetch, and reads again", async () => {
    const pending = {
      name: 'services/orders-service/promotions/3',
      revision: 'v1.4.0',
      environment: 'production',
      state: 'pending',
      requester: 'user:default/lee',
      decider: '',
      reason: '',
      createTime: '2026-11-27T12:00:00Z',
      decideTime: null,
      rollback: false,
      callerCanDecide: true,
    };
    const approved = {
      ...pending,
      state: 'approved',
      decider: 'user:default/jane',
      decideTime: '2026-11-27T12:30:00Z',
      callerCanDecide: false,
    };
    const fetch = jest.fn(
      async (_input: RequestInfo | URL, init?: RequestInit) =>
        new Response(
          JSON.stringify(
            init?.method === 'POST'
              ? approved
              : { promotions: [pending], nextPageToken: '' },
          ),
        ),
    );
    await renderEntityPage(
      ordersEntity,
      cairnThroughFactory({ fetch }),
      <EntityCairnPromotionsCard />,
    );
    const table = await screen.findByRole('table', {
      name: 'Awaiting a decision',
    });
    fireEvent.click(within(table).getByRole('button', { name: 'Approve' }));
    expect(
      await within(table).findByText('Approved by user:default/jane'),
    ).toBeInTheDocument();
    expect(
      fetch.mock.calls.map(([url, init]) => [
        init?.method,
        url,
        init?.body ?? null,
      ]),
    ).toEqual([
      [
        'GET',
        'http://backstage/api/proxy/cairn/v1/services/orders-service/promotions?pageSize=20',
        null,
      ],
      [
        'POST',
        'http://backstage/api/proxy/cairn/v1/services/orders-service/promotions/3:approve',
        '{}',
      ],
      [
        'GET',
        'http://backstage/api/proxy/cairn/v1/services/orders-service/promotions?pageSize=20',
        null,
      ],
    ]);
  });
});
