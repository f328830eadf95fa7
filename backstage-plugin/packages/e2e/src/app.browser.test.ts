/** @jest-environment node */
import { join } from 'node:path';
import { Browser } from 'playwright-core';
import {
  CardsApp,
  expectNoCairnCards,
  expectOrdersServiceCards,
  startCardsApp,
  waitForCairnCards,
} from './__testUtils__/appBrowser';
import {
  BackstageApp,
  guestToken,
  Timings,
} from './__testUtils__/backstageApp';
import { appConfig, artifactsDir, Cairn } from './__testUtils__/harness';

// Cairn inside a real Backstage app (backstage-plugin/app: new frontend
// system, app backend, guest sign-in, catalog, proxy, scaffolder, on
// PostgreSQL), with Cairn's packages installed from their packed tarballs.
// A guest signs in in headless Chromium and opens catalog entities; the
// cards read Cairn through the proxy as deploy/backstage/app-config.cairn.yaml
// configures it, with the guest's own Backstage token, which Cairn verifies
// against the auth backend's key set (deploy/backstage/cairn-auth.yaml).
// Screenshots and the steps' timings go to backstage-plugin/test-artifacts/app/.
jest.setTimeout(900_000);

const shots = join(artifactsDir, 'app');

describe('Cairn in a real Backstage app, as the signed-in guest', () => {
  let cardsApp: CardsApp;
  let timings: Timings;
  let cairn: Cairn;
  let app: BackstageApp;
  let browser: Browser;

  beforeAll(async () => {
    cardsApp = await startCardsApp('app', shots);
    ({ timings, cairn, app, browser } = cardsApp);
  });

  afterAll(async () => {
    await cardsApp?.stop();
  });

  it("shows Cairn's cost, provisioning status and DORA metrics on an entity that opts in", async () => {
    const { page, seconds, totalMonthlyCost } = await expectOrdersServiceCards(
      browser,
      app.url,
      cairn,
      shots,
    );
    timings['entity page load (after sign-in)'] = seconds;

    // Loaded again, signed in already (Backstage remembers the provider):
    // from the page's first contentful paint until the last card is filled.
    await page.reload();
    await waitForCairnCards(page, totalMonthlyCost);
    const filled = Date.now();
    const firstPaint = await page.evaluate(
      () =>
        performance.timeOrigin +
        performance.getEntriesByName('first-contentful-paint')[0].startTime,
    );
    timings['entity page: first paint to last card filled'] =
      (filled - firstPaint) / 1000;
    await page.close();
  });

  it("reaches Cairn as the signed-in user: the proxy forwards the guest's token, which Cairn verifies", async () => {
    // As deployed: no token of the proxy's own stands in for the user.
    expect(appConfig(cairn).proxy.endpoints['/cairn']).toMatchObject({
      credentials: 'forward',
    });
    expect(appConfig(cairn).proxy.endpoints['/cairn'].headers).toBeUndefined();
    const path = '/api/proxy/cairn/v1/services/orders-service/cost';
    const anonymous = await fetch(`${app.url}${path}`);
    expect(anonymous.status).toBe(401);
    const guest = await guestToken(app);
    const signedIn = await fetch(`${app.url}${path}`, {
      headers: { Authorization: `Bearer ${guest}` },
    });
    expect(signedIn.status).toBe(200);
    // Cairn itself takes the auth backend's token, and refuses one it did
    // not sign.
    const direct = await cairn.call(
      guest,
      'GET',
      '/v1/services/orders-service/cost',
    );
    expect(direct.status).toBe(200);
    const [header, claims] = guest.split('.');
    const forged = `${header}.${claims}.${Buffer.from('not a signature').toString('base64url')}`;
    expect(
      (await cairn.call(forged, 'GET', '/v1/services/orders-service/cost'))
        .status,
    ).toBe(401);
  });

  it("shows none of Cairn's cards on an entity without the cairn.dev/service annotation", async () => {
    await expectNoCairnCards(browser, app.url, shots);
  });
});
