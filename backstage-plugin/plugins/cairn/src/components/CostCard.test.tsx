import { CairnError, ServiceCost } from '@cairn-dev/plugin-cairn-common';
import { fireEvent, screen, within } from '@testing-library/react';
import { ordersEntity, renderCard } from '../__testUtils__/renderCard';
import { monthOf } from '../format';
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
    expect(getServiceCost).toHaveBeenCalledTimes(1);
    expect(getServiceCost).toHaveBeenCalledWith('orders-service', {
      month: monthOf(new Date()),
      signal: expect.any(AbortSignal),
    });
  });

  it("reads the month picked on the card, and shows that month's cost", async () => {
    const thisMonth = monthOf(new Date());
    const lastMonth = monthOf(new Date(), -1);
    const getServiceCost = jest.fn(
      async (_service: string, options?: { month?: string }) => ({
        ...cost,
        month: options?.month,
        totalMonthlyCost: options?.month === lastMonth ? 100 : 122.3,
      }),
    );
    await renderCard(<CostCard />, { getServiceCost });
    expect(await screen.findByLabelText('Total this month')).toHaveTextContent(
      '$122.30',
    );
    const picker = screen.getByRole('combobox', { name: 'Month' });
    expect(picker).toHaveValue(thisMonth);
    expect(within(picker).getAllByRole('option')).toHaveLength(12);

    fireEvent.change(picker, { target: { value: lastMonth } });
    expect(await screen.findByLabelText('Total this month')).toHaveTextContent(
      '$100.00',
    );
    expect(getServiceCost).toHaveBeenLastCalledWith('orders-service', {
      month: lastMonth,
      signal: expect.any(AbortSignal),
    });
  });

  it('opens on the month its settings name', async () => {
    const getServiceCost = jest.fn().mockResolvedValue(cost);
    await renderCard(<CostCard month="previous" />, { getServiceCost });
    await screen.findByLabelText('Total this month');
    expect(getServiceCost).toHaveBeenCalledWith('orders-service', {
      month: monthOf(new Date(), -1),
      signal: expect.any(AbortSignal),
    });

    getServiceCost.mockClear();
    await renderCard(<CostCard month="2025-03" />, { getServiceCost });
    await screen.findAllByLabelText('Total this month');
    expect(getServiceCost).toHaveBeenCalledWith('orders-service', {
      month: '2025-03',
      signal: expect.any(AbortSignal),
    });
  });

  it("writes numbers and dates in the browser's locale", async () => {
    jest.spyOn(navigator, 'languages', 'get').mockReturnValue(['de-DE']);
    try {
      await renderCard(<CostCard />, { getServiceCost: async () => cost });
      const total = await screen.findByLabelText('Total this month');
      expect(total.textContent?.replace(/\s/g, ' ')).toBe('122,30 $');
      expect(
        screen.getByText(/against last month/).textContent?.replace(/\s/g, ' '),
      ).toBe('+22,3 % against last month (100,00 $)');
      expect(screen.getByText(/updated/)).toHaveTextContent(
        /^November 2026, updated 27\.11\.2026/,
      );
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('asks for the cairn.dev/service annotation on an entity without it', async () => {
    const getServiceCost = jest.fn();
    await renderCard(
      <CostCard />,
      { getServiceCost },
      { ...ordersEntity, metadata: { name: 'orders' } },
    );
    expect(await screen.findByText('cairn.dev/service')).toBeInTheDocument();
    expect(getServiceCost).not.toHaveBeenCalled();
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
    expect(
      await screen.findByText('No cost for November 2026'),
    ).toBeInTheDocument();
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

  it.each([
    [
      'a 401 from the proxy',
      new Response(
        '{"error":{"name":"AuthenticationError","message":"Missing credentials"}}',
        { status: 401, statusText: 'Unauthorized' },
      ),
      'Backstage did not accept your sign-in',
      'HTTP 401 Unauthorized, not from Cairn: AuthenticationError: Missing credentials',
    ],
    [
      'a 403 from the proxy',
      new Response('Forbidden', { status: 403, statusText: 'Forbidden' }),
      'Backstage refused the request to Cairn',
      'HTTP 403 Forbidden, not from Cairn: Forbidden',
    ],
    [
      'a 502 from the proxy',
      new Response('<html>Bad Gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
      }),
      "Backstage's proxy in front of Cairn failed",
      'HTTP 502 Bad Gateway, not from Cairn: <html>Bad Gateway</html>',
    ],
    [
      'a 403 from Cairn',
      new Response(
        JSON.stringify({
          code: 7,
          message: 'user:default/jane is not a member of team-orders',
          details: [],
        }),
        { status: 403, statusText: 'Forbidden' },
      ),
      'You are not allowed to read this from Cairn',
      'user:default/jane is not a member of team-orders',
    ],
  ])('says who refused: %s', async (_, response, title, message) => {
    const error = await CairnError.fromResponse(response);
    await renderCard(<CostCard />, {
      getServiceCost: async () => {
        throw error;
      },
    });
    expect(await screen.findByText(`Error: ${title}`)).toBeInTheDocument();
    expect(screen.getByText(message)).toBeInTheDocument();
    expect(screen.queryByText(/could not be reached/i)).not.toBeInTheDocument();
  });

  it("shows Cairn's other errors in an error panel with its message", async () => {
    await renderCard(<CostCard />, {
      getServiceCost: async () => {
        throw new CairnError({
          message: 'cost for month 2026-13 is out of range',
          status: 400,
          code: 3,
        });
      },
    });
    expect(
      await screen.findByText('Error: Could not load the cost from Cairn'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('cost for month 2026-13 is out of range'),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeEnabled();
  });
});
