import type { CreateServiceRequest } from '@cairn-dev/plugin-cairn-common';
import type { z as zod } from 'zod/v3';

type Z = typeof zod;

/**
 * An environment's name, as Cairn's promotion path takes it: a DNS-1123
 * label (at most 63 characters, checked beside it).
 */
const environmentName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// The fields of a planned service, shared by the create and estimate
// actions: the body Cairn's CreateService takes, as a template fills it.
export const serviceSpecInput = {
  name: (z: Z) =>
    z
      .string()
      .describe(
        "The service's name: its Backstage metadata.name, a DNS-1123 label of at most 40 characters",
      ),
  owner: (z: Z) =>
    z
      .string()
      .describe(
        'The owning team, as a Backstage reference (group:default/team-orders) or a team name',
      ),
  description: (z: Z) =>
    z.string().optional().describe('What the service does'),
  template: (z: Z) =>
    z
      .string()
      .optional()
      .describe('The golden-path template the service is made from'),
  database: (z: Z) =>
    z
      .enum(['none', 'postgresql', 'mysql', 'redis', 'mongodb'])
      .default('none')
      .describe('The database engine to provision, or none'),
  databaseSize: (z: Z) =>
    z
      .enum(['small', 'medium', 'large'])
      .default('small')
      .describe('The database size class'),
  bucket: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe('Whether to provision an object storage bucket'),
  environments: (z: Z) =>
    z
      .array(
        z
          .string()
          .max(63)
          .regex(
            environmentName,
            'must be a DNS-1123 label: lower-case letters, digits and hyphens, starting and ending with a letter or digit',
          ),
      )
      .min(1)
      .max(16)
      .refine(names => new Set(names).size === names.length, {
        message: 'names an environment more than once',
      })
      .default(['staging', 'production'])
      .describe(
        "The environments to deploy to, each an Argo CD Application: names of the promotion path the platform team configured (staging and production unless it says otherwise), 1 to 16 of them, each once. Cairn checks them against its path and refuses any other, naming the path's environments (cairn environment list and GET /v1/environments list them too)",
      ),
  repositoryUrl: (z: Z) =>
    z.string().describe("The service's Git repository, as Argo CD clones it"),
  replicaCount: (z: Z) =>
    z.number().int().positive().optional().describe('Replicas in production'),
};

/**
 * The scaffolder checks a step's input against the JSON Schema it makes of
 * the zod schema above, and that conversion has no word for unique items (the
 * refine does not reach it): this adds it to an action made with
 * serviceSpecInput, so that a template naming an environment twice fails
 * before Cairn is called.
 */
export function withUniqueEnvironments<
  A extends {
    schema?: {
      input?: { properties?: Record<string, { uniqueItems?: boolean }> };
    };
  },
>(action: A): A {
  const environments = action.schema?.input?.properties?.environments;
  if (environments) {
    environments.uniqueItems = true;
  }
  return action;
}

export type ServiceSpec = {
  name: string;
  owner: string;
  description?: string;
  template?: string;
  database: string;
  databaseSize: string;
  bucket: boolean;
  environments: string[];
  repositoryUrl: string;
  replicaCount?: number;
};

export function createRequest(spec: ServiceSpec): CreateServiceRequest {
  return {
    name: spec.name,
    owner: spec.owner,
    description: spec.description,
    template: spec.template,
    database: spec.database === 'none' ? undefined : spec.database,
    databaseSize: spec.database === 'none' ? undefined : spec.databaseSize,
    bucket: spec.bucket,
    environments: spec.environments,
    repositoryUrl: spec.repositoryUrl,
    replicaCount: spec.replicaCount,
  };
}

/** The catalog entity the service becomes: what the template's links point at. */
export function entityRef(name: string, namespace = 'default'): string {
  return `component:${namespace}/${name}`;
}
