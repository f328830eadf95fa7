/** @jest-environment node */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser } from 'playwright-core';
import {
  CardsApp,
  expectNoCairnCards,
  expectOrdersServiceCards,
  startCardsApp,
} from './__testUtils__/appBrowser';
import { appDir, BackstageApp, Timings } from './__testUtils__/backstageApp';
import { artifactsDir, Cairn } from './__testUtils__/harness';

// The legacy frontend system path of docs/backstage.md in a real app: the same Backstage
// app and backend as app.browser.test.ts, serving packages/app-legacy (made
// by `create-app --legacy`, with Cairn's legacy cards in its EntityPage.tsx
// as its snippet puts them) instead of packages/app. A guest signs
// in in headless Chromium and opens the catalog's entities. Screenshots and
// the steps' timings go to backstage-plugin/test-artifacts/app-legacy/.
jest.setTimeout(900_000);

const shots = join(artifactsDir, 'app-legacy');

describe("Cairn's legacy cards in a real legacy-system Backstage app, as the signed-in guest", () => {
  let cardsApp: CardsApp;
  let timings: Timings;
  let cairn: Cairn;
  let app: BackstageApp;
  let browser: Browser;

  beforeAll(async () => {
    cardsApp = await startCardsApp('app-legacy', shots);
    ({ timings, cairn, app, browser } = cardsApp);
  });

  afterAll(async () => {
    await cardsApp?.stop();
  });

  it('serves the legacy app, not the new frontend system one', async () => {
    // The main bundle the backend's page loads is the one app-legacy's
    // build made (its name carries a hash of its contents).
    const main = (html: string) =>
      html.match(/src="([^"]*\/main\.[^"]+\.js)"/)?.[1];
    const served = main(await (await fetch(`${app.url}/catalog`)).text());
    const built = main(
      readFileSync(join(appDir, 'packages/app-legacy/dist/index.html'), 'utf8'),
    );
    expect(served).toBeDefined();
    expect(served).toBe(built);
  });

  it("shows Cairn's cards, with the snippet's props, on an entity that opts in", async () => {
    const { page, cards, seconds } = await expectOrdersServiceCards(
      browser,
      app.url,
      cairn,
      shots,
    );
    timings['entity page load (after sign-in)'] = seconds;
    // The snippet's argoCdBaseUrl prop reached the status card: each
    // environment links to its Argo CD Application there.
    const links = await cards.status
      .locator('a[href^="https://argocd.company.com/applications/"]')
      .count();
    expect(links).toBeGreaterThan(0);
    await page.close();
  });

  it("shows none of Cairn's cards on an entity without the cairn.dev/service annotation", async () => {
    await expectNoCairnCards(browser, app.url, shots);
  });
});
