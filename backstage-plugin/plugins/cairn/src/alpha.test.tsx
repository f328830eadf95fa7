import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { screen } from '@testing-library/react';
import { cairnCostEntityCard, cairnStatusEntityCard } from './alpha';
import { CairnApi, cairnApiRef } from './api';
import { ordersEntity } from './__testUtils__/renderCard';

// The cards as the new frontend system mounts them: through their entity
// card extensions, in its test app.
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
    phase: 'ready',
    deployments: [],
    infrastructure: [],
  }),
  getServiceDora: async () => ({}),
};

async function renderOnEntityPage(card: JSX.Element) {
  await renderInTestApp(
    <EntityProvider entity={ordersEntity}>{card}</EntityProvider>,
    { apis: [[cairnApiRef, cairnApi]] },
  );
}

describe('the entity card extensions', () => {
  it('render the cost card on an entity page', async () => {
    await renderOnEntityPage(
      createExtensionTester(cairnCostEntityCard).reactElement(),
    );
    expect(await screen.findByLabelText('Total this month')).toHaveTextContent(
      '$42.00',
    );
  });

  it('render the status card on an entity page', async () => {
    await renderOnEntityPage(
      createExtensionTester(cairnStatusEntityCard).reactElement(),
    );
    expect(await screen.findByLabelText('Phase')).toHaveTextContent('Ready');
  });
});
