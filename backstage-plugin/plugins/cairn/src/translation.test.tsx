import {
  TranslationApi,
  translationApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import { CairnApi, cairnApiRef } from './api';
import { CostCard } from './components/CostCard';
import { DoraCard } from './components/DoraCard';
import { PromotionsCard } from './components/PromotionsCard';
import { StatusCard } from './components/StatusCard';
import { ordersEntity } from './__testUtils__/renderCard';

// A pseudo-translation that writes every message as its key, so that any
// word a card writes without the translation ref shows up as English.
const pseudoTranslation = {
  getTranslation: () => ({
    ready: true,
    t: (key: string, options?: Record<string, unknown>) =>
      `⟦${key}${
        options
          ? ` ${Object.entries(options)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }⟧`,
  }),
  translation$: () => ({
    subscribe: () => ({ unsubscribe: () => {}, closed: false }),
    [Symbol.observable]() {
      return this;
    },
  }),
} as unknown as TranslationApi;

const cairnApi: CairnApi = {
  getServiceCost: async () => ({
    serviceName: 'orders-service',
    totalMonthlyCost: 42,
    previousMonthlyCost: 40,
    currency: 'USD',
    month: '2026-11',
    breakdown: [
      {
        resource: 'orders-service-db',
        type: 'database',
        monthlyCost: 42,
        trend: 'up',
        source: 'billed',
      },
    ],
  }),
  getServiceStatus: async () => ({
    service: 'orders-service',
    phase: 'provisioning',
    deployments: [
      { environment: 'staging', syncStatus: 'Synced', healthStatus: 'Healthy' },
    ],
    infrastructure: [
      { resource: 'orders-service-db', kind: 'DatabaseClaim', ready: true },
    ],
  }),
  getServiceDora: async () => ({}),
  listDeployments: async () => ({ deployments: [], nextPageToken: '' }),
  listIncidents: async () => ({ incidents: [], nextPageToken: '' }),
  listPromotions: async () => ({ promotions: [], nextPageToken: '' }),
  approvePromotion: async () => ({ revision: '' }),
  denyPromotion: async () => ({ revision: '' }),
};

async function renderTranslated(
  card: JSX.Element,
  api: Partial<CairnApi> = {},
) {
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [cairnApiRef, { ...cairnApi, ...api }],
        [translationApiRef, pseudoTranslation],
      ]}
    >
      <EntityProvider entity={ordersEntity}>{card}</EntityProvider>
    </TestApiProvider>,
  );
}

describe("the cards' words", () => {
  it('come from the translation ref on the cost card', async () => {
    await renderTranslated(<CostCard />);
    expect(await screen.findByText('⟦cost.title⟧')).toBeInTheDocument();
    expect(screen.getByLabelText('⟦cost.total⟧')).toHaveTextContent('$42.00');
    const rows = within(
      screen.getByRole('table', { name: '⟦cost.byResource⟧' }),
    ).getAllByRole('row');
    expect(rows.map(r => r.textContent)).toEqual([
      '⟦cost.resource⟧⟦cost.type⟧⟦cost.source⟧⟦cost.thisMonth⟧⟦cost.trend⟧',
      'orders-service-dbdatabase⟦cost.billed⟧$42.00⟦cost.up⟧',
    ]);
  });

  it('come from the translation ref on the status card, except Argo CD words', async () => {
    await renderTranslated(<StatusCard refreshIntervalMs={3000} />);
    expect(await screen.findByText('⟦status.title⟧')).toBeInTheDocument();
    expect(
      screen.getByText('⟦status.refreshing seconds=3⟧'),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('⟦status.phase⟧')).toHaveTextContent(
      '⟦status.phases.provisioning⟧',
    );
    expect(
      within(
        screen.getByRole('table', { name: '⟦status.environments⟧' }),
      ).getAllByRole('row')[1],
    ).toHaveTextContent('StagingSyncedHealthy—⟦status.never⟧');
  });

  it("come from the translation ref for several clusters, stale rows, environments' own claims and awaited promotions", async () => {
    await renderTranslated(<StatusCard />, {
      getServiceStatus: async () => ({
        service: 'orders-service',
        phase: 'ready',
        stale: true,
        deployments: [
          {
            environment: 'production',
            syncStatus: 'OutOfSync',
            healthStatus: 'Missing',
            cluster: 'production',
            stale: true,
            awaitingPromotion: true,
          },
        ],
        infrastructure: [
          {
            resource: 'orders-service-bucket',
            kind: 'BucketClaim',
            ready: true,
            cluster: 'management',
            environment: '',
          },
          {
            resource: 'orders-service-production-db',
            kind: 'DatabaseClaim',
            ready: true,
            cluster: 'production',
            environment: 'production',
          },
        ],
      }),
    });
    expect(await screen.findByText('⟦status.title⟧')).toBeInTheDocument();
    const rows = (table: string) =>
      within(screen.getByRole('table', { name: table }))
        .getAllByRole('row')
        .map(r => r.textContent);
    expect(rows('⟦status.environments⟧')).toEqual([
      '⟦status.environment⟧⟦status.cluster⟧⟦status.sync⟧⟦status.health⟧⟦status.revision⟧⟦status.lastDeploy⟧',
      'Production ⟦status.staleRow⟧productionOutOfSync⟦status.awaitingPromotion⟧—⟦status.never⟧',
    ]);
    expect(screen.getByText('⟦status.staleRow⟧')).toHaveAttribute(
      'title',
      '⟦status.staleRowHint⟧',
    );
    expect(rows('⟦status.infrastructure⟧')).toEqual([
      '⟦status.resource⟧⟦status.kind⟧⟦status.environment⟧⟦status.cluster⟧⟦status.ready⟧',
      'orders-service-bucketBucketClaim⟦status.shared⟧management⟦status.ready⟧',
      'orders-service-production-dbDatabaseClaimProductionproduction⟦status.ready⟧',
    ]);
  });

  it('come from the translation ref on the promotions card', async () => {
    const promotion = {
      name: 'services/orders-service/promotions/2',
      revision: 'v1.4.0',
      environment: 'production',
      state: 'pending',
      requester: 'user:default/lee',
      createTime: '2026-11-27T12:00:00Z',
      rollback: true,
      callerCanDecide: false,
    };
    await renderTranslated(<PromotionsCard />, {
      listPromotions: async () => ({
        promotions: [
          promotion,
          {
            ...promotion,
            name: 'services/orders-service/promotions/1',
            revision: 'v1.3.0',
            state: 'denied',
            decider: 'user:default/jane',
            rollback: false,
          },
        ],
        nextPageToken: 'more',
      }),
    });
    expect(await screen.findByText('⟦promotions.title⟧')).toBeInTheDocument();
    const rows = (table: string) =>
      within(screen.getByRole('table', { name: table }))
        .getAllByRole('row')
        .map(r => r.textContent);
    expect(rows('⟦promotions.pending⟧')).toEqual([
      '⟦promotions.revision⟧⟦promotions.environment⟧⟦promotions.requester⟧⟦promotions.requested⟧⟦promotions.decision⟧',
      expect.stringMatching(
        /^v1\.4\.0 ⟦promotions\.rollback⟧Productionuser:default\/lee.+⟦promotions\.approve⟧⟦promotions\.deny⟧⟦promotions\.notDecider⟧$/,
      ),
    ]);
    expect(screen.getByText('⟦promotions.rollback⟧')).toBeInTheDocument();
    expect(rows('⟦promotions.decided⟧')).toEqual([
      '⟦promotions.state⟧⟦promotions.revision⟧⟦promotions.environment⟧⟦promotions.requester⟧⟦promotions.decider⟧⟦promotions.reason⟧⟦promotions.decideTime⟧',
      '⟦promotions.states.denied⟧v1.3.0Productionuser:default/leeuser:default/jane——',
    ]);
    expect(
      screen.getByRole('button', { name: '⟦promotions.showOlder⟧' }),
    ).toBeInTheDocument();
  });

  it('come from the translation ref in the lists behind the DORA figures', async () => {
    const metric = (unit: string) => ({
      value: 3600,
      unit,
      band: 'elite',
      previousValue: 3600,
      sampleCount: '2',
    });
    await renderTranslated(<DoraCard />, {
      getServiceDora: async () => ({
        window: '30d',
        deploymentFrequency: metric('deploys_per_day'),
        leadTimeForChanges: metric('seconds'),
        changeFailureRate: metric('ratio'),
        timeToRestore: metric('seconds'),
      }),
      listDeployments: async () => ({
        deployments: [
          {
            revision: 'v1.5.0',
            status: 'failed',
            finishedAt: '2026-11-27T12:00:00Z',
            production: true,
            incidents: [{ id: 'INC-1042' }],
          },
        ],
      }),
      listIncidents: async () => ({
        incidents: [
          {
            id: 'INC-1042',
            openedAt: '2026-11-27T13:00:00Z',
            link: 'corrected',
            deployment: { revision: 'v1.5.0' },
          },
        ],
      }),
    });
    const rows = (table: string) =>
      within(screen.getByRole('table', { name: table }))
        .getAllByRole('row')
        .map(r => r.textContent);
    fireEvent.click(
      await screen.findByRole('button', {
        name: /^⟦dora\.openList metric=⟦dora\.changeFailureRate⟧ value=/,
      }),
    );
    const deployments =
      '⟦dora.list.deploymentsTitle metric=⟦dora.changeFailureRate⟧⟧';
    expect(
      await screen.findByRole('table', { name: deployments }),
    ).toBeTruthy();
    expect(rows(deployments)).toEqual([
      '⟦dora.list.revision⟧⟦dora.list.status⟧⟦dora.list.finished⟧⟦dora.list.leadTime⟧⟦dora.list.incidents⟧',
      expect.stringMatching(
        /^v1\.5\.0⟦dora\.list\.statuses\.failed⟧.+—INC-1042⟦dora\.list\.changeFailure⟧$/,
      ),
    ]);
    expect(
      screen.getByText(
        '⟦dora.list.deploymentsNote size=20 command=cairn deployment list orders-service⟧',
      ),
    ).toBeInTheDocument();
    fireEvent.click(
      screen.getByRole('button', {
        name: /^⟦dora\.openList metric=⟦dora\.timeToRestore⟧ value=/,
      }),
    );
    const incidents = '⟦dora.list.incidentsTitle metric=⟦dora.timeToRestore⟧⟧';
    expect(await screen.findByRole('table', { name: incidents })).toBeTruthy();
    expect(rows(incidents)).toEqual([
      '⟦dora.list.incident⟧⟦dora.list.opened⟧⟦dora.list.resolved⟧⟦dora.list.restoreTime⟧⟦dora.list.chargedTo⟧',
      expect.stringMatching(
        /^INC-1042.+⟦dora\.list\.stillOpen⟧—⟦dora\.list\.chargedHow revision=v1\.5\.0 how=⟦dora\.list\.links\.corrected⟧⟧$/,
      ),
    ]);
    expect(
      screen.getByText(
        '⟦dora.list.incidentsNote size=20 command=cairn incident list orders-service⟧',
      ),
    ).toBeInTheDocument();
  });
});
