/** A field Cairn refused, from its google.rpc.BadRequest. @public */
export type FieldViolation = { field: string; description: string };

/**
 * An error answer from Cairn (or from whatever stands between, such as
 * Backstage's proxy): the HTTP status and, when Cairn answered, its
 * canonical gRPC code, its ErrorInfo reason and every field violation.
 *
 * @public
 */
export class CairnError extends Error {
  readonly name = 'CairnError';
  readonly status: number;
  /** The canonical gRPC code, such as 5 for NOT_FOUND; undefined if Cairn did not answer. */
  readonly code?: number;
  /** The ErrorInfo reason, such as SERVICE_NOT_FOUND. */
  readonly reason?: string;
  readonly fieldViolations: FieldViolation[];

  constructor(options: {
    message: string;
    status: number;
    code?: number;
    reason?: string;
    fieldViolations?: FieldViolation[];
  }) {
    super(options.message);
    this.status = options.status;
    this.code = options.code;
    this.reason = options.reason;
    this.fieldViolations = options.fieldViolations ?? [];
  }

  /** Reads Cairn's error body (a google.rpc.Status as JSON) from a response that is not ok. */
  static async fromResponse(response: Response): Promise<CairnError> {
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!isStatus(body)) {
      const excerpt = text.trim().slice(0, 200);
      return new CairnError({
        message: `Cairn could not be reached: HTTP ${response.status} ${response.statusText}${
          excerpt ? `: ${excerpt}` : ''
        }`,
        status: response.status,
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
