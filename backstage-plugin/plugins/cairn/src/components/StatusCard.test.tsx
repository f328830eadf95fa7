import { CairnError, ServiceStatus } from '@cairn-dev/plugin-cairn-common';
import { act, fireEvent, screen, within } from '@testing-library/react';
import { renderCard } from '../__testUtils__/renderCard';
import { StatusCard } from './StatusCard';

// As Cairn answers while the claims are being created, then once ready.
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
    },
    {
      environment: 'staging',
      syncStatus: 'Unknown',
      healthStatus: 'Unknown',
      revision: '',
      application: 'orders-service-staging',
    },
  ],
  infrastructure: [
    {
      resource: 'orders-service-bucket',
      kind: 'BucketClaim',
      ready: false,
      reason: 'Creating',
      message: '',
    },
    {
      resource: 'orders-service-db',
      kind: 'DatabaseClaim',
      ready: false,
      reason: 'Creating',
      message: '',
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
      environment: 'staging',
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      revision: 'main',
      lastDeployTime: '2026-11-27T12:47:32Z',
      application: 'orders-service-staging',
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
    expect(rowsOf('Environments')).toEqual([
      ['Production', 'OutOfSync', 'Missing', 'release', 'Never'],
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
