import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { navModule } from './modules/nav';
import { signInModule } from './modules/signIn';

// Cairn's frontend plugin (@cairn-dev/plugin-cairn/alpha) is not listed
// here: `app.packages: all` in app-config.yaml discovers it, as every other
// frontend plugin in packages/app/package.json, from its packed manifest's
// `./alpha` export, which is what an adopter's app does.
export default createApp({
  features: [catalogPlugin, navModule, signInModule],
});
