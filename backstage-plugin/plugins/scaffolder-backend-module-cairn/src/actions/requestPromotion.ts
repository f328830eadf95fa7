import { createHash } from 'node:crypto';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CairnClients, userToken } from '../client';
import { entityRef } from './serviceSpec';

export const REQUEST_PROMOTION_ACTION_ID = 'cairn:promotion:request';

/**
 * Asks Cairn to deploy a revision of a service to production. An approver
 * of the owning team approves or denies it in Cairn; until then production
 * stays as it is. The task's id and the revision make the request id, and
 * the answer is checkpointed, so a retried task asks once, and a task that
 * asks for two revisions gets two promotions.
 */
export function requestPromotionAction(options: { clients: CairnClients }) {
  const { clients } = options;
  return createTemplateAction({
    id: REQUEST_PROMOTION_ACTION_ID,
    description:
      'Requests a promotion of a service revision to production, for an approver of its team to approve in Cairn',
    schema: {
      input: {
        name: z => z.string().describe('The service name in Cairn'),
        revision: z =>
          z
            .string()
            .min(1)
            .describe(
              'The revision to deploy to production: a tag, branch or commit',
            ),
        entityNamespace: z =>
          z
            .string()
            .default('default')
            .describe(
              "The catalog namespace of the service's entity, for the entityRef output",
            ),
      },
      output: {
        promotion: z =>
          z
            .string()
            .describe(
              "The promotion's name in Cairn, services/{service}/promotions/{id}",
            ),
        state: z => z.string().describe('pending until an approver decides'),
        entityRef: z => z.string().describe("The service's catalog entity"),
      },
    },
    async handler(ctx) {
      const client = clients.asUser(userToken(ctx.secrets));
      const { name, revision, entityNamespace } = ctx.input;
      const promotion = await ctx.checkpoint({
        key: `cairn.promotion.${name}.${revision}`,
        fn: async () => {
          const p = await client.createPromotion(name, {
            revision,
            requestId: promotionRequestId(ctx.task.id, revision),
          });
          return { name: p.name ?? '', state: p.state ?? '' };
        },
      });
      ctx.logger.info(
        `Requested ${revision} of ${name} in production: ${promotion.name} is ${promotion.state}, waiting for an approver of its team`,
      );
      ctx.output('promotion', promotion.name);
      ctx.output('state', promotion.state);
      ctx.output('entityRef', entityRef(name, entityNamespace));
    },
  });
}

/** Cairn's bound on a request id. */
const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The request id of a task's promotion of a revision: `{task}:{revision}`,
 * or the revision's SHA-256 in its place where that would be longer than
 * Cairn takes.
 */
export function promotionRequestId(taskId: string, revision: string): string {
  const readable = `${taskId}:${revision}`;
  if (readable.length <= MAX_REQUEST_ID_LENGTH) {
    return readable;
  }
  const digest = createHash('sha256').update(revision).digest('hex');
  return `${taskId}:sha256:${digest}`;
}
