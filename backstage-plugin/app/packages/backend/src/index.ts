// A Backstage backend with what Cairn's packages need and no more: the app
// backend serving the built frontend, guest sign-in, the catalog, the
// scaffolder with Cairn's actions, the proxy the entity cards call Cairn
// through, permissions (allow-all), and notifications with signals, which
// Cairn sends to as an external caller. The plugins of the generated app
// that need native addons or services these tests do not run (techdocs,
// search, kubernetes, MCP actions) are left out.
import { createBackend } from '@backstage/backend-defaults';
import {
  authModuleCairnTestUsers,
  scaffolderModuleCairnTestStandIns,
} from './testing';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
// Cairn's scaffolder actions, installed from its packed tarball.
backend.add(import('@cairn-dev/plugin-scaffolder-backend-module-cairn'));

// Only what Cairn's end-to-end tests configure: see testing.ts.
backend.add(authModuleCairnTestUsers);
backend.add(scaffolderModuleCairnTestStandIns);

backend.start();
