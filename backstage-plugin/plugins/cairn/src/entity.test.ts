import { Entity } from '@backstage/catalog-model';
import { cairnServiceName, isCairnAvailable } from './entity';

const component = (annotations?: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'orders', annotations },
});

describe('the cairn.dev/service annotation', () => {
  it('names the service in Cairn, which may differ from the entity', () => {
    const entity = component({ 'cairn.dev/service': ' orders-service ' });
    expect(cairnServiceName(entity)).toBe('orders-service');
    expect(isCairnAvailable(entity)).toBe(true);
  });

  it.each([
    ['without annotations', component()],
    ['with an empty annotation', component({ 'cairn.dev/service': '  ' })],
    [
      'with the old annotation only',
      component({ 'cairn.dev/service-name': 'orders-service' }),
    ],
    [
      'that is not a Component',
      {
        ...component({ 'cairn.dev/service': 'orders-service' }),
        kind: 'API',
      },
    ],
  ])('leaves out an entity %s', (_, entity) => {
    expect(isCairnAvailable(entity)).toBe(false);
  });

  it('takes the kind in any case', () => {
    expect(
      isCairnAvailable({
        ...component({ 'cairn.dev/service': 'orders-service' }),
        kind: 'component',
      }),
    ).toBe(true);
  });
});
