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
    expect(proxyError.message).toBe(
      'Cairn could not be reached: HTTP 502 Error: <html>Bad Gateway</html>',
    );
  });
});
