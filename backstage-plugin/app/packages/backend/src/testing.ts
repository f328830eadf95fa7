// What Cairn's end-to-end tests add to this app, and only when their config
// asks for it (an adopter's app has neither):
//
// - a sign-in for any user of the catalog, named by a request header, so a
//   test can hold real Backstage tokens of several people at once (the
//   guest provider signs in one). Its tokens are the auth backend's own,
//   without the ent claim as Backstage issues them by default, and the
//   user's groups come from the catalog, as for any provider.
// - stand-ins for the template steps that reach GitHub, which this machine
//   cannot: publishing a repository and registering its catalog-info.yaml.
//   Every Cairn step of the template runs for real.
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { AuthenticationError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import {
  createTemplateAction,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';

/** The provider id; configured as auth.providers.cairn-test-users: {}. */
const TEST_USERS_PROVIDER = 'cairn-test-users';
/** The header that names the user, a User entity of namespace default. */
const TEST_USER_HEADER = 'x-cairn-test-user';

const testUsersAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async () => ({ profile: {} }),
  initialize: () => undefined,
  async authenticate({ req }) {
    const name = req.header(TEST_USER_HEADER) ?? '';
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
      throw new AuthenticationError(
        `${TEST_USER_HEADER} must name a user of the catalog`,
      );
    }
    return { result: { name } };
  },
});

export const authModuleCairnTestUsers = createBackendModule({
  pluginId: 'auth',
  moduleId: 'cairn-test-users',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers, config }) {
        if (!config.has(`auth.providers.${TEST_USERS_PROVIDER}`)) {
          return;
        }
        // Anyone who can reach the backend may sign in as anyone: as the
        // guest provider, never outside `backstage-cli package start`.
        if (process.env.NODE_ENV !== 'development') {
          throw new Error(
            `auth.providers.${TEST_USERS_PROVIDER} is for Cairn's tests only and runs only in development`,
          );
        }
        providers.registerProvider({
          providerId: TEST_USERS_PROVIDER,
          factory: createProxyAuthProviderFactory({
            authenticator: testUsersAuthenticator,
            // A user the catalog does not know cannot sign in.
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({
                entityRef: {
                  kind: 'user',
                  namespace: 'default',
                  name: result.name,
                },
              }),
          }),
        });
      },
    });
  },
});

/** publish:github's outputs, for a repository it does not make. */
const publishStandIn = createTemplateAction({
  id: 'cairn-test:publish',
  description: 'Stands in for publish:github in tests: makes no repository',
  schema: {
    input: { repoUrl: z => z.string() },
    output: {
      remoteUrl: z => z.string(),
      repoContentsUrl: z => z.string(),
    },
  },
  async handler(ctx) {
    // repoUrl is the scaffolder's github.com?owner=...&repo=...
    const params = new URL(`https://${ctx.input.repoUrl}`).searchParams;
    const owner = params.get('owner');
    const repo = params.get('repo');
    ctx.output('remoteUrl', `https://github.com/${owner}/${repo}.git`);
    ctx.output(
      'repoContentsUrl',
      `https://github.com/${owner}/${repo}/blob/main`,
    );
  },
});

/** catalog:register's outputs, for an entity it does not register. */
const registerStandIn = createTemplateAction({
  id: 'cairn-test:register',
  description: 'Stands in for catalog:register in tests: registers nothing',
  schema: {
    input: { repoContentsUrl: z => z.string() },
    output: { entityRef: z => z.string() },
  },
  async handler(ctx) {
    const repo = ctx.input.repoContentsUrl.split('/')[4];
    ctx.output('entityRef', `component:default/${repo}`);
  },
});

export const scaffolderModuleCairnTestStandIns = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'cairn-test-stand-ins',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ scaffolder, config }) {
        if (config.getOptionalBoolean('cairnTesting.githubStandIns')) {
          scaffolder.addActions(publishStandIn, registerStandIn);
        }
      },
    });
  },
});
