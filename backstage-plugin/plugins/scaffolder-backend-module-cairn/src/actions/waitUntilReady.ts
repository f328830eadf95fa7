import type { LoggerService } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CairnError, ServiceStatus } from '@cairn-dev/plugin-cairn-common';
import { CairnClients, userToken } from '../client';
import { entityRef } from './serviceSpec';

export const WAIT_UNTIL_READY_ACTION_ID = 'cairn:service:wait-until-ready';

/**
 * Waits until Cairn reports a service's provisioning ready: every claim
 * Ready and every environment that deploys on its own Synced and Healthy.
 * It fails at once when provisioning fails, and at the timeout, saying in
 * each case which claim or environment holds it up and why.
 */
export function waitUntilReadyAction(options: {
  clients: CairnClients;
  /** Between two reads of the status; 5 seconds unless a test says less. */
  pollIntervalMs?: number;
}) {
  const { clients } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  return createTemplateAction({
    id: WAIT_UNTIL_READY_ACTION_ID,
    description:
      "Waits until Cairn reports a service's infrastructure and deployments ready, failing with what holds them up",
    schema: {
      input: {
        name: z => z.string().describe('The service name in Cairn'),
        timeoutSeconds: z =>
          z
            .number()
            .int()
            .positive()
            .default(900)
            .describe('How long to wait before failing'),
        entityNamespace: z =>
          z
            .string()
            .default('default')
            .describe(
              "The catalog namespace of the service's entity, for the entityRef output",
            ),
      },
      output: {
        phase: z => z.string().describe('The phase reached: ready'),
        provisioningDuration: z =>
          z
            .string()
            .describe(
              'From the create request until everything was first ready, such as 84.2s',
            ),
        environments: z =>
          z
            .array(z.string())
            .describe(
              'Each environment with its Argo CD sync and health, such as "staging: Synced, Healthy"',
            ),
        entityRef: z =>
          z
            .string()
            .describe(
              "The service's catalog entity, whose page shows Cairn's provisioning card",
            ),
      },
    },
    async handler(ctx) {
      const { name, timeoutSeconds, entityNamespace } = ctx.input;
      const deadline = Date.now() + timeoutSeconds * 1000;
      let lastPhase = '';
      // The user's token first; once it expires mid-wait, the backend's
      // read-only token where one is configured.
      let client = clients.asUser(userToken(ctx.secrets));
      const readStatus = async () => {
        try {
          return await client.getServiceStatus(name);
        } catch (e) {
          if (!(
            e instanceof CairnError &&
            e.status === 401 &&
            clients.readOnly &&
            client !== clients.readOnly
          )) {
            throw e;
          }
          ctx.logger.info(
            `Cairn no longer takes the user's token (${e.message}); reading on with the backend's read-only token`,
          );
          client = clients.readOnly;
          return client.getServiceStatus(name);
        }
      };
      for (;;) {
        const status = await readStatus();
        const phase = status.phase ?? '';
        if (phase !== lastPhase) {
          ctx.logger.info(`${name} is ${phase}`);
          lastPhase = phase;
        }
        if (phase === 'ready') {
          ctx.output('phase', phase);
          ctx.output('provisioningDuration', status.provisioningDuration ?? '');
          ctx.output('environments', describeEnvironments(status));
          ctx.output('entityRef', entityRef(name, entityNamespace));
          return;
        }
        if (phase === 'failed') {
          throw new Error(
            failure(`Provisioning ${name} failed`, status, ctx.logger),
          );
        }
        if (Date.now() >= deadline) {
          throw new Error(
            failure(
              `${name} was not ready within ${timeoutSeconds} s (phase ${phase})`,
              status,
              ctx.logger,
            ),
          );
        }
        await sleep(
          Math.min(pollIntervalMs, deadline - Date.now()),
          ctx.signal,
        );
      }
    },
  });
}

function describeEnvironments(status: ServiceStatus): string[] {
  return (status.deployments ?? []).map(
    d => `${d.environment}: ${d.syncStatus}, ${d.healthStatus}`,
  );
}

/**
 * The failure message: the summary, then each claim that is not ready and
 * each environment that is not healthy, with Crossplane's and Argo CD's own
 * words. Each is logged too, so the task's log shows them one a line.
 */
function failure(
  summary: string,
  status: ServiceStatus,
  logger: LoggerService,
): string {
  const problems: string[] = [];
  for (const claim of status.infrastructure ?? []) {
    if (!claim.ready) {
      problems.push(
        `${claim.kind} ${claim.resource}: ${[
          claim.reason || 'not ready',
          claim.message,
        ]
          .filter(Boolean)
          .join(': ')}`,
      );
    }
  }
  for (const d of status.deployments ?? []) {
    // An environment that syncs only on a promotion deploys nothing until
    // one is approved (Argo CD says Missing meanwhile): Cairn says so, and it
    // holds nothing up. Once promoted, its health counts like any other's.
    if (d.healthStatus !== 'Healthy' && !d.awaitingPromotion) {
      problems.push(
        `${d.environment} (Application ${d.application}): ${d.syncStatus}, ${d.healthStatus}`,
      );
    }
  }
  if (status.stale) {
    problems.push(
      'Cairn has lost its watch on the cluster: this status may be out of date',
    );
  }
  for (const p of problems) {
    logger.error(p);
  }
  return problems.length ? `${summary}: ${problems.join('; ')}` : summary;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('The task was cancelled'));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('The task was cancelled'));
    };
    timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
