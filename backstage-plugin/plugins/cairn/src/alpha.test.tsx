import { Entity } from '@backstage/catalog-model';
import { discoveryApiRef, fetchApiRef } from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import {
  ListPromotionsResponse,
  ServiceCost,
  ServiceStatus,
} from '@cairn-dev/plugin-cairn-common';
import { screen } from '@testing-library/react';
import cairnFrontendPlugin, {
  cairnApi,
  cairnCostEntityCard,
  cairnDoraEntityCard,
  cairnPromotionsEntityCard,
  cairnStatusEntityCard,
} from './alpha';
import { CairnApi, cairnApiRef } from './api';
import { ordersEntity } from './__testUtils__/renderCard';

// The cards as the new frontend system mounts them: through their entity
// card extensions, in its test app.
const cost: ServiceCost = {
  serviceName: 'orders-service',
  totalMonthlyCost: 42,
  previousMonthlyCost: 40,
  currency: 'USD',
  month: '2025-03',
  breakdown: [
    {
      resource: 'orders-service-db',
      type: 'database',
      monthlyCost: 42,
      trend: 'up',
      source: 'billed',
    },
  ],
};
const status: ServiceStatus = {
  service: 'orders-service',
  phase: 'ready',
  deployments: [
    {
      environment: 'staging',
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      application: 'orders-service-staging',
    },
  ],
  infrastructure: [],
};

const promotions: ListPromotionsResponse = {
  promotions: [
    {
      name: 'services/orders-service/promotions/1',
      revision: 'v1.4.0',
      environment: 'production',
      state: 'pending',
      requester: 'user:default/lee',
      createTime: '2026-11-27T12:00:00Z',
      callerCanDecide: true,
    },
  ],
  nextPageToken: '',
};

function fakeCairn(): jest.Mocked<CairnApi> {
  return {
    getServiceCost: jest.fn().mockResolvedValue(cost),
    getServiceStatus: jest.fn().mockResolvedValue(status),
    getServiceDora: jest.fn().mockResolvedValue({ window: '90d' }),
    listDeployments: jest.fn().mockResolvedValue({ deployments: [] }),
    listIncidents: jest.fn().mockResolvedValue({ incidents: [] }),
    listPromotions: jest.fn().mockResolvedValue(promotions),
    approvePromotion: jest.fn(),
    denyPromotion: jest.fn(),
  };
}

async function renderOnEntityPage(card: JSX.Element, api: CairnApi) {
  await renderInTestApp(
    <EntityProvider entity={ordersEntity}>{card}</EntityProvider>,
    { apis: [[cairnApiRef, api]] },
  );
}

const cards: Array<[string, typeof cairnCostEntityCard]> = [
  ['cost', cairnCostEntityCard],
  // The cards differ only in their own config, which these tests leave out.
  ['status', cairnStatusEntityCard as unknown as typeof cairnCostEntityCard],
  ['dora', cairnDoraEntityCard as unknown as typeof cairnCostEntityCard],
  [
    'promotions',
    cairnPromotionsEntityCard as unknown as typeof cairnCostEntityCard,
  ],
];

describe('the entity card extensions', () => {
  it.each(cards)(
    'show the %s card only on Components that name their Cairn service, as content',
    (_, card) => {
      const tester = createExtensionTester(card);
      // A predicate, not the deprecated filter string.
      expect(
        tester.get(EntityCardBlueprint.dataRefs.filterExpression),
      ).toBeUndefined();
      const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction)!;
      const unannotated: Entity = {
        ...ordersEntity,
        metadata: { name: 'orders' },
      };
      expect(filter(ordersEntity)).toBe(true);
      expect(filter(unannotated)).toBe(false);
      expect(filter({ ...ordersEntity, kind: 'System' })).toBe(false);
      expect(tester.get(EntityCardBlueprint.dataRefs.type)).toBe('content');
    },
  );

  it('take an app filter predicate instead of theirs', () => {
    const tester = createExtensionTester(cairnCostEntityCard, {
      config: { filter: { 'spec.lifecycle': 'production' } },
    });
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction)!;
    expect(
      filter({ ...ordersEntity, spec: { lifecycle: 'experimental' } }),
    ).toBe(false);
  });

  it('open the cost card on the month in its config', async () => {
    const api = fakeCairn();
    await renderOnEntityPage(
      createExtensionTester(cairnCostEntityCard, {
        config: { month: '2025-03' },
      }).reactElement(),
      api,
    );
    expect(await screen.findByLabelText('Total this month')).toHaveTextContent(
      '$42.00',
    );
    expect(api.getServiceCost).toHaveBeenCalledWith('orders-service', {
      month: '2025-03',
      signal: expect.any(AbortSignal),
    });
  });

  it('link the status card to Argo CD at the address in its config', async () => {
    await renderOnEntityPage(
      createExtensionTester(cairnStatusEntityCard, {
        config: {
          argoCdBaseUrl: 'https://argocd.example.com',
          refreshIntervalMs: 2000,
        },
      }).reactElement(),
      fakeCairn(),
    );
    expect(
      await screen.findByRole('link', {
        name: 'Open orders-service-staging in Argo CD',
      }),
    ).toHaveAttribute(
      'href',
      'https://argocd.example.com/applications/orders-service-staging',
    );
  });

  it('read DORA metrics over the window in its config', async () => {
    const api = fakeCairn();
    await renderOnEntityPage(
      createExtensionTester(cairnDoraEntityCard, {
        config: { window: '90d' },
      }).reactElement(),
      api,
    );
    expect(await screen.findByText('Last 90 days')).toBeInTheDocument();
    expect(api.getServiceDora).toHaveBeenCalledWith('orders-service', {
      window: '90d',
      signal: expect.any(AbortSignal),
    });
  });

  it('read as many promotions as the promotions card config says', async () => {
    const api = fakeCairn();
    await renderOnEntityPage(
      createExtensionTester(cairnPromotionsEntityCard, {
        config: { pageSize: 5 },
      }).reactElement(),
      api,
    );
    expect(
      await screen.findByRole('table', { name: 'Awaiting a decision' }),
    ).toHaveTextContent('v1.4.0');
    expect(api.listPromotions).toHaveBeenCalledWith('orders-service', {
      pageSize: 5,
      signal: expect.any(AbortSignal),
    });
  });

  it.each([
    ['pageSize', cairnPromotionsEntityCard, { pageSize: 0 }],
    ['pageSize', cairnPromotionsEntityCard, { pageSize: 1000 }],
    ['window', cairnDoraEntityCard, { window: 'forever' }],
    ['month', cairnCostEntityCard, { month: '2026-13' }],
    [
      'argoCdBaseUrl',
      cairnStatusEntityCard,
      { argoCdBaseUrl: 'data:text/html,<script>alert(1)</script>' },
    ],
    ['refreshIntervalMs', cairnStatusEntityCard, { refreshIntervalMs: 10 }],
  ] as const)('refuse a %s they cannot use', (key, card, config) => {
    expect(() =>
      createExtensionTester(card as typeof cairnDoraEntityCard, {
        config: config as any,
      }).reactElement(),
    ).toThrow(new RegExp(`Invalid configuration for extension .* at '${key}'`));
  });
});

describe('the API extension', () => {
  it("reads Cairn through Backstage's proxy with the user's fetch", async () => {
    const fetch = jest.fn(
      async () =>
        new Response(JSON.stringify(status), {
          headers: { 'Content-Type': 'application/json' },
        }),
    );
    await renderInTestApp(
      <EntityProvider entity={ordersEntity}>
        {createExtensionTester(cairnStatusEntityCard).reactElement()}
      </EntityProvider>,
      {
        extensions: [cairnApi],
        apis: [
          [
            discoveryApiRef,
            { getBaseUrl: async (id: string) => `http://backstage/api/${id}` },
          ],
          [fetchApiRef, { fetch }],
        ],
      },
    );
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
    expect(fetch).toHaveBeenCalledWith(
      'http://backstage/api/proxy/cairn/v1/services/orders-service/status',
      expect.objectContaining({ method: 'GET' }),
    );
  });

  it('is part of the plugin with the four cards', () => {
    for (const id of [
      'api:cairn',
      'entity-card:cairn/cost',
      'entity-card:cairn/status',
      'entity-card:cairn/dora',
      'entity-card:cairn/promotions',
    ]) {
      expect(cairnFrontendPlugin.getExtension(id as any)).toMatchObject({
        $$type: '@backstage/ExtensionDefinition',
      });
    }
  });
});
