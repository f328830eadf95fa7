import { CairnError, ServiceCost } from '@cairn-dev/plugin-cairn-common';
import { screen, within } from '@testing-library/react';
import { renderCard } from '../__testUtils__/renderCard';
import { CostCard } from './CostCard';

// As Cairn answers for a service with a billed database and an estimated
// bucket.
const cost: ServiceCost = {
  serviceName: 'orders-service',
  totalMonthlyCost: 122.3,
  previousMonthlyCost: 100,
  currency: 'USD',
  month: '2026-11',
  lastUpdated: '2026-11-27T12:00:00Z',
  breakdown: [
    {
      resource: 'orders-service-db',
      type: 'database',
      monthlyCost: 120,
      trend: 'up',
      source: 'billed',
    },
    {
      resource: 'orders-service-bucket',
      type: 'storage',
      monthlyCost: 2.3,
      trend: 'stable',
      source: 'estimated',
    },
  ],
};

describe('CostCard', () => {
  it('shows the total, the change against last month, billed against estimated and each resource', async () => {
    const getServiceCost = jest.fn().mockResolvedValue(cost);
    await renderCard(<CostCard />, { getServiceCost });

    expect(await screen.findByLabelText('Total this month')).toHaveTextContent(
      '$122.30',
    );
    expect(
      screen.getByText('+22.3% against last month ($100.00)'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Billed $120.00 · Estimated $2.30'),
    ).toBeInTheDocument();
    const rows = within(
      screen.getByRole('table', { name: 'Cost by resource' }),
    ).getAllByRole('row');
    expect(rows.map(r => r.textContent)).toEqual([
      'ResourceTypeSourceThis monthTrend',
      'orders-service-dbdatabaseBilled$120.00Up',
      'orders-service-bucketstorageEstimated$2.30Stable',
    ]);
    expect(getServiceCost).toHaveBeenCalledWith('orders-service');
  });

  it('says so when there was no cost last month', async () => {
    await renderCard(<CostCard />, {
      getServiceCost: async () => ({ ...cost, previousMonthlyCost: 0 }),
    });
    expect(await screen.findByText('No cost last month')).toBeInTheDocument();
  });

  it('shows an empty state when there is nothing to bill or estimate', async () => {
    await renderCard(<CostCard />, {
      getServiceCost: async () => ({
        ...cost,
        totalMonthlyCost: 0,
        previousMonthlyCost: 0,
        breakdown: [],
      }),
    });
    expect(await screen.findByText('No cost for 2026-11')).toBeInTheDocument();
  });

  it('tells a person when the entity is not known to Cairn', async () => {
    await renderCard(<CostCard />, {
      getServiceCost: async () => {
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
    expect(
      screen.getByText(/Cairn has no service named "orders-service"/),
    ).toBeVisible();
  });

  it('shows other errors in an error panel', async () => {
    await renderCard(<CostCard />, {
      getServiceCost: async () => {
        throw new CairnError({
          message: 'the store cannot be reached',
          status: 503,
          code: 14,
        });
      },
    });
    expect(
      await screen.findByText(/Could not load the cost from Cairn/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/the store cannot be reached/).length,
    ).toBeGreaterThan(0);
  });
});
