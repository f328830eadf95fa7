/** A field Cairn refused, from its google.rpc.BadRequest. @public */
export type FieldViolation = { field: string; description: string };

/**
 * Who gave the answer that failed: `cairn` when the body is Cairn's
 * google.rpc.Status; `proxy` when something in between answered instead
 * (Backstage's proxy or backend, a gateway); `network` when no answer came;
 * `timeout` when none came in time.
 *
 * @public
 */
export type CairnErrorSource = 'cairn' | 'proxy' | 'network' | 'timeout';

/** Canonical gRPC codes that a client may retry as they are. */
const transientCodes = new Set([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL
  14, // UNAVAILABLE
]);

/**
 * An error answer from Cairn (or from whatever stands between, such as
 * Backstage's proxy), or no answer at all: the HTTP status and, when Cairn
 * answered, its canonical gRPC code, its ErrorInfo reason and every field
 * violation.
 *
 * @public
 */
export class CairnError extends Error {
  readonly name = 'CairnError';
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The canonical gRPC code, such as 5 for NOT_FOUND; undefined if Cairn did not answer. */
  readonly code?: number;
  /** The ErrorInfo reason, such as SERVICE_NOT_FOUND. */
  readonly reason?: string;
  readonly fieldViolations: FieldViolation[];
  readonly source: CairnErrorSource;

  constructor(options: {
    message: string;
    status: number;
    code?: number;
    reason?: string;
    fieldViolations?: FieldViolation[];
    /** By default `cairn` when there is a gRPC code, `proxy` otherwise. */
    source?: CairnErrorSource;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.reason = options.reason;
    this.fieldViolations = options.fieldViolations ?? [];
    this.source =
      options.source ?? (options.code === undefined ? 'proxy' : 'cairn');
  }

  /**
   * Whether the same request may succeed later without anyone changing
   * anything: no answer, a timeout, an overloaded or unavailable server. A
   * refusal (400, 401, 403, 404, 501, ...) stays a refusal.
   */
  get transient(): boolean {
    if (this.source === 'network' || this.source === 'timeout') {
      return true;
    }
    if (this.source === 'cairn' && this.code !== undefined) {
      return transientCodes.has(this.code);
    }
    return (
      this.status === 408 ||
      this.status === 429 ||
      (this.status >= 500 && this.status !== 501)
    );
  }

  /**
   * Reads an answer that is not ok: Cairn's error body (a google.rpc.Status
   * as JSON), or, from whatever answered instead of Cairn, Backstage's error
   * body or the start of the text.
   */
  static async fromResponse(response: Response): Promise<CairnError> {
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!isStatus(body)) {
      const detail = backstageErrorMessage(body) ?? text.trim().slice(0, 200);
      return new CairnError({
        message: `HTTP ${response.status}${
          response.statusText ? ` ${response.statusText}` : ''
        }, not from Cairn${detail ? `: ${detail}` : ''}`,
        status: response.status,
        source: 'proxy',
      });
    }
    let reason: string | undefined;
    const fieldViolations: FieldViolation[] = [];
    for (const detail of body.details ?? []) {
      if (detail['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo') {
        reason = String(detail.reason ?? '');
      }
      if (detail['@type'] === 'type.googleapis.com/google.rpc.BadRequest') {
        for (const v of (detail.fieldViolations ?? []) as FieldViolation[]) {
          fieldViolations.push({ field: v.field, description: v.description });
        }
      }
    }
    return new CairnError({
      message: body.message,
      status: response.status,
      code: body.code,
      reason,
      fieldViolations,
      source: 'cairn',
    });
  }
}

type RpcStatus = {
  code: number;
  message: string;
  details?: Array<Record<string, any>>;
};

function isStatus(body: unknown): body is RpcStatus {
  const b = body as RpcStatus | undefined;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.code === 'number' &&
    typeof b.message === 'string'
  );
}

// Backstage's backend answers errors as {"error": {"name", "message"}, ...}.
function backstageErrorMessage(body: unknown): string | undefined {
  const error = (body as { error?: { name?: unknown; message?: unknown } })
    ?.error;
  if (typeof error?.message !== 'string') {
    return undefined;
  }
  return typeof error.name === 'string'
    ? `${error.name}: ${error.message}`
    : error.message;
}

/** Whether Cairn has no catalog entry for the service. @public */
export function isServiceNotFound(error: unknown): boolean {
  return error instanceof CairnError && error.reason === 'SERVICE_NOT_FOUND';
}

/** Whether the service is known to Cairn but has no infrastructure provisioned by it. @public */
export function isProvisioningNotFound(error: unknown): boolean {
  return (
    error instanceof CairnError && error.reason === 'PROVISIONING_NOT_FOUND'
  );
}
