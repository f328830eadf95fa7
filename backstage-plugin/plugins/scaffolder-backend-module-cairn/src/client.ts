import type { RootConfigService } from '@backstage/backend-plugin-api';
import { CairnClient } from '@cairn-dev/plugin-cairn-common';

/** The scaffolder actions' view of Cairn. @public */
export type CairnActionsClient = Pick<
  CairnClient,
  | 'createService'
  | 'getServiceStatus'
  | 'estimateServiceCost'
  | 'createPromotion'
>;

/**
 * How the actions reach Cairn. What a person starts goes as that person:
 * Cairn verifies their Backstage token, so its team checks, the rule that an
 * approver is not the requester, its rate limits and its audit log all see
 * the user who ran the template. The backend's own token is only for reads
 * that outlast the user's token, such as a long wait.
 *
 * @public
 */
export type CairnClients = {
  /** Cairn as the holder of a Backstage user token. */
  asUser(backstageToken: string): CairnActionsClient;
  /** Cairn with `cairn.token`, a read-only token; undefined when none is set. */
  readOnly?: CairnActionsClient;
};

/** The clients the actions use, from the `cairn` section of app-config. @public */
export function cairnClientsFromConfig(
  config: RootConfigService,
): CairnClients {
  const baseUrl = config.getString('cairn.baseUrl').replace(/\/+$/, '');
  const token = config.getOptionalString('cairn.token');
  return {
    asUser: backstageToken =>
      new CairnClient({ baseUrl, token: backstageToken }),
    readOnly: token ? new CairnClient({ baseUrl, token }) : undefined,
  };
}

/**
 * The Backstage token of the user who started the task. The scaffolder
 * backend puts the token the task was created with in its secrets; a task
 * without one (created by a backend service, say) cannot act for anyone,
 * so the action fails rather than borrow an identity.
 */
export function userToken(secrets: Record<string, string> | undefined): string {
  const token = secrets?.backstageToken;
  if (!token) {
    throw new Error(
      "This task carries no Backstage user token, so Cairn cannot tell who is acting: start the template as a signed-in user (the scaffolder passes the user's token as secrets.backstageToken)",
    );
  }
  return token;
}
