import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { cairnApiRef } from '../api';
import { cairnServiceName } from '../entity';

/** The Cairn API, and the card's entity's name in Cairn (undefined when it names none). */
export function useCairnService() {
  const { entity } = useEntity();
  return { api: useApi(cairnApiRef), service: cairnServiceName(entity) };
}
