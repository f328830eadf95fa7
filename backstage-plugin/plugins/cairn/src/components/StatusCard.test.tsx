import { CairnError, ServiceStatus } from '@cairn-dev/plugin-cairn-common';
import { act, fireEvent, screen, within } from '@testing-library/react';
import { renderCard } from '../__testUtils__/renderCard';
import { StatusCard } from './StatusCard';

// As Cairn answers while the claims are being created, then once ready, on
// the default path and one cluster: production syncs only on a promotion,
// and none was approved yet.
const provisioning: ServiceStatus = {
  service: 'orders-service',
  phase: 'provisioning',
  stale: false,
  deployments: [
    {
      environment: 'production',
      syncStatus: 'OutOfSync',
      healthStatus: 'Missing',
      revision: 'release',
      application: 'orders-service-production',
      cluster: 'default',
      stale: false,
      awaitingPromotion: true,
    },
    {
      environment: 'staging',
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
      revision: '',
      application: 'orders-service-staging',
      cluster: 'default',
      stale: false,
      awaitingPromotion: false,
    },
  ],
  infrastructure: [
    {
      resource: 'orders-service-bucket',
      kind: 'BucketClaim',
      ready: false,
      reason: 'Creating',
      message: '',
      cluster: 'default',
      stale: false,
      environment: '',
    },
    {
      resource: 'orders-service-db',
      kind: 'DatabaseClaim',
      ready: false,
      reason: 'Creating',
      message: '',
      cluster: 'default',
      stale: false,
      environment: '',
    },
  ],
};
const ready: ServiceStatus = {
  ...provisioning,
  phase: 'ready',
  provisioningDuration: '84.2s',
  deployments: [
    provisioning.deployments![0],
    {
      ...provisioning.deployments![1],
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      revision: 'main',
      lastDeployTime: '2026-11-27T12:47:32Z',
    },
  ],
  infrastructure: provisioning.infrastructure!.map(c => ({
    ...c,
    ready: true,
    reason: 'Available',
  })),
};

const unavailable = () =>
  new CairnError({
    message: 'the store cannot be reached',
    status: 503,
    code: 14,
  });

/**
 * As Cairn answers on a path whose production lives on a cluster of its own
 * and has a database of its own there, beside the bucket its environments
 * share on the management cluster.
 */
const twoClusters: ServiceStatus = {
  ...ready,
  deployments: [
    {
      ...ready.deployments![0],
      cluster: 'production',
      awaitingPromotion: false,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    },
    { ...ready.deployments![1], cluster: 'management' },
  ],
  infrastructure: [
    { ...ready.infrastructure![0], cluster: 'management' },
    {
      ...ready.infrastructure![1],
      resource: 'orders-service-production-db',
      cluster: 'production',
      environment: 'production',
    },
  ],
};

function headersOf(table: string) {
  return within(screen.getByRole('table', { name: table }))
    .getAllByRole('columnheader')
    .map(c => c.textContent);
}

function rowsOf(table: string) {
  return within(screen.getByRole('table', { name: table }))
    .getAllByRole('row')
    .slice(1)
    .map(r =>
      within(r)
        .getAllByRole('cell')
        .map(c => c.textContent),
    );
}

describe('StatusCard', () => {
  afterEach(() => jest.useRealTimers());

  it('shows the phase, each environment and each claim, and reads again while provisioning until ready', async () => {
    jest.useFakeTimers();
    const getServiceStatus = jest
      .fn()
      .mockResolvedValueOnce(provisioning)
      .mockResolvedValueOnce(ready);
    await renderCard(<StatusCard refreshIntervalMs={1000} />, {
      getServiceStatus,
    });

    expect(await screen.findByLabelText('Phase')).toHaveTextContent(
      'Provisioning',
    );
    expect(
      screen.getByText('Refreshing every 1 s while provisioning'),
    ).toBeInTheDocument();
    expect(rowsOf('Infrastructure')).toEqual([
      ['orders-service-bucket', 'BucketClaim', 'Creating'],
      ['orders-service-db', 'DatabaseClaim', 'Creating'],
    ]);

    await act(async () => {
      jest.advanceTimersByTime(1000);
    });
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
    expect(
      screen.getByText('Ready 1 min after it was requested'),
    ).toBeInTheDocument();
    expect(screen.queryByText(/Refreshing every/)).not.toBeInTheDocument();
    expect(headersOf('Environments')).toEqual([
      'Environment',
      'Sync',
      'Health',
      'Revision',
      'Last deploy',
    ]);
    expect(rowsOf('Environments')).toEqual([
      ['Production', 'OutOfSync', 'Awaiting promotion', 'release', 'Never'],
      [
        'Staging',
        'Synced',
        'Healthy',
        'main',
        new Intl.DateTimeFormat('en-US', {
          dateStyle: 'medium',
          timeStyle: 'short',
        }).format(new Date('2026-11-27T12:47:32Z')),
      ],
    ]);
    expect(headersOf('Infrastructure')).toEqual(['Resource', 'Kind', 'Ready']);
    expect(rowsOf('Infrastructure')).toEqual([
      ['orders-service-bucket', 'BucketClaim', 'Ready'],
      ['orders-service-db', 'DatabaseClaim', 'Ready'],
    ]);

    await act(async () => {
      jest.advanceTimersByTime(5000);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(2);
  });

  it('keeps the last status while Cairn is unavailable, backing off until it answers again', async () => {
    jest.useFakeTimers();
    const getServiceStatus = jest
      .fn()
      .mockResolvedValueOnce(provisioning)
      .mockRejectedValueOnce(unavailable())
      .mockRejectedValueOnce(unavailable())
      .mockResolvedValueOnce(ready);
    await renderCard(<StatusCard refreshIntervalMs={1000} />, {
      getServiceStatus,
    });
    expect(await screen.findByLabelText('Phase')).toHaveTextContent(
      'Provisioning',
    );

    // The refresh fails: the last status stays, under a warning.
    await act(async () => {
      jest.advanceTimersByTime(1000);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(2);
    expect(
      await screen.findByText('Warning: Cairn is unavailable'),
    ).toBeInTheDocument();
    expect(screen.getByText('the store cannot be reached')).toBeInTheDocument();
    expect(
      screen.getByText(/^Showing what Cairn answered at/),
    ).toBeInTheDocument();
    expect(screen.getByText(/^Trying again by itself at/)).toBeInTheDocument();
    expect(screen.getByLabelText('Phase')).toHaveTextContent('Provisioning');
    expect(rowsOf('Infrastructure')).toHaveLength(2);

    // Then 2 s, then 4 s.
    await act(async () => {
      jest.advanceTimersByTime(1999);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(2);
    await act(async () => {
      jest.advanceTimersByTime(1);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(3);
    await act(async () => {
      jest.advanceTimersByTime(3999);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(3);
    await act(async () => {
      jest.advanceTimersByTime(1);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(4);
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
    expect(screen.queryByText(/Cairn is unavailable/)).not.toBeInTheDocument();
  });

  it('waits for the retry button after a refusal', async () => {
    jest.useFakeTimers();
    const getServiceStatus = jest
      .fn()
      .mockRejectedValueOnce(
        new CairnError({
          message: 'user:default/jane may not read services of team-orders',
          status: 403,
          code: 7,
        }),
      )
      .mockResolvedValueOnce(ready);
    await renderCard(<StatusCard />, { getServiceStatus });
    expect(
      await screen.findByText(
        'Error: You are not allowed to read this from Cairn',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'user:default/jane may not read services of team-orders',
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByText(/Trying again by itself/),
    ).not.toBeInTheDocument();
    await act(async () => {
      jest.advanceTimersByTime(120_000);
    });
    expect(getServiceStatus).toHaveBeenCalledTimes(1);

    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
    expect(getServiceStatus).toHaveBeenCalledTimes(2);
  });

  it('links each environment to its Argo CD Application when Argo CD is set', async () => {
    await renderCard(
      <StatusCard argoCdBaseUrl="https://argocd.example.com/" />,
      { getServiceStatus: async () => ready },
    );
    const link = await screen.findByRole('link', {
      name: 'Open orders-service-staging in Argo CD',
    });
    expect(link).toHaveAttribute(
      'href',
      'https://argocd.example.com/applications/orders-service-staging',
    );
    expect(link).toHaveAttribute('target', '_blank');
    expect(rowsOf('Environments')[0][5]).toBe('orders-service-production');
  });

  it.each([
    ['unset', undefined],
    ['not http', 'data:text/html,<script>alert(1)</script>'],
  ])('has no Argo CD links when its address is %s', async (_, url) => {
    await renderCard(<StatusCard argoCdBaseUrl={url} />, {
      getServiceStatus: async () => ready,
    });
    await screen.findByLabelText('Phase');
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(
      within(screen.getByRole('table', { name: 'Environments' })).queryByText(
        'Argo CD',
      ),
    ).not.toBeInTheDocument();
  });

  it("shows a claim's reason and message while it is not ready", async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => ({
        ...ready,
        phase: 'degraded',
        infrastructure: [
          {
            resource: 'orders-service-db',
            kind: 'DatabaseClaim',
            ready: false,
            reason: 'Unavailable',
            message: 'instance is rebooting',
          },
        ],
      }),
    });
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Degraded');
    expect(rowsOf('Infrastructure')).toEqual([
      [
        'orders-service-db',
        'DatabaseClaim',
        'Unavailable: instance is rebooting',
      ],
    ]);
  });

  it('shows an environment awaiting its first promotion as pending, not Missing', async () => {
    await renderCard(<StatusCard />, { getServiceStatus: async () => ready });
    await screen.findByLabelText('Phase');
    const production = within(
      screen.getByRole('table', { name: 'Environments' }),
    ).getAllByRole('row')[1];
    const health = within(production).getAllByRole('cell')[2];
    expect(health).toHaveTextContent('Awaiting promotion');
    expect(within(health).getByTestId('status-pending')).toBeInTheDocument();
    expect(within(health).queryByTestId('status-warning')).toBeNull();
    expect(screen.queryByText('Missing')).not.toBeInTheDocument();
  });

  it('warns of an environment that is Missing once promoted', async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => ({
        ...ready,
        deployments: [
          { ...ready.deployments![0], awaitingPromotion: false },
          ready.deployments![1],
        ],
      }),
    });
    await screen.findByLabelText('Phase');
    const health = within(
      within(screen.getByRole('table', { name: 'Environments' })).getAllByRole(
        'row',
      )[1],
    ).getAllByRole('cell')[2];
    expect(health).toHaveTextContent('Missing');
    expect(within(health).getByTestId('status-warning')).toBeInTheDocument();
  });

  it("names each row's cluster where the service spans several", async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => twoClusters,
    });
    await screen.findByLabelText('Phase');
    expect(headersOf('Environments')).toEqual([
      'Environment',
      'Cluster',
      'Sync',
      'Health',
      'Revision',
      'Last deploy',
    ]);
    expect(rowsOf('Environments').map(r => r.slice(0, 4))).toEqual([
      ['Production', 'production', 'Synced', 'Healthy'],
      ['Staging', 'management', 'Synced', 'Healthy'],
    ]);
    expect(headersOf('Infrastructure')).toEqual([
      'Resource',
      'Kind',
      'Environment',
      'Cluster',
      'Ready',
    ]);
    expect(rowsOf('Infrastructure')).toEqual([
      ['orders-service-bucket', 'BucketClaim', 'Shared', 'management', 'Ready'],
      [
        'orders-service-production-db',
        'DatabaseClaim',
        'Production',
        'production',
        'Ready',
      ],
    ]);
  });

  it("says which claims are an environment's own on one cluster too", async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => ({
        ...ready,
        infrastructure: [
          ready.infrastructure![0],
          {
            ...ready.infrastructure![1],
            resource: 'orders-service-production-db',
            environment: 'production',
          },
        ],
      }),
    });
    await screen.findByLabelText('Phase');
    expect(headersOf('Infrastructure')).toEqual([
      'Resource',
      'Kind',
      'Environment',
      'Ready',
    ]);
    expect(rowsOf('Infrastructure')).toEqual([
      ['orders-service-bucket', 'BucketClaim', 'Shared', 'Ready'],
      ['orders-service-production-db', 'DatabaseClaim', 'Production', 'Ready'],
    ]);
    expect(headersOf('Environments')).not.toContain('Cluster');
  });

  it('marks each row of a cluster Cairn has lost its watch on', async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => ({
        ...twoClusters,
        stale: true,
        deployments: [
          { ...twoClusters.deployments![0], stale: true },
          twoClusters.deployments![1],
        ],
        infrastructure: [
          twoClusters.infrastructure![0],
          { ...twoClusters.infrastructure![1], stale: true },
        ],
      }),
    });
    expect(
      await screen.findByText(/Cairn has lost its watch on the cluster/),
    ).toBeInTheDocument();
    expect(rowsOf('Environments').map(r => r.slice(0, 2))).toEqual([
      ['Production stale', 'production'],
      ['Staging', 'management'],
    ]);
    expect(rowsOf('Infrastructure').map(r => r[0])).toEqual([
      'orders-service-bucket',
      'orders-service-production-db stale',
    ]);
    const marks = screen.getAllByText('stale');
    expect(marks).toHaveLength(2);
    for (const mark of marks) {
      expect(mark).toHaveAttribute(
        'title',
        "Cairn has lost its watch on this row's cluster: it may be out of date",
      );
    }
  });

  it('warns when Cairn has lost its watch on the cluster', async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => ({ ...ready, stale: true }),
    });
    expect(
      await screen.findByText(/Cairn has lost its watch on the cluster/),
    ).toBeInTheDocument();
  });

  it('shows an empty state for a service Cairn provisioned nothing for', async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => {
        throw new CairnError({
          message:
            'service "orders-service" has no infrastructure provisioned by Cairn',
          status: 404,
          code: 5,
          reason: 'PROVISIONING_NOT_FOUND',
        });
      },
    });
    expect(
      await screen.findByText('No infrastructure provisioned by Cairn'),
    ).toBeInTheDocument();
  });

  it('tells a person when the entity is not known to Cairn', async () => {
    await renderCard(<StatusCard />, {
      getServiceStatus: async () => {
        throw new CairnError({
          message: 'service "orders-service" not found',
          status: 404,
          code: 5,
          reason: 'SERVICE_NOT_FOUND',
        });
      },
    });
    expect(
      await screen.findByText(/This entity is not known to Cairn/),
    ).toBeInTheDocument();
  });
});
