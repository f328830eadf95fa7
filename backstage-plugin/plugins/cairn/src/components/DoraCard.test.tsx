import { CairnError, DoraMetrics } from '@cairn-dev/plugin-cairn-common';
import { screen, within } from '@testing-library/react';
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
});
