import {
  CairnError,
  ListPromotionsResponse,
  Promotion,
} from '@cairn-dev/plugin-cairn-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ordersEntity, renderCard } from '../__testUtils__/renderCard';
import { PromotionsCard } from './PromotionsCard';

// Role queries over the card's two tables are slow in jsdom, and slower on a
// busy machine: more room than jest's 5 s.
jest.setTimeout(20_000);

const at = (time: string) =>
  new Intl.DateTimeFormat('en-US', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(time));

// As Cairn answers Jane, an approver of team-orders: Lee's two pending
// requests, the second a rollback, which Jane may decide, and two decided
// promotions, newest first, with every field as the gateway emits it.
const pendingV14: Promotion = {
  name: 'services/orders-service/promotions/4',
  revision: 'v1.4.0',
  environment: 'production',
  state: 'pending',
  requester: 'user:default/lee',
  decider: '',
  reason: '',
  createTime: '2026-11-27T12:00:00Z',
  decideTime: undefined,
  rollback: false,
  callerCanDecide: true,
};
const pendingRollback: Promotion = {
  ...pendingV14,
  name: 'services/orders-service/promotions/3',
  revision: 'v1.2.0',
  createTime: '2026-11-27T11:00:00Z',
  rollback: true,
};
const approvedV13: Promotion = {
  ...pendingV14,
  name: 'services/orders-service/promotions/2',
  revision: 'v1.3.0',
  state: 'approved',
  decider: 'user:default/jane',
  reason: 'release notes reviewed',
  createTime: '2026-11-26T09:00:00Z',
  decideTime: '2026-11-26T10:00:00Z',
  callerCanDecide: false,
};
const deniedV12: Promotion = {
  ...pendingV14,
  name: 'services/orders-service/promotions/1',
  revision: 'v1.2.0',
  environment: 'staging',
  state: 'denied',
  decider: 'user:default/kim',
  reason: '',
  createTime: '2026-11-25T09:00:00Z',
  decideTime: '2026-11-25T09:30:00Z',
  callerCanDecide: false,
};
const page: ListPromotionsResponse = {
  promotions: [pendingV14, pendingRollback, approvedV13, deniedV12],
  nextPageToken: '',
};

/** The rows of a table as a person reads them, cell by cell, without its header. */
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

/** The row of the pending table that shows a revision. */
function pendingRow(revision: string) {
  const row = within(screen.getByRole('table', { name: 'Awaiting a decision' }))
    .getAllByRole('row')
    .find(r => within(r).queryAllByRole('cell')[0]?.textContent === revision);
  if (!row) {
    throw new Error(`no pending row of ${revision}`);
  }
  return within(row);
}

describe('PromotionsCard', () => {
  it('shows what awaits a decision, with its evidence, and the decided promotions below', async () => {
    const listPromotions = jest.fn().mockResolvedValue(page);
    await renderCard(<PromotionsCard />, { listPromotions });

    await screen.findByRole('table', { name: 'Awaiting a decision' });
    expect(rowsOf('Awaiting a decision')).toEqual([
      [
        'v1.4.0',
        'Production',
        'user:default/lee',
        at('2026-11-27T12:00:00Z'),
        'Reason (optional)Reason (optional)ApproveDeny',
      ],
      [
        'v1.2.0 Rollback',
        'Production',
        'user:default/lee',
        at('2026-11-27T11:00:00Z'),
        'Reason (optional)Reason (optional)ApproveDeny',
      ],
    ]);
    expect(
      screen.getByTitle(
        'The environment ran this revision before: the promotion rolls it back',
      ),
    ).toHaveTextContent('Rollback');
    expect(rowsOf('Decided')).toEqual([
      [
        'Approved',
        'v1.3.0',
        'Production',
        'user:default/lee',
        'user:default/jane',
        'release notes reviewed',
        at('2026-11-26T10:00:00Z'),
      ],
      [
        'Denied',
        'v1.2.0',
        'Staging',
        'user:default/lee',
        'user:default/kim',
        '—',
        at('2026-11-25T09:30:00Z'),
      ],
    ]);
    expect(listPromotions).toHaveBeenCalledTimes(1);
    expect(listPromotions).toHaveBeenCalledWith('orders-service', {
      pageSize: 20,
      signal: expect.any(AbortSignal),
    });
    expect(
      screen.queryByRole('button', { name: 'Show older promotions' }),
    ).not.toBeInTheDocument();
  });

  it('enables Approve and Deny only where Cairn says the user may decide', async () => {
    await renderCard(<PromotionsCard />, {
      listPromotions: async () => ({
        promotions: [
          pendingV14,
          { ...pendingRollback, callerCanDecide: false },
        ],
        nextPageToken: '',
      }),
    });
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const mayDecide = pendingRow('v1.4.0');
    expect(mayDecide.getByRole('button', { name: 'Approve' })).toBeEnabled();
    expect(mayDecide.getByRole('button', { name: 'Deny' })).toBeEnabled();
    expect(
      mayDecide.getByRole('textbox', { name: 'Reason (optional)' }),
    ).toBeEnabled();

    // Jane did not request it: she is not an approver of the team here.
    const mayNot = pendingRow('v1.2.0 Rollback');
    for (const name of ['Approve', 'Deny']) {
      const button = mayNot.getByRole('button', { name });
      expect(button).toBeDisabled();
      expect(button).toHaveAccessibleDescription(
        "Only an approver of the service's team other than the requester decides this promotion.",
      );
    }
    expect(mayNot.queryByRole('textbox')).not.toBeInTheDocument();
  });

  it('tells the requester that someone else decides their request', async () => {
    await renderCard(
      <PromotionsCard />,
      {
        listPromotions: async () => ({
          promotions: [{ ...pendingV14, callerCanDecide: false }],
          nextPageToken: '',
        }),
      },
      ordersEntity,
      // Cairn compares names canonically; so does the card.
      'user:default/Lee',
    );
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const row = pendingRow('v1.4.0');
    expect(row.getByRole('button', { name: 'Approve' })).toBeDisabled();
    expect(
      row.getByRole('button', { name: 'Deny' }),
    ).toHaveAccessibleDescription(
      'You requested this promotion: an approver of the team other than you decides it.',
    );
  });

  it('approves with the reason given, shows who approved it in its row, and reads again', async () => {
    const approved: Promotion = {
      ...pendingV14,
      state: 'approved',
      decider: 'user:default/jane',
      reason: 'release notes reviewed',
      decideTime: '2026-11-27T12:30:00Z',
      callerCanDecide: false,
    };
    const listPromotions = jest
      .fn()
      .mockResolvedValueOnce(page)
      .mockResolvedValue({
        ...page,
        promotions: [approved, ...page.promotions!.slice(1)],
      });
    const approvePromotion = jest.fn().mockResolvedValue(approved);
    await renderCard(<PromotionsCard />, { listPromotions, approvePromotion });
    await screen.findByRole('table', { name: 'Awaiting a decision' });

    const row = pendingRow('v1.4.0');
    fireEvent.change(row.getByRole('textbox', { name: 'Reason (optional)' }), {
      target: { value: '  release notes reviewed ' },
    });
    fireEvent.click(row.getByRole('button', { name: 'Approve' }));

    expect(
      await row.findByText('Approved by user:default/jane'),
    ).toBeInTheDocument();
    expect(approvePromotion).toHaveBeenCalledTimes(1);
    expect(approvePromotion).toHaveBeenCalledWith(
      'services/orders-service/promotions/4',
      { reason: 'release notes reviewed' },
    );
    await waitFor(() => expect(listPromotions).toHaveBeenCalledTimes(2));
    // The row keeps its result after the read, and stays out of the history.
    expect(row.getByText('release notes reviewed')).toBeInTheDocument();
    expect(row.queryByRole('button')).not.toBeInTheDocument();
    expect(rowsOf('Awaiting a decision').map(r => r[0])).toEqual([
      'v1.4.0',
      'v1.2.0 Rollback',
    ]);
    expect(rowsOf('Decided').map(r => r[1])).toEqual(['v1.3.0', 'v1.2.0']);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('denies with the reason given', async () => {
    const denied: Promotion = {
      ...pendingRollback,
      state: 'denied',
      decider: 'user:default/jane',
      reason: 'v1.2.0 lost orders',
      decideTime: '2026-11-27T12:30:00Z',
      callerCanDecide: false,
    };
    const denyPromotion = jest.fn().mockResolvedValue(denied);
    const approvePromotion = jest.fn();
    await renderCard(<PromotionsCard />, {
      listPromotions: async () => page,
      approvePromotion,
      denyPromotion,
    });
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const row = pendingRow('v1.2.0 Rollback');
    fireEvent.change(row.getByRole('textbox', { name: 'Reason (optional)' }), {
      target: { value: 'v1.2.0 lost orders' },
    });
    fireEvent.click(row.getByRole('button', { name: 'Deny' }));

    expect(
      await row.findByText('Denied by user:default/jane'),
    ).toBeInTheDocument();
    expect(row.getByText('v1.2.0 lost orders')).toBeInTheDocument();
    expect(denyPromotion).toHaveBeenCalledWith(
      'services/orders-service/promotions/3',
      { reason: 'v1.2.0 lost orders' },
    );
    expect(approvePromotion).not.toHaveBeenCalled();
    // The other pending promotion is untouched.
    expect(
      pendingRow('v1.4.0').getByRole('button', { name: 'Approve' }),
    ).toBeEnabled();
  });

  it("shows Cairn's refusal, its message and reason, and changes nothing else", async () => {
    const listPromotions = jest.fn().mockResolvedValue(page);
    const refusal = await CairnError.fromResponse(
      new Response(
        JSON.stringify({
          code: 7,
          message: 'a promotion is decided by someone other than its requester',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'OWN_REQUEST',
              domain: 'cairn.dev',
            },
          ],
        }),
        { status: 403, statusText: 'Forbidden' },
      ),
    );
    const approvePromotion = jest.fn().mockRejectedValue(refusal);
    await renderCard(<PromotionsCard />, { listPromotions, approvePromotion });
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const before = {
      pending: rowsOf('Awaiting a decision'),
      decided: rowsOf('Decided'),
    };

    const row = pendingRow('v1.4.0');
    fireEvent.click(row.getByRole('button', { name: 'Approve' }));
    const alert = await row.findByRole('alert');
    expect(alert).toHaveTextContent(
      'Cairn refused the decision: a promotion is decided by someone other than its requester',
    );
    expect(alert).toHaveTextContent("Cairn's reason: OWN_REQUEST");
    await waitFor(() => expect(listPromotions).toHaveBeenCalledTimes(2));
    expect(approvePromotion).toHaveBeenCalledWith(
      'services/orders-service/promotions/4',
      { reason: '' },
    );
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    expect(row.getByRole('button', { name: 'Approve' })).toBeEnabled();
    expect(rowsOf('Decided')).toEqual(before.decided);
    expect(
      rowsOf('Awaiting a decision').map(cells => cells.slice(0, 4)),
    ).toEqual(before.pending.map(cells => cells.slice(0, 4)));

    // The next attempt starts afresh.
    approvePromotion.mockResolvedValueOnce({
      ...pendingV14,
      state: 'approved',
      decider: 'user:default/jane',
    });
    fireEvent.click(row.getByRole('button', { name: 'Approve' }));
    expect(
      await row.findByText('Approved by user:default/jane'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('keeps a refusal beside the promotion when someone else decided it first, and shows what they decided', async () => {
    const decidedByKim: Promotion = {
      ...pendingV14,
      state: 'denied',
      decider: 'user:default/kim',
      reason: 'not this week',
      callerCanDecide: false,
    };
    const listPromotions = jest
      .fn()
      .mockResolvedValueOnce(page)
      .mockResolvedValue({
        ...page,
        promotions: [decidedByKim, ...page.promotions!.slice(1)],
      });
    await renderCard(<PromotionsCard />, {
      listPromotions,
      approvePromotion: jest.fn().mockRejectedValue(
        new CairnError({
          message:
            'promotion services/orders-service/promotions/4 is pending already',
          status: 400,
          code: 9,
          reason: 'PROMOTION_DECIDED',
        }),
      ),
    });
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const row = pendingRow('v1.4.0');
    fireEvent.click(row.getByRole('button', { name: 'Approve' }));
    expect(
      await row.findByText('Denied by user:default/kim'),
    ).toBeInTheDocument();
    expect(row.getByRole('alert')).toHaveTextContent(
      "Cairn's reason: PROMOTION_DECIDED",
    );
    expect(row.queryByRole('button')).not.toBeInTheDocument();
  });

  it('says the proxy may take only reads when it answers a decision itself', async () => {
    const notFound = await CairnError.fromResponse(
      new Response(
        JSON.stringify({
          error: { name: 'NotFoundError', message: 'Not Found' },
        }),
        { status: 404, statusText: 'Not Found' },
      ),
    );
    await renderCard(<PromotionsCard />, {
      listPromotions: async () => page,
      denyPromotion: jest.fn().mockRejectedValue(notFound),
    });
    await screen.findByRole('table', { name: 'Awaiting a decision' });
    const row = pendingRow('v1.4.0');
    fireEvent.click(row.getByRole('button', { name: 'Deny' }));
    const alert = await row.findByRole('alert');
    expect(alert).toHaveTextContent(
      'Backstage has no proxy to Cairn: HTTP 404 Not Found, not from Cairn: NotFoundError: Not Found',
    );
    expect(alert).toHaveTextContent(
      "its /cairn endpoint needs allowedMethods: ['GET', 'POST']",
    );
  });

  // Counted by element, as role queries over hundreds of rows are slow.
  const decidedCount = () =>
    screen.getByRole('table', { name: 'Decided' }).querySelectorAll('tbody tr')
      .length;

  it('reads older promotions on request, up to 200', async () => {
    const many = (count: number): ListPromotionsResponse => ({
      promotions: Array.from({ length: count }, (_, i) => ({
        ...approvedV13,
        name: `services/orders-service/promotions/${300 - i}`,
        revision: `v0.${300 - i}.0`,
      })),
      nextPageToken: 'more',
    });
    const listPromotions = jest.fn(
      async (_service: string, options?: { pageSize?: number }) =>
        many(options?.pageSize ?? 50),
    );
    // Rendering hundreds of rows takes a while on a small machine.
    const slowly = { timeout: 10_000 };
    await renderCard(<PromotionsCard pageSize={80} />, { listPromotions });
    await screen.findByRole('table', { name: 'Decided' }, slowly);
    expect(decidedCount()).toBe(80);
    expect(screen.getByText('No promotion awaits a decision.')).toBeVisible();

    fireEvent.click(
      screen.getByRole('button', { name: 'Show older promotions' }),
    );
    await waitFor(() => expect(decidedCount()).toBe(160), slowly);
    fireEvent.click(
      await screen.findByRole(
        'button',
        { name: 'Show older promotions' },
        slowly,
      ),
    );
    await waitFor(() => expect(decidedCount()).toBe(200), slowly);
    expect(listPromotions.mock.calls.map(c => c[1]?.pageSize)).toEqual([
      80, 160, 200,
    ]);
    expect(
      screen.queryByRole('button', { name: 'Show older promotions' }),
    ).not.toBeInTheDocument();
    expect(
      screen.getByText(
        'Showing the newest 200 promotions; `cairn promotion list orders-service` lists every one.',
      ),
    ).toBeInTheDocument();
  }, 60_000);

  it('shows an empty state for a service with no promotions', async () => {
    await renderCard(<PromotionsCard />, {
      listPromotions: async () => ({ promotions: [], nextPageToken: '' }),
    });
    expect(await screen.findByText('No promotions yet')).toBeInTheDocument();
  });

  it('asks for the cairn.dev/service annotation on an entity without it', async () => {
    const listPromotions = jest.fn();
    await renderCard(
      <PromotionsCard />,
      { listPromotions },
      { ...ordersEntity, metadata: { name: 'orders' } },
    );
    expect(await screen.findByText('cairn.dev/service')).toBeInTheDocument();
    expect(listPromotions).not.toHaveBeenCalled();
  });

  it('says who refused a read of the promotions', async () => {
    await renderCard(<PromotionsCard />, {
      listPromotions: async () => {
        throw new CairnError({
          message: 'user:default/sam is not a member of team-orders',
          status: 403,
          code: 7,
          reason: 'PERMISSION_DENIED',
        });
      },
    });
    expect(
      await screen.findByText(
        'Error: You are not allowed to read this from Cairn',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('user:default/sam is not a member of team-orders'),
    ).toBeInTheDocument();
  });
  it('shows each pending promotion with the evidence Cairn computed for its approver, and a refusal over budget', async () => {
    const withEvidence: Promotion = {
      ...pendingV14,
      evidence: {
        computeTime: '2031-06-20T15:00:00Z',
        currency: 'USD',
        monthlyCostChange: 6.721293,
        costChangeBasis:
          'first promotion into production, which runs nothing yet: its workload',
        teamSpent: 4900,
        teamProjected: 7352.240431,
        teamBudget: 5000,
        projectedOverBudget: true,
        changeFailureRate: 0.25,
        changeFailureDeployments: '8',
        changeFailureBand: 'low',
        runningRevision: 'v1.3.0',
        openIncidents: ['services/orders-service/incidents/INC-7'],
      },
    };
    const before: Promotion = {
      ...pendingRollback,
      evidenceMissing: 'recorded before Cairn kept evidence on promotions',
    };
    const listPromotions = jest.fn().mockResolvedValue({
      promotions: [withEvidence, before],
      nextPageToken: '',
    });
    const refusal = await CairnError.fromResponse(
      new Response(
        JSON.stringify({
          code: 9,
          message:
            'team team-orders is projected to spend 7352.24 USD this month with this promotion (4900.00 spent by day 20, 6.72 a month more), over its budget of 5000.00: approving it needs an admin (promotions.budgetGuard)',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'BUDGET_PROJECTED_OVERRUN',
              domain: 'cairn.dev',
            },
          ],
        }),
        { status: 400, statusText: 'Bad Request' },
      ),
    );
    const approvePromotion = jest.fn().mockRejectedValue(refusal);
    await renderCard(<PromotionsCard />, { listPromotions, approvePromotion });
    await screen.findByRole('table', { name: 'Awaiting a decision' });

    const rows = rowsOf('Awaiting a decision');
    expect(rows[1]).toEqual([
      'Cost: +$6.72 a month (first promotion into production, which runs nothing yet: its workload)' +
        'Team this month: $4,900.00 spent, $7,352.24 projected to month end of a $5,000.00 budget over budget' +
        'Change failure rate, last 30 days: 25.0% of 8 deployments' +
        'Open incidents on v1.3.0: INC-7',
    ]);
    expect(rows[3]).toEqual([
      'No evidence: recorded before Cairn kept evidence on promotions',
    ]);

    fireEvent.click(
      pendingRow('v1.4.0').getByRole('button', { name: 'Approve' }),
    );
    const alert = await pendingRow('v1.4.0').findByRole('alert');
    expect(alert).toHaveTextContent(
      'over its budget of 5000.00: approving it needs an admin',
    );
    expect(alert).toHaveTextContent("Cairn's reason: BUDGET_PROJECTED_OVERRUN");
  });
});
