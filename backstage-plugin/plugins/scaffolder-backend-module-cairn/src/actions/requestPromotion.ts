import { createHash } from 'node:crypto';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CairnClients, userToken } from '../client';
import { entityRef } from './serviceSpec';

export const REQUEST_PROMOTION_ACTION_ID = 'cairn:promotion:request';

/**
 * Asks Cairn to deploy a revision of a service into an environment of its
 * promotion path, production by default. Where the environment needs an
 * approver, one of the owning team approves or denies it in Cairn and the
 * environment stays as it is until then; where it needs none, Cairn approves
 * it at once. The task's id, the environment and the revision make the
 * request id, and the answer is checkpointed under the same three, so a
 * retried task asks once, and a task that asks for two revisions, or for one
 * revision in two environments, gets two promotions.
 */
export function requestPromotionAction(options: { clients: CairnClients }) {
  const { clients } = options;
  return createTemplateAction({
    id: REQUEST_PROMOTION_ACTION_ID,
    description:
      'Requests a promotion of a service revision into an environment (production by default), for an approver of its team to approve in Cairn where the environment needs one',
    schema: {
      input: {
        name: z => z.string().describe('The service name in Cairn'),
        revision: z =>
          z
            .string()
            .min(1)
            .describe('The revision to deploy: a tag, branch or commit'),
        environment: z =>
          z
            .string()
            .optional()
            .describe(
              "The environment to promote into; empty means the service's one environment that takes promotions, production by default",
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
        state: z =>
          z
            .string()
            .describe(
              'pending until an approver decides; approved at once where the environment needs no approver',
            ),
        environment: z =>
          z
            .string()
            .describe(
              'The environment the promotion goes to, as Cairn recorded it',
            ),
        rollback: z =>
          z
            .boolean()
            .describe(
              'Whether the revision is one the environment ran before, so the promotion rolls it back',
            ),
        entityRef: z => z.string().describe("The service's catalog entity"),
      },
    },
    async handler(ctx) {
      const client = clients.asUser(userToken(ctx.secrets));
      const { name, revision, entityNamespace } = ctx.input;
      const environment = ctx.input.environment ?? '';
      const recorded = await ctx.checkpoint({
        key: promotionCheckpointKey(name, environment, revision),
        fn: async () => {
          // Never `force`: the task acts as the user who ran the template,
          // and promoting past the promotion path's rule is for an admin,
          // through Cairn's API or CLI.
          const p = await client.createPromotion(name, {
            revision,
            environment: environment || undefined,
            requestId: promotionRequestId(ctx.task.id, revision, environment),
          });
          return {
            name: p.name ?? '',
            state: p.state ?? '',
            environment: p.environment ?? '',
            rollback: p.rollback ?? false,
          };
        },
      });
      // A checkpoint an earlier version of the action wrote holds neither.
      const promotion = {
        ...recorded,
        environment: recorded.environment ?? '',
        rollback: recorded.rollback ?? false,
      };
      const where = promotion.environment || 'its default environment';
      const rollback = promotion.rollback ? ' (a rollback)' : '';
      const waiting =
        promotion.state === 'pending'
          ? ', waiting for an approver of its team'
          : '';
      ctx.logger.info(
        `Requested ${revision} of ${name} in ${where}${rollback}: ${promotion.name} is ${promotion.state}${waiting}`,
      );
      ctx.output('promotion', promotion.name);
      ctx.output('state', promotion.state);
      ctx.output('environment', promotion.environment);
      ctx.output('rollback', promotion.rollback);
      ctx.output('entityRef', entityRef(name, entityNamespace));
    },
  });
}

/**
 * The checkpoint of a task's promotion of a revision into an environment.
 * Without an environment it is the key of the action before it took one, so
 * a task resumed across an upgrade does not ask again.
 */
function promotionCheckpointKey(
  name: string,
  environment: string,
  revision: string,
): string {
  return environment
    ? `cairn.promotion.${name}.${environment}.${revision}`
    : `cairn.promotion.${name}.${revision}`;
}

/** Cairn's bound on a request id. */
const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The request id of a task's promotion of a revision into an environment:
 * `{task}:{environment}:{revision}`, or `{task}:{revision}` without an
 * environment (as before the action took one), or the SHA-256 of what
 * follows the task's id in its place where that would be longer than Cairn
 * takes. Neither a revision nor an environment holds a ':' (Cairn's
 * validation), so no two of these are alike.
 */
export function promotionRequestId(
  taskId: string,
  revision: string,
  environment = '',
): string {
  const target = environment ? `${environment}:${revision}` : revision;
  const readable = `${taskId}:${target}`;
  if (readable.length <= MAX_REQUEST_ID_LENGTH) {
    return readable;
  }
  const digest = createHash('sha256').update(target).digest('hex');
  return `${taskId}:sha256:${digest}`;
}
