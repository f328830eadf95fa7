import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CairnClients, userToken } from '../client';
import {
  createRequest,
  entityRef,
  ServiceSpec,
  serviceSpecInput,
  withUniqueEnvironments,
} from './serviceSpec';

export const CREATE_SERVICE_ACTION_ID = 'cairn:service:create';

/**
 * Records a service in Cairn and has Cairn provision its infrastructure:
 * its database and bucket claims and an Argo CD Application per
 * environment. The scaffolder task's id is the request id, and the answer
 * is checkpointed, so a retried or resumed task never creates twice.
 */
export function createServiceAction(options: { clients: CairnClients }) {
  const { clients } = options;
  const action = createTemplateAction({
    id: CREATE_SERVICE_ACTION_ID,
    description:
      "Creates a service's infrastructure with Cairn: a database and bucket claim and an Argo CD Application per environment",
    supportsDryRun: true,
    examples: [
      {
        description:
          'A service with a small PostgreSQL database in staging and production',
        example: [
          'steps:',
          '  - id: cairn-create',
          '    action: cairn:service:create',
          '    input:',
          '      name: orders-service',
          '      owner: group:default/team-orders',
          '      database: postgresql',
          '      databaseSize: small',
          '      environments: [staging, production]',
          '      repositoryUrl: https://github.com/company/orders-service.git',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        ...serviceSpecInput,
        entityNamespace: z =>
          z
            .string()
            .default('default')
            .describe(
              "The catalog namespace of the service's entity, for the entityRef output",
            ),
      },
      output: {
        service: z => z.string().describe('The service name in Cairn'),
        status: z =>
          z
            .string()
            .describe(
              'provisioning once Cairn recorded it; validated in a dry run',
            ),
        resources: z =>
          z
            .array(z.string())
            .describe(
              'The resources requested, such as database:postgresql and bucket',
            ),
        environments: z =>
          z.array(z.string()).describe('The environments it deploys to'),
        entityRef: z =>
          z
            .string()
            .describe(
              "The service's catalog entity, whose page shows Cairn's cards: use it in the template's output links",
            ),
      },
    },
    async handler(ctx) {
      const client = clients.asUser(userToken(ctx.secrets));
      const spec = ctx.input as ServiceSpec & { entityNamespace: string };
      const request = {
        ...createRequest(spec),
        requestId: ctx.task.id,
        validateOnly: ctx.isDryRun ?? false,
      };
      // Only what the outputs need is kept in the checkpoint: not the
      // Kubernetes objects, which can be large.
      const created = await ctx.checkpoint({
        key: `cairn.create.${spec.name}`,
        fn: async () => {
          const response = await client.createService(request);
          return {
            service: response.service ?? spec.name,
            status: response.status ?? '',
            resources: response.resources ?? [],
            environments: response.environments ?? [],
          };
        },
      });
      ctx.logger.info(
        `Cairn ${ctx.isDryRun ? 'validated' : 'recorded'} ${created.service}: ${
          created.resources.join(', ') || 'no resources'
        } for ${created.environments.join(', ')}; status ${created.status}`,
      );
      ctx.output('service', created.service);
      ctx.output('status', created.status);
      ctx.output('resources', created.resources);
      ctx.output('environments', created.environments);
      ctx.output('entityRef', entityRef(created.service, spec.entityNamespace));
    },
  });
  return withUniqueEnvironments(action);
}
