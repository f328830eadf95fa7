import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CairnClients, userToken } from '../client';
import {
  createRequest,
  ServiceSpec,
  serviceSpecInput,
  withUniqueEnvironments,
} from './serviceSpec';

export const ESTIMATE_COST_ACTION_ID = 'cairn:cost:estimate';

/**
 * Asks Cairn what a planned service will cost per month, from its price
 * table, before anything is provisioned. It changes nothing, so it runs in
 * dry runs too.
 */
export function estimateCostAction(options: { clients: CairnClients }) {
  const { clients } = options;
  const action = createTemplateAction({
    id: ESTIMATE_COST_ACTION_ID,
    description:
      "Estimates a planned service's monthly cost with Cairn, before anything is provisioned",
    supportsDryRun: true,
    schema: {
      input: serviceSpecInput,
      output: {
        totalMonthlyCost: z =>
          z.number().describe('The estimated monthly cost'),
        currency: z =>
          z.string().describe('ISO 4217 currency code, such as USD'),
        summary: z =>
          z
            .string()
            .describe('The estimate in words, such as "112.02 USD per month"'),
        breakdown: z =>
          z
            .array(
              z.object({
                resource: z.string(),
                type: z.string(),
                monthlyCost: z.number(),
              }),
            )
            .describe('The estimate per resource'),
      },
    },
    async handler(ctx) {
      const client = clients.asUser(userToken(ctx.secrets));
      const spec = ctx.input as ServiceSpec;
      const estimate = await client.estimateServiceCost(createRequest(spec));
      const currency = estimate.currency ?? '';
      const total = estimate.totalMonthlyCost ?? 0;
      const breakdown = (estimate.breakdown ?? []).map(line => ({
        resource: line.resource ?? '',
        type: line.type ?? '',
        monthlyCost: line.monthlyCost ?? 0,
      }));
      for (const line of breakdown) {
        ctx.logger.info(
          `${line.resource} (${line.type}): ${line.monthlyCost.toFixed(2)} ${currency} per month`,
        );
      }
      const summary = `${total.toFixed(2)} ${currency} per month`;
      ctx.logger.info(`${spec.name} is estimated at ${summary}`);
      ctx.output('totalMonthlyCost', total);
      ctx.output('currency', currency);
      ctx.output('summary', summary);
      ctx.output('breakdown', breakdown);
    },
  });
  return withUniqueEnvironments(action);
}
