import {
  CairnError,
  DoraMetrics,
  ListDeploymentsResponse,
  ListIncidentsResponse,
} from '@cairn-dev/plugin-cairn-common';
import { fireEvent, screen, within } from '@testing-library/react';
import { renderCard } from '../__testUtils__/renderCard';
import { DoraCard } from './DoraCard';

// In the shape of Cairn's GET /v1/services/{name}/dora.
const dora: DoraMetrics = {
  window: '30d',
  deploymentFrequency: {
    value: 2,
    unit: 'deploys_per_day',
    band: 'elite',
    previousValue: 1.5,
    frequencyClass: 'daily',
    sampleCount: '60',
  },
  leadTimeForChanges: {
    value: 5400,
    unit: 'seconds',
    band: 'elite',
    previousValue: 7200,
    sampleCount: '60',
  },
  changeFailureRate: {
    value: 0.1,
    unit: 'ratio',
    band: 'elite',
    previousValue: 0.05,
    sampleCount: '60',
  },
  timeToRestore: {
    value: 0,
    unit: 'seconds',
    band: '',
    previousValue: 0,
    sampleCount: '0',
  },
};

const firstWindow: DoraMetrics = {
  ...dora,
  leadTimeForChanges: { ...dora.leadTimeForChanges, previousValue: 0 },
};

// Role queries over the card's tables are slow in jsdom on a busy machine.
jest.setTimeout(20_000);

const at = (time: string) =>
  new Intl.DateTimeFormat('en-US', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(time));

// The card's window as Cairn answers it, which the lists behind the figures read.
const windowed: DoraMetrics = {
  ...dora,
  windowStart: '2026-10-29T00:00:00Z',
  windowEnd: '2026-11-28T00:00:00Z',
  timeToRestore: {
    value: 3600,
    unit: 'seconds',
    band: 'elite',
    previousValue: 7200,
    sampleCount: '2',
  },
};

// In the shape of Cairn's GET /v1/services/{name}/deployments: two
// production deployments, one charged with an incident, and one to staging,
// which DORA does not count.
const deployments: ListDeploymentsResponse = {
  deployments: [
    {
      name: 'services/orders-service/deployments/9',
      service: 'orders-service',
      environment: 'production',
      revision: 'v1.5.0',
      status: 'succeeded',
      startedAt: '2026-11-27T11:50:00Z',
      finishedAt: '2026-11-27T12:00:00Z',
      production: true,
      commits: [
        { sha: 'c1', committedAt: '2026-11-27T11:00:00Z', leadTime: '3600s' },
        { sha: 'c2', committedAt: '2026-11-27T10:00:00Z', leadTime: '7200s' },
        { sha: 'c3', committedAt: '2026-11-27T06:00:00Z', leadTime: '21600s' },
      ],
      incidents: [
        {
          name: 'services/orders-service/incidents/INC-1042',
          id: 'INC-1042',
          openedAt: '2026-11-27T13:00:00Z',
          link: 'inferred',
        },
      ],
    },
    {
      name: 'services/orders-service/deployments/8',
      service: 'orders-service',
      environment: 'staging',
      revision: 'v1.5.0',
      status: 'succeeded',
      finishedAt: '2026-11-27T09:00:00Z',
      production: false,
      commits: [],
      incidents: [],
    },
    {
      name: 'services/orders-service/deployments/7',
      service: 'orders-service',
      environment: 'production',
      revision: 'v1.4.0',
      status: 'failed',
      finishedAt: '2026-11-26T12:00:00Z',
      production: true,
      // A failed deployment's commits have no lead time that counts.
      commits: [
        { sha: 'c0', committedAt: '2026-11-26T11:00:00Z', leadTime: '3600s' },
      ],
      incidents: [],
    },
  ],
  nextPageToken: 'deployments-2',
};

// In the shape of Cairn's GET /v1/services/{name}/incidents.
const incidents: ListIncidentsResponse = {
  incidents: [
    {
      name: 'services/orders-service/incidents/INC-1043',
      service: 'orders-service',
      id: 'INC-1043',
      openedAt: '2026-11-27T15:00:00Z',
      link: '',
    },
    {
      name: 'services/orders-service/incidents/INC-1042',
      service: 'orders-service',
      id: 'INC-1042',
      openedAt: '2026-11-27T13:00:00Z',
      resolvedAt: '2026-11-27T14:30:00Z',
      link: 'inferred',
      deployment: {
        name: 'services/orders-service/deployments/9',
        revision: 'v1.5.0',
        environment: 'production',
        finishedAt: '2026-11-27T12:00:00Z',
      },
    },
    {
      name: 'services/orders-service/incidents/INC-1001',
      service: 'orders-service',
      id: 'INC-1001',
      openedAt: '2026-11-20T08:00:00Z',
      resolvedAt: '2026-11-20T08:30:00Z',
      causeRevision: 'v1.3.0',
      link: 'named',
      deployment: {
        name: 'services/orders-service/deployments/5',
        revision: 'v1.3.0',
        environment: 'production',
        finishedAt: '2026-11-19T12:00:00Z',
      },
    },
  ],
  nextPageToken: '',
};

function rowsOf(table: HTMLElement) {
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map(r =>
      within(r)
        .getAllByRole('cell')
        .map(c => c.textContent),
    );
}

// The list a figure opened, inside the card.
const listRegion = () => screen.getByRole('region', { name: / behind / });

describe('DoraCard', () => {
  it('shows the four metrics with their bands and trends', async () => {
    const getServiceDora = jest.fn().mockResolvedValue(dora);
    await renderCard(<DoraCard window="30d" />, { getServiceDora });

    const table = await screen.findByRole('table', { name: 'DORA metrics' });
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map(r =>
        within(r)
          .getAllByRole('cell')
          .map(c => c.textContent),
      );
    expect(rows).toEqual([
      [
        'Deployment frequency',
        '2.0 per day (daily)',
        'Elite',
        '▲ from 1.5 per day',
      ],
      ['Lead time for changes', '1 hr 30 min', 'Elite', '▼ from 2 hr'],
      ['Change failure rate', '10.0%', 'Elite', '▲ from 5.0%'],
      ['Time to restore', 'Nothing to measure', '', ''],
    ]);
    expect(screen.getByText('Last 30 days')).toBeInTheDocument();
    expect(getServiceDora).toHaveBeenCalledWith('orders-service', {
      window: '30d',
      signal: expect.any(AbortSignal),
    });
  });

  it('shows the cost regression rate beside the metrics, or why there is none', async () => {
    const rateCell = async () => {
      const row = (
        await screen.findByRole('cell', { name: 'Cost regression rate' })
      ).closest('tr')!;
      return within(row).getAllByRole('cell')[1].textContent;
    };
    const { unmount } = await renderCard(<DoraCard />, {
      getServiceDora: async () => ({
        ...dora,
        costRegressionRate: {
          value: 0.5,
          changeCount: '4',
          judgedCount: '2',
          regressionCount: '1',
        },
      }),
    });
    expect(await rateCell()).toBe('50.0% (1 of 2 judged changes)');
    unmount();

    const waiting = await renderCard(<DoraCard />, {
      getServiceDora: async () => ({
        ...dora,
        costRegressionRate: {
          value: 0,
          changeCount: '3',
          judgedCount: '0',
          regressionCount: '0',
          unavailableReason: 'NO_VERDICTS',
        },
      }),
    });
    expect(await rateCell()).toBe(
      'No verdict yet: a change is judged once its days after have passed and are billed',
    );
    waiting.unmount();

    // A Cairn that does not compute it sends none: no row.
    await renderCard(<DoraCard />, { getServiceDora: async () => dora });
    await screen.findByRole('table', { name: 'DORA metrics' });
    expect(
      screen.queryByRole('cell', { name: 'Cost regression rate' }),
    ).not.toBeInTheDocument();
  });

  it("asks for the window it is set to, and writes numbers in the browser's locale", async () => {
    jest.spyOn(navigator, 'languages', 'get').mockReturnValue(['de-DE']);
    try {
      const getServiceDora = jest
        .fn()
        .mockResolvedValue({ ...dora, window: '90d' });
      await renderCard(<DoraCard window="90d" />, { getServiceDora });
      const table = await screen.findByRole('table', { name: 'DORA metrics' });
      expect(getServiceDora).toHaveBeenCalledWith('orders-service', {
        window: '90d',
        signal: expect.any(AbortSignal),
      });
      expect(screen.getByText('Last 90 days')).toBeInTheDocument();
      const values = within(table)
        .getAllByRole('row')
        .slice(1, 4)
        .map(r => within(r).getAllByRole('cell')[1].textContent);
      expect(values.map(v => v?.replace(/\s/g, ' '))).toEqual([
        '2,0 per day (daily)',
        '1 Std. 30 Min.',
        '10,0 %',
      ]);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('writes less than a deployment a day per week', async () => {
    await renderCard(<DoraCard />, {
      getServiceDora: async () => ({
        ...dora,
        deploymentFrequency: {
          ...dora.deploymentFrequency,
          value: 0.5,
          previousValue: 0.5,
          frequencyClass: 'weekly',
        },
      }),
    });
    const table = await screen.findByRole('table', { name: 'DORA metrics' });
    expect(within(table).getAllByRole('row')[1]).toHaveTextContent(
      'Deployment frequency3.5 per week (weekly)EliteUnchanged',
    );
  });

  it('compares a median duration only with an earlier one', async () => {
    await renderCard(<DoraCard />, { getServiceDora: async () => firstWindow });
    const table = await screen.findByRole('table', { name: 'DORA metrics' });
    expect(within(table).getAllByRole('row')[2]).toHaveTextContent(
      'Nothing to compare with',
    );
  });

  it('shows an empty state when nothing was deployed in the window', async () => {
    const none = {
      value: 0,
      unit: 'seconds',
      band: '',
      previousValue: 0,
      sampleCount: '0',
    };
    await renderCard(<DoraCard />, {
      getServiceDora: async () => ({
        window: '30d',
        deploymentFrequency: { ...none, unit: 'deploys_per_day' },
        leadTimeForChanges: none,
        changeFailureRate: { ...none, unit: 'ratio' },
        timeToRestore: none,
      }),
    });
    expect(
      await screen.findByText('No deployments to measure'),
    ).toBeInTheDocument();
  });

  it("shows Cairn's word when it cannot serve the metrics", async () => {
    await renderCard(<DoraCard />, {
      getServiceDora: async () => {
        throw new CairnError({
          message:
            "cairn.v1.MetricsService/GetServiceDora is part of Cairn's API but this server does not implement it yet",
          status: 501,
          code: 12,
          reason: 'METHOD_NOT_BUILT',
        });
      },
    });
    expect(
      await screen.findByText(/Could not load DORA metrics from Cairn/),
    ).toBeInTheDocument();
  });

  it('tells a person when the entity is not known to Cairn', async () => {
    await renderCard(<DoraCard />, {
      getServiceDora: async () => {
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

  describe('the lists behind the figures', () => {
    it('opens the production deployments of the window behind deployment frequency, and closes them', async () => {
      const listDeployments = jest.fn().mockResolvedValue(deployments);
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments,
      });
      const figure = await screen.findByRole('button', {
        name: 'Deployment frequency: 2.0 per day, show what it is counted from',
      });
      expect(figure).toHaveAttribute('aria-expanded', 'false');
      expect(listDeployments).not.toHaveBeenCalled();

      fireEvent.click(figure);
      expect(figure).toHaveAttribute('aria-expanded', 'true');
      const region = screen.getByRole('region', {
        name: 'Production deployments behind Deployment frequency',
      });
      expect(figure).toHaveAttribute('aria-controls', region.id);
      const table = await within(region).findByRole('table', {
        name: 'Production deployments behind Deployment frequency',
      });
      expect(listDeployments).toHaveBeenCalledWith('orders-service', {
        finishedAfter: '2026-10-29T00:00:00Z',
        finishedBefore: '2026-11-28T00:00:00Z',
        pageSize: 20,
        signal: expect.any(AbortSignal),
      });
      expect(
        within(table)
          .getAllByRole('columnheader')
          .map(c => c.textContent),
      ).toEqual(['Revision', 'Status', 'Finished', 'Lead time', 'Incidents']);
      // The staging deployment is not counted, so not listed.
      expect(rowsOf(table)).toEqual([
        [
          'v1.5.0',
          'Succeeded',
          at('2026-11-27T12:00:00Z'),
          '2 hr (median of 3 commits)',
          'INC-1042',
        ],
        ['v1.4.0', 'Failed', at('2026-11-26T12:00:00Z'), '—', 'None'],
      ]);
      expect(
        within(region).getByText(
          'At most the newest 20 of the window; cairn deployment list orders-service lists every one.',
        ),
      ).toBeInTheDocument();
      expect(within(region).queryByText('Change failure')).toBeNull();

      fireEvent.click(figure);
      expect(figure).toHaveAttribute('aria-expanded', 'false');
      expect(screen.queryByRole('region', { name: / behind / })).toBeNull();
    });

    it('opens the same deployments behind lead time for changes', async () => {
      const listDeployments = jest.fn().mockResolvedValue({
        ...deployments,
        deployments: [
          ...deployments.deployments!,
          {
            name: 'services/orders-service/deployments/6',
            environment: 'production',
            revision: 'v1.3.0',
            status: 'succeeded',
            finishedAt: '2026-11-25T12:00:00Z',
            production: true,
            commits: [
              {
                sha: 'b1',
                committedAt: '2026-11-25T11:15:00Z',
                leadTime: '2700s',
              },
            ],
          },
        ],
      });
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments,
      });
      fireEvent.click(
        await screen.findByRole('button', {
          name: 'Lead time for changes: 1 hr 30 min, show what it is counted from',
        }),
      );
      const table = await screen.findByRole('table', {
        name: 'Production deployments behind Lead time for changes',
      });
      expect(rowsOf(table).map(r => [r[0], r[3]])).toEqual([
        ['v1.5.0', '2 hr (median of 3 commits)'],
        ['v1.4.0', '—'],
        ['v1.3.0', '45 min'],
      ]);
      expect(listDeployments).toHaveBeenCalledTimes(1);
    });

    it('marks the deployments charged with an incident behind the change failure rate', async () => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments: async () => deployments,
      });
      fireEvent.click(
        await screen.findByRole('button', {
          name: 'Change failure rate: 10.0%, show what it is counted from',
        }),
      );
      const table = await screen.findByRole('table', {
        name: 'Production deployments behind Change failure rate',
      });
      expect(rowsOf(table).map(r => [r[0], r[4]])).toEqual([
        ['v1.5.0', 'INC-1042Change failure'],
        ['v1.4.0', 'None'],
      ]);
    });

    it('opens the incidents of the window behind time to restore, each with the deployment it is charged to and how', async () => {
      const listIncidents = jest.fn().mockResolvedValue(incidents);
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listIncidents,
      });
      const figure = await screen.findByRole('button', {
        name: 'Time to restore: 1 hr, show what it is counted from',
      });
      fireEvent.click(figure);
      const region = screen.getByRole('region', {
        name: 'Incidents behind Time to restore',
      });
      const table = await within(region).findByRole('table', {
        name: 'Incidents behind Time to restore',
      });
      expect(listIncidents).toHaveBeenCalledWith('orders-service', {
        openedAfter: '2026-10-29T00:00:00Z',
        openedBefore: '2026-11-28T00:00:00Z',
        pageSize: 20,
        signal: expect.any(AbortSignal),
      });
      expect(
        within(table)
          .getAllByRole('columnheader')
          .map(c => c.textContent),
      ).toEqual([
        'Incident',
        'Opened',
        'Resolved',
        'Time to restore',
        'Charged to',
      ]);
      expect(rowsOf(table)).toEqual([
        ['INC-1043', at('2026-11-27T15:00:00Z'), 'Open', '—', 'None'],
        [
          'INC-1042',
          at('2026-11-27T13:00:00Z'),
          at('2026-11-27T14:30:00Z'),
          '1 hr 30 min',
          'v1.5.0 (inferred)',
        ],
        [
          'INC-1001',
          at('2026-11-20T08:00:00Z'),
          at('2026-11-20T08:30:00Z'),
          '30 min',
          'v1.3.0 (named)',
        ],
      ]);
      expect(
        within(region).getByText(
          'At most the newest 20 of the window; cairn incident list orders-service lists every one.',
        ),
      ).toBeInTheDocument();
    });

    it('says when a corrected charge was made by a person', async () => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listIncidents: async () => ({
          incidents: [
            {
              ...incidents.incidents![2],
              link: 'corrected',
            },
          ],
        }),
      });
      fireEvent.click(
        await screen.findByRole('button', { name: /^Time to restore: / }),
      );
      const table = await screen.findByRole('table', {
        name: 'Incidents behind Time to restore',
      });
      expect(rowsOf(table)[0][4]).toBe('v1.3.0 (corrected)');
    });

    it('opens one list at a time', async () => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments: async () => deployments,
        listIncidents: async () => incidents,
      });
      const frequency = await screen.findByRole('button', {
        name: /^Deployment frequency: /,
      });
      const restore = screen.getByRole('button', {
        name: /^Time to restore: /,
      });
      fireEvent.click(frequency);
      fireEvent.click(restore);
      expect(frequency).toHaveAttribute('aria-expanded', 'false');
      expect(restore).toHaveAttribute('aria-expanded', 'true');
      expect(
        screen.getAllByRole('region', { name: / behind / }).map(r => r.id),
      ).toEqual([restore.getAttribute('aria-controls')]);
    });

    it('shows a figure with nothing to measure without a list', async () => {
      await renderCard(<DoraCard />, { getServiceDora: async () => dora });
      await screen.findByRole('table', { name: 'DORA metrics' });
      expect(
        screen.queryByRole('button', { name: /^Time to restore/ }),
      ).toBeNull();
      expect(
        screen.getAllByRole('button', { name: /show what it is counted from/ }),
      ).toHaveLength(3);
    });

    it('shows progress while a list loads', async () => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments: () => new Promise(() => {}),
      });
      fireEvent.click(
        await screen.findByRole('button', { name: /^Deployment frequency: / }),
      );
      const region = screen.getByRole('region', {
        name: 'Production deployments behind Deployment frequency',
      });
      expect(within(region).getByTestId('progress')).toBeInTheDocument();
      expect(within(region).queryByRole('table')).toBeNull();
    });

    it.each([
      [
        'deployments',
        /^Deployment frequency: /,
        { listDeployments: async () => ({ deployments: [] }) },
      ],
      [
        'production deployments',
        /^Change failure rate: /,
        {
          listDeployments: async () => ({
            deployments: [deployments.deployments![1]],
          }),
        },
      ],
      [
        'incidents',
        /^Time to restore: /,
        { listIncidents: async () => ({ incidents: [] }) },
      ],
      [
        'incidents, in an answer without its list',
        /^Time to restore: /,
        { listIncidents: async () => ({}) },
      ],
    ])('says none when the window has no %s', async (_, name, api) => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        ...api,
      });
      fireEvent.click(await screen.findByRole('button', { name }));
      const region = listRegion();
      expect(
        await within(region).findByText('None in this window'),
      ).toBeInTheDocument();
      expect(within(region).queryByRole('table')).toBeNull();
    });

    it.each([
      [
        'deployments',
        /^Lead time for changes: /,
        'listDeployments',
        'Could not load the deployments from Cairn',
      ],
      [
        'incidents',
        /^Time to restore: /,
        'listIncidents',
        'Could not load the incidents from Cairn',
      ],
    ] as const)(
      "shows Cairn's error when it cannot list the %s, in the card's error style",
      async (_, name, method, title) => {
        await renderCard(<DoraCard />, {
          getServiceDora: async () => windowed,
          [method]: async () => {
            throw new CairnError({
              message: 'invalid page token',
              status: 400,
              code: 3,
            });
          },
        });
        fireEvent.click(await screen.findByRole('button', { name }));
        const region = listRegion();
        expect(
          await within(region).findByText(title, { exact: false }),
        ).toBeInTheDocument();
        expect(
          within(region).getByText('invalid page token'),
        ).toBeInTheDocument();
        expect(
          within(region).getByRole('button', { name: 'Retry' }),
        ).toBeInTheDocument();
        expect(within(region).queryByRole('table')).toBeNull();
        // The figures stay.
        expect(
          screen.getByRole('table', { name: 'DORA metrics' }),
        ).toBeInTheDocument();
      },
    );

    it("tells a refusal of the signed-in user's token from other errors", async () => {
      await renderCard(<DoraCard />, {
        getServiceDora: async () => windowed,
        listDeployments: async () => {
          throw new CairnError({
            message: 'team-orders only',
            status: 403,
            code: 7,
          });
        },
      });
      fireEvent.click(
        await screen.findByRole('button', { name: /^Deployment frequency: / }),
      );
      expect(
        await within(listRegion()).findByText(
          /You are not allowed to read this from Cairn/,
        ),
      ).toBeInTheDocument();
    });
  });
});
