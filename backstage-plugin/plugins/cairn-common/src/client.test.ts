/** @jest-environment node */
import { CairnClient } from './client';
import { CairnError, isServiceNotFound } from './errors';

// What the client sends and how it reads answers; the same client against
// the real cairn binary is tested in packages/e2e.
function recordingFetch(status: number, body: string) {
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const fetch = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    return new Response(body, {
      status,
      statusText: status === 200 ? 'OK' : 'Error',
    });
  };
  return { calls, fetch };
}

describe('CairnClient', () => {
  it('puts the resource name in the path and sends the token', async () => {
    const { calls, fetch } = recordingFetch(
      200,
      '{"serviceName": "orders-service"}',
    );
    const client = new CairnClient({
      baseUrl: 'http://cairn:8080',
      fetch,
      token: 'secret',
    });
    await client.getServiceCost('orders-service', { month: '2026-11' });
    await client.getServiceDora('orders-service');
    expect(calls.map(c => c.url)).toEqual([
      'http://cairn:8080/v1/services/orders-service/cost?month=2026-11',
      'http://cairn:8080/v1/services/orders-service/dora',
    ]);
    expect(calls[0].init?.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'Bearer secret',
    });
  });

  it('reads the promotion path as the caller, in its order', async () => {
    const { calls, fetch } = recordingFetch(
      200,
      JSON.stringify({
        environments: [
          {
            name: 'staging',
            sync: 'automatic',
            revision: 'main',
            production: false,
            promotion: null,
          },
          {
            name: 'production',
            sync: 'promotion',
            revision: 'release',
            production: true,
            promotion: {
              from: 'staging',
              approval: true,
              requireRunning: false,
            },
          },
        ],
      }),
    );
    const client = new CairnClient({
      baseUrl: async () => 'http://backstage/api/proxy/cairn',
      fetch,
      token: 'token-of-jane',
    });
    const path = await client.listEnvironments();
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(
      'http://backstage/api/proxy/cairn/v1/environments',
    );
    expect(calls[0].init?.method).toBe('GET');
    expect(calls[0].init?.body).toBeUndefined();
    expect(calls[0].init?.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'Bearer token-of-jane',
    });
    expect(
      path.environments?.map(e => [e.name, e.sync, e.promotion?.from]),
    ).toEqual([
      ['staging', 'automatic', undefined],
      ['production', 'promotion', 'staging'],
    ]);
  });

  it('posts JSON bodies', async () => {
    const { calls, fetch } = recordingFetch(
      200,
      '{"name": "services/orders-service/promotions/1"}',
    );
    const client = new CairnClient({
      baseUrl: async () => 'http://backstage/api/proxy/cairn',
      fetch,
    });
    await client.createPromotion('orders-service', {
      revision: 'v1.4.0',
      requestId: 'task-1',
    });
    expect(calls[0].url).toBe(
      'http://backstage/api/proxy/cairn/v1/services/orders-service/promotions',
    );
    expect(calls[0].init?.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({
      promotion: { revision: 'v1.4.0' },
      requestId: 'task-1',
    });
  });

  it('names the environment of a promotion, and never forces one', async () => {
    const { calls, fetch } = recordingFetch(
      200,
      '{"name": "services/orders-service/promotions/2", "environment": "staging", "rollback": true}',
    );
    const client = new CairnClient({ baseUrl: 'http://cairn:8080', fetch });
    const promotion = await client.createPromotion('orders-service', {
      revision: 'v1.3.0',
      environment: 'staging',
      requestId: 'task-1:staging:v1.3.0',
    });
    await client.createPromotion('orders-service', {
      revision: 'v1.3.0',
      environment: '',
    });
    expect(calls.map(c => JSON.parse(String(c.init?.body)))).toEqual([
      {
        promotion: { revision: 'v1.3.0', environment: 'staging' },
        requestId: 'task-1:staging:v1.3.0',
      },
      { promotion: { revision: 'v1.3.0' } },
    ]);
    expect([promotion.environment, promotion.rollback]).toEqual([
      'staging',
      true,
    ]);
  });

  it("lists a service's promotions a page at a time, as the caller", async () => {
    const page = {
      promotions: [
        {
          name: 'services/orders-service/promotions/3',
          revision: 'v1.4.0',
          environment: 'production',
          state: 'pending',
          requester: 'user:default/lee',
          decider: '',
          reason: '',
          createTime: '2026-11-27T12:00:00Z',
          decideTime: null,
          rollback: false,
          callerCanDecide: true,
        },
      ],
      nextPageToken: 'next-2',
    };
    const { calls, fetch } = recordingFetch(200, JSON.stringify(page));
    const client = new CairnClient({
      baseUrl: 'http://cairn:8080',
      fetch,
      token: 'token-of-jane',
    });
    const first = await client.listPromotions('orders-service');
    await client.listPromotions('orders-service', {
      pageSize: 20,
      pageToken: first.nextPageToken,
    });
    expect(calls.map(c => [c.init?.method, c.url, c.init?.body])).toEqual([
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/promotions',
        undefined,
      ],
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/promotions?pageSize=20&pageToken=next-2',
        undefined,
      ],
    ]);
    expect(calls[0].init?.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'Bearer token-of-jane',
    });
    expect(
      first.promotions?.map(p => [p.name, p.state, p.callerCanDecide]),
    ).toEqual([['services/orders-service/promotions/3', 'pending', true]]);
  });

  it('lists a page of deployments with their filters, then the next page', async () => {
    const page = {
      deployments: [
        {
          name: 'services/orders-service/deployments/7',
          service: 'orders-service',
          environment: 'production',
          revision: 'v1.4.0',
          status: 'succeeded',
          startedAt: '2026-11-27T11:50:00Z',
          finishedAt: '2026-11-27T12:00:00Z',
          production: true,
          commits: [
            {
              sha: 'abc123',
              committedAt: '2026-11-27T10:30:00Z',
              leadTime: '5400s',
            },
          ],
          incidents: [],
        },
      ],
      nextPageToken: 'deployments-2',
    };
    const { calls, fetch } = recordingFetch(200, JSON.stringify(page));
    const client = new CairnClient({
      baseUrl: 'http://cairn:8080',
      fetch,
      token: 'token-of-jane',
    });
    const first = await client.listDeployments('orders-service', {
      environment: 'production',
      status: 'succeeded',
      finishedAfter: '2026-11-01T00:00:00Z',
      finishedBefore: '2026-12-01T00:00:00Z',
      pageSize: 20,
    });
    await client.listDeployments('orders-service', {
      pageToken: first.nextPageToken,
    });
    await client.listDeployments('orders service');
    expect(calls.map(c => [c.init?.method, c.url, c.init?.body])).toEqual([
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/deployments?environment=production&status=succeeded&finishedAfter=2026-11-01T00%3A00%3A00Z&finishedBefore=2026-12-01T00%3A00%3A00Z&pageSize=20',
        undefined,
      ],
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/deployments?pageToken=deployments-2',
        undefined,
      ],
      [
        'GET',
        'http://cairn:8080/v1/services/orders%20service/deployments',
        undefined,
      ],
    ]);
    expect(calls[0].init?.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'Bearer token-of-jane',
    });
    expect(first).toEqual(page);
  });

  it('lists a page of incidents with their filters, then the next page', async () => {
    const page = {
      incidents: [
        {
          name: 'services/orders-service/incidents/INC-1042',
          service: 'orders-service',
          id: 'INC-1042',
          openedAt: '2026-11-27T13:00:00Z',
          resolvedAt: '2026-11-27T14:00:00Z',
          causeRevision: '',
          link: 'inferred',
          deployment: {
            name: 'services/orders-service/deployments/7',
            revision: 'v1.4.0',
            environment: 'production',
            finishedAt: '2026-11-27T12:00:00Z',
          },
        },
      ],
      nextPageToken: 'incidents-2',
    };
    const { calls, fetch } = recordingFetch(200, JSON.stringify(page));
    const client = new CairnClient({ baseUrl: 'http://cairn:8080', fetch });
    const first = await client.listIncidents('orders-service', {
      state: 'resolved',
      openedAfter: '2026-11-01T00:00:00Z',
      openedBefore: '2026-12-01T00:00:00Z',
      pageSize: 20,
    });
    await client.listIncidents('orders-service', {
      pageSize: 20,
      pageToken: first.nextPageToken,
    });
    expect(calls.map(c => [c.init?.method, c.url])).toEqual([
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/incidents?state=resolved&openedAfter=2026-11-01T00%3A00%3A00Z&openedBefore=2026-12-01T00%3A00%3A00Z&pageSize=20',
      ],
      [
        'GET',
        'http://cairn:8080/v1/services/orders-service/incidents?pageSize=20&pageToken=incidents-2',
      ],
    ]);
    expect(calls[0].init?.headers).toEqual({ Accept: 'application/json' });
    expect(first).toEqual(page);
  });

  it("rejects a failed list with Cairn's error", async () => {
    const { fetch } = recordingFetch(
      400,
      JSON.stringify({
        code: 3,
        message: 'invalid page token',
        details: [],
      }),
    );
    const client = new CairnClient({ baseUrl: 'http://cairn', fetch });
    const error = await client
      .listIncidents('orders-service', { pageToken: 'stale' })
      .catch(e => e);
    expect(error).toBeInstanceOf(CairnError);
    expect(error).toMatchObject({ status: 400, code: 3 });
  });

  it.each([
    ['approvePromotion', ':approve'],
    ['denyPromotion', ':deny'],
  ] as const)(
    '%s posts the reason to the promotion named, and answers the decided promotion',
    async (method, verb) => {
      const { calls, fetch } = recordingFetch(
        200,
        JSON.stringify({
          name: 'services/orders-service/promotions/3',
          state: verb === ':approve' ? 'approved' : 'denied',
          decider: 'user:default/jane',
          reason: 'release notes reviewed',
        }),
      );
      const client = new CairnClient({ baseUrl: 'http://cairn', fetch });
      const decided = await client[method](
        'services/orders-service/promotions/3',
        { reason: 'release notes reviewed' },
      );
      await client[method]('services/orders-service/promotions/3');
      await client[method]('services/orders-service/promotions/3', {
        reason: '',
      });
      expect(calls.map(c => [c.init?.method, c.url])).toEqual(
        Array(3).fill([
          'POST',
          `http://cairn/v1/services/orders-service/promotions/3${verb}`,
        ]),
      );
      expect(calls.map(c => JSON.parse(String(c.init?.body)))).toEqual([
        { reason: 'release notes reviewed' },
        {},
        {},
      ]);
      expect(calls[0].init?.headers).toEqual({
        Accept: 'application/json',
        'Content-Type': 'application/json',
      });
      expect([decided.state, decided.decider]).toEqual([
        verb === ':approve' ? 'approved' : 'denied',
        'user:default/jane',
      ]);
    },
  );

  it.each([
    'services/orders-service',
    'services/orders-service/promotions/',
    'services/../promotions/3',
    'services/orders-service/promotions/..',
    'services/orders-service/promotions/3/../../../x',
    'teams/orders/promotions/3',
    '',
  ])(
    'sends nothing for a decision on %j, which names no promotion',
    async name => {
      const { calls, fetch } = recordingFetch(200, '{}');
      const client = new CairnClient({ baseUrl: 'http://cairn', fetch });
      await expect(client.approvePromotion(name)).rejects.toThrow(
        "not a promotion's name",
      );
      await expect(client.denyPromotion(name)).rejects.toThrow(
        "not a promotion's name",
      );
      expect(calls).toEqual([]);
    },
  );

  it('escapes each part of a promotion name in the path', async () => {
    const { calls, fetch } = recordingFetch(200, '{}');
    await new CairnClient({ baseUrl: 'http://cairn', fetch }).approvePromotion(
      'services/orders service/promotions/3?x=1',
    );
    expect(calls[0].url).toBe(
      'http://cairn/v1/services/orders%20service/promotions/3%3Fx%3D1:approve',
    );
  });

  it("reads Cairn's refusal of a decision: its message, code and reason", async () => {
    const { fetch } = recordingFetch(
      403,
      JSON.stringify({
        code: 7,
        message: 'a promotion is decided by someone other than its requester',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'OWN_REQUEST',
            domain: 'cairn.dev',
          },
        ],
      }),
    );
    const error = await new CairnClient({ baseUrl: 'http://cairn', fetch })
      .approvePromotion('services/orders-service/promotions/3', {
        reason: 'mine',
      })
      .catch(e => e);
    expect(error).toBeInstanceOf(CairnError);
    expect(error).toMatchObject({
      message: 'a promotion is decided by someone other than its requester',
      status: 403,
      code: 7,
      reason: 'OWN_REQUEST',
      source: 'cairn',
      transient: false,
    });
  });

  it("reads Cairn's error, its reason and every field violation", async () => {
    const { fetch } = recordingFetch(
      400,
      JSON.stringify({
        code: 3,
        message: 'invalid request: check name, owner',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'INVALID_ARGUMENT',
            domain: 'cairn.dev',
          },
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [
              { field: 'name', description: 'must be a DNS-1123 label' },
              { field: 'owner', description: 'is required' },
            ],
          },
        ],
      }),
    );
    const client = new CairnClient({ baseUrl: 'http://cairn', fetch });
    const error = await client
      .createService({ name: 'Bad', owner: '' })
      .catch(e => e);
    expect(error).toBeInstanceOf(CairnError);
    expect(error).toMatchObject({
      message: 'invalid request: check name, owner',
      status: 400,
      code: 3,
      reason: 'INVALID_ARGUMENT',
      fieldViolations: [
        { field: 'name', description: 'must be a DNS-1123 label' },
        { field: 'owner', description: 'is required' },
      ],
    });
  });

  it('tells an unknown service from other failures', async () => {
    const notFound = recordingFetch(
      404,
      JSON.stringify({
        code: 5,
        message: 'service "x" not found',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'SERVICE_NOT_FOUND',
          },
        ],
      }),
    );
    const error = await new CairnClient({
      baseUrl: 'http://cairn',
      fetch: notFound.fetch,
    })
      .getServiceStatus('x')
      .catch(e => e);
    expect(isServiceNotFound(error)).toBe(true);

    const proxyDown = recordingFetch(502, '<html>Bad Gateway</html>');
    const proxyError = await new CairnClient({
      baseUrl: 'http://cairn',
      fetch: proxyDown.fetch,
    })
      .getServiceStatus('x')
      .catch(e => e);
    expect(isServiceNotFound(proxyError)).toBe(false);
    expect(proxyError).toMatchObject({
      source: 'proxy',
      status: 502,
      code: undefined,
      message: 'HTTP 502 Error, not from Cairn: <html>Bad Gateway</html>',
    });
  });

  it("reads Backstage's own error body when the proxy answers instead of Cairn", async () => {
    const { fetch } = recordingFetch(
      401,
      JSON.stringify({
        error: { name: 'AuthenticationError', message: 'Missing credentials' },
        request: { method: 'GET', url: '/api/proxy/cairn/v1/services/x/cost' },
        response: { statusCode: 401 },
      }),
    );
    const error = await new CairnClient({ baseUrl: 'http://backstage', fetch })
      .getServiceCost('x')
      .catch(e => e);
    expect(error).toMatchObject({
      source: 'proxy',
      status: 401,
      message:
        'HTTP 401 Error, not from Cairn: AuthenticationError: Missing credentials',
      transient: false,
    });
  });

  it('gives up after its timeout, aborting the request', async () => {
    let seen: AbortSignal | undefined;
    const hanging = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        seen = init?.signal ?? undefined;
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('aborted', 'AbortError')),
        );
      });
    const error = await new CairnClient({
      baseUrl: 'http://cairn',
      fetch: hanging,
      timeoutMs: 50,
    })
      .getServiceStatus('orders-service')
      .catch(e => e);
    expect(seen?.aborted).toBe(true);
    expect(error).toBeInstanceOf(CairnError);
    expect(error).toMatchObject({
      source: 'timeout',
      status: 0,
      transient: true,
      message:
        'No answer from http://cairn/v1/services/orders-service/status within 0.1 s',
    });
  });

  it("rejects with the caller's reason when the caller cancels", async () => {
    const hanging = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () =>
          reject(init.signal!.reason),
        );
      });
    const controller = new AbortController();
    const call = new CairnClient({ baseUrl: 'http://cairn', fetch: hanging })
      .getServiceDora('orders-service', { signal: controller.signal })
      .catch(e => e);
    controller.abort(new Error('the card went away'));
    expect(await call).toEqual(new Error('the card went away'));
  });

  it('tells no answer at all from an answer', async () => {
    const error = await new CairnClient({
      baseUrl: 'http://cairn',
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    })
      .getServiceCost('orders-service')
      .catch(e => e);
    expect(error).toMatchObject({
      source: 'network',
      status: 0,
      transient: true,
      message:
        'No answer from http://cairn/v1/services/orders-service/cost: Failed to fetch',
    });
  });
});

describe('CairnError.transient', () => {
  it.each([
    [{ status: 503, code: 14 }, true],
    [{ status: 500, code: 13 }, true],
    [{ status: 429, code: 8 }, true],
    [{ status: 403, code: 7 }, false],
    [{ status: 404, code: 5 }, false],
    [{ status: 501, code: 12 }, false],
    [{ status: 502 }, true],
    [{ status: 504 }, true],
    [{ status: 501 }, false],
    [{ status: 401 }, false],
    [{ status: 403 }, false],
  ])('%j is transient: %s', (answer, transient) => {
    expect(new CairnError({ message: 'x', ...answer }).transient).toBe(
      transient,
    );
  });
});
