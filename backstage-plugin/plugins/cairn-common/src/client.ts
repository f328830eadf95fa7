import type { paths } from './generated/cairn';
import { CairnError } from './errors';
import type {
  CostEstimate,
  CreateServiceRequest,
  CreateServiceResponse,
  DoraMetrics,
  ListDeploymentsResponse,
  ListIncidentsResponse,
  ListPromotionsResponse,
  Promotion,
  PromotionPath,
  ServiceCost,
  ServiceStatus,
} from './types';

/** The fetch the client calls: the platform's, Backstage's fetchApi.fetch, or a wrapper. @public */
export type FetchFunction = (
  input: string,
  init?: RequestInit,
) => Promise<Response>;

/** @public */
export type CairnClientOptions = {
  /**
   * Cairn's REST base URL without a trailing slash, such as
   * `http://cairn:8080` or Backstage's `.../api/proxy/cairn`; a function is
   * called before every request, as Backstage's discovery may move.
   */
  baseUrl: string | (() => Promise<string>);
  fetch?: FetchFunction;
  /** A bearer token for Cairn, when the caller talks to Cairn directly rather than through Backstage's proxy. */
  token?: string;
  /**
   * How long to wait for an answer, in milliseconds, before giving up with a
   * CairnError whose source is `timeout`; 30 seconds by default.
   */
  timeoutMs?: number;
};

/** What every call takes besides its own options. @public */
export type CairnRequestOptions = {
  /** Cancels the request; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
};

const defaultTimeoutMs = 30_000;

type Method = 'get' | 'post';

// The parts of an operation in the generated types: the 200 response's
// JSON, the request body's JSON and the query parameters.
type ResponseOf<Op> = Op extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : never;
type BodyOf<Op> = Op extends {
  requestBody: { content: { 'application/json': infer T } };
}
  ? T
  : never;
type QueryOf<Op> = Op extends { parameters: { query?: infer Q } } ? Q : never;

type Operation<P extends keyof paths, M extends Method> = paths[P][M];

/**
 * A typed client of the parts of Cairn's REST API that Backstage uses. Paths
 * and JSON types come from the types generated from Cairn's OpenAPI
 * document, so a change on the server that the plugin does not follow fails
 * to compile.
 *
 * @public
 */
export class CairnClient {
  private readonly baseUrl: () => Promise<string>;
  private readonly fetchFn: FetchFunction;
  private readonly token?: string;
  private readonly timeoutMs: number;

  constructor(options: CairnClientOptions) {
    const baseUrl = options.baseUrl;
    this.baseUrl = typeof baseUrl === 'string' ? async () => baseUrl : baseUrl;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** A service's cost for a month (`YYYY-MM`), the current month by default. */
  getServiceCost(
    service: string,
    options: { month?: string } & CairnRequestOptions = {},
  ): Promise<ServiceCost> {
    return this.request('get', '/v1/{name}/cost', {
      name: serviceName(service),
      query: { month: options.month },
      signal: options.signal,
    });
  }

  /** A service's provisioning status. */
  getServiceStatus(
    service: string,
    options: CairnRequestOptions = {},
  ): Promise<ServiceStatus> {
    return this.request('get', '/v1/{name}/status', {
      name: serviceName(service),
      signal: options.signal,
    });
  }

  /** A service's DORA metrics over a window such as `30d` (Cairn's default). */
  getServiceDora(
    service: string,
    options: { window?: string } & CairnRequestOptions = {},
  ): Promise<DoraMetrics> {
    return this.request('get', '/v1/{name}/dora', {
      name: serviceName(service),
      query: { window: options.window },
      signal: options.signal,
    });
  }

  /**
   * A page of a service's deployments, newest finish first, each with its
   * commits and their lead times and the incidents charged to it: what the
   * DORA figures are counted from. Filters: `environment`, `status`
   * (`succeeded` or `failed`) and a finish range `[finishedAfter,
   * finishedBefore)` (RFC 3339 times; Cairn's default is the 30 days before
   * now). Cairn returns 50 when no `pageSize` is given, at most 100, and
   * `nextPageToken` is empty on the last page.
   */
  listDeployments(
    service: string,
    options: {
      environment?: string;
      status?: string;
      finishedAfter?: string;
      finishedBefore?: string;
      pageSize?: number;
      pageToken?: string;
    } & CairnRequestOptions = {},
  ): Promise<ListDeploymentsResponse> {
    return this.request('get', '/v1/{parent}/deployments', {
      parent: serviceName(service),
      query: {
        environment: options.environment,
        status: options.status,
        finishedAfter: options.finishedAfter,
        finishedBefore: options.finishedBefore,
        pageSize: options.pageSize,
        pageToken: options.pageToken,
      },
      signal: options.signal,
    });
  }

  /**
   * A page of a service's incidents, newest opening first, each with the
   * deployment it is charged to and how (`link`: `named`, `inferred`,
   * `corrected`, or empty for none). Filters: `state` (`open` or
   * `resolved`) and an opening range `[openedAfter, openedBefore)`; paged
   * as listDeployments.
   */
  listIncidents(
    service: string,
    options: {
      state?: string;
      openedAfter?: string;
      openedBefore?: string;
      pageSize?: number;
      pageToken?: string;
    } & CairnRequestOptions = {},
  ): Promise<ListIncidentsResponse> {
    return this.request('get', '/v1/{parent}/incidents', {
      parent: serviceName(service),
      query: {
        state: options.state,
        openedAfter: options.openedAfter,
        openedBefore: options.openedBefore,
        pageSize: options.pageSize,
        pageToken: options.pageToken,
      },
      signal: options.signal,
    });
  }

  /**
   * The promotion path, its environments in order, as the platform team
   * configured it: the names a create's environments may take and where
   * promotions go. Any caller Cairn accepts may read it.
   */
  listEnvironments(options: CairnRequestOptions = {}): Promise<PromotionPath> {
    return this.request('get', '/v1/environments', { signal: options.signal });
  }

  /** Records a service and provisions its infrastructure; the same requestId again returns the first answer. */
  createService(request: CreateServiceRequest): Promise<CreateServiceResponse> {
    return this.request('post', '/v1/services', { body: request });
  }

  /** The monthly cost of a planned create, changing nothing. */
  estimateServiceCost(request: CreateServiceRequest): Promise<CostEstimate> {
    return this.request('post', '/v1/services:estimateCost', { body: request });
  }

  /**
   * Asks for a revision of a service to be deployed into an environment;
   * without one, into the service's one environment that takes promotions
   * (production on the default path). The answer says which environment
   * Cairn recorded and whether the promotion is a rollback.
   *
   * There is no `force`: Backstage acts as the signed-in user, and an admin
   * who must promote past the promotion path's rule does so with Cairn's API
   * or CLI.
   */
  createPromotion(
    service: string,
    options: { revision: string; environment?: string; requestId?: string },
  ): Promise<Promotion> {
    return this.request('post', '/v1/{parent}/promotions', {
      parent: serviceName(service),
      body: {
        promotion: {
          revision: options.revision,
          environment: options.environment || undefined,
        },
        requestId: options.requestId,
      },
    });
  }

  /**
   * A page of a service's promotions, newest first, each saying whether the
   * caller may decide it (`callerCanDecide`); Cairn returns 50 when no
   * `pageSize` is given, and `nextPageToken` is empty on the last page.
   */
  listPromotions(
    service: string,
    options: {
      pageSize?: number;
      pageToken?: string;
    } & CairnRequestOptions = {},
  ): Promise<ListPromotionsResponse> {
    return this.request('get', '/v1/{parent}/promotions', {
      parent: serviceName(service),
      query: { pageSize: options.pageSize, pageToken: options.pageToken },
      signal: options.signal,
    });
  }

  /**
   * Approves a pending promotion, by its name
   * (`services/{service}/promotions/{id}`, as listPromotions gives it), and
   * syncs its environment to its revision. Cairn refuses the requester
   * (PERMISSION_DENIED, reason OWN_REQUEST), anyone but an approver of the
   * service's team, and a promotion decided already (FAILED_PRECONDITION,
   * PROMOTION_DECIDED). The answer is the decided promotion.
   */
  async approvePromotion(
    promotion: string,
    options: { reason?: string } = {},
  ): Promise<Promotion> {
    return this.request('post', '/v1/{name}:approve', {
      name: promotionName(promotion),
      body: { reason: options.reason || undefined },
    });
  }

  /** Denies a pending promotion, by its name, as approvePromotion approves one. */
  async denyPromotion(
    promotion: string,
    options: { reason?: string } = {},
  ): Promise<Promotion> {
    return this.request('post', '/v1/{name}:deny', {
      name: promotionName(promotion),
      body: { reason: options.reason || undefined },
    });
  }

  private async request<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    params: {
      name?: string;
      parent?: string;
      query?: QueryOf<Operation<P, M>>;
      body?: BodyOf<Operation<P, M>>;
      signal?: AbortSignal;
    },
  ): Promise<ResponseOf<Operation<P, M>>> {
    // Resource names (`services/orders`) fill whole path templates: their
    // slash is part of the path, the name inside it is escaped.
    const resolved = String(path)
      .replace('{name}', params.name ?? '')
      .replace('{parent}', params.parent ?? '');
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params.query ?? {})) {
      if (value !== undefined && value !== '') {
        query.set(key, String(value));
      }
    }
    const url = `${await this.baseUrl()}${resolved}${
      query.size ? `?${query}` : ''
    }`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (params.body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (this.token) {
      headers.Authorization = `Bearer ${this.token}`;
    }
    // One signal for the caller's cancel and for the timeout, which covers
    // the whole exchange, the body included.
    const caller = params.signal;
    caller?.throwIfAborted();
    const controller = new AbortController();
    const cancel = () => controller.abort(caller?.reason);
    caller?.addEventListener('abort', cancel);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const response = await this.fetchFn(url, {
        method: method.toUpperCase(),
        headers,
        body:
          params.body === undefined ? undefined : JSON.stringify(params.body),
        signal: controller.signal,
      });
      if (!response.ok) {
        throw await CairnError.fromResponse(response);
      }
      return (await response.json()) as ResponseOf<Operation<P, M>>;
    } catch (error) {
      if (error instanceof CairnError) {
        throw error;
      }
      if (timedOut) {
        throw new CairnError({
          message: `No answer from ${url} within ${formatSeconds(
            this.timeoutMs,
          )}`,
          status: 0,
          source: 'timeout',
          cause: error,
        });
      }
      if (caller?.aborted) {
        throw caller.reason;
      }
      // fetch rejects with a TypeError when no answer came at all.
      if (error instanceof TypeError) {
        throw new CairnError({
          message: `No answer from ${url}: ${error.message}`,
          status: 0,
          source: 'network',
          cause: error,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', cancel);
    }
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The resource name of a service, `services/{service}`, escaped for a path. */
function serviceName(service: string): string {
  return `services/${encodeURIComponent(service)}`;
}

/**
 * A promotion's resource name, `services/{service}/promotions/{id}`, each
 * part escaped for a path; anything else is refused before it is sent, so
 * that a name cannot reach another of Cairn's paths.
 */
function promotionName(name: string): string {
  const parts = name.split('/');
  if (
    parts.length !== 4 ||
    parts[0] !== 'services' ||
    parts[2] !== 'promotions' ||
    [parts[1], parts[3]].some(part => ['', '.', '..'].includes(part))
  ) {
    throw new TypeError(
      `not a promotion's name, services/{service}/promotions/{id}: ${JSON.stringify(
        name,
      )}`,
    );
  }
  return `services/${encodeURIComponent(parts[1])}/promotions/${encodeURIComponent(parts[3])}`;
}
