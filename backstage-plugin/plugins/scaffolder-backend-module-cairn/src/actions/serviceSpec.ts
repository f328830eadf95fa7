import type { CreateServiceRequest } from '@cairn-dev/plugin-cairn-common';
import type { z as zod } from 'zod/v3';

type Z = typeof zod;

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
      .array(z.enum(['staging', 'production']))
      .default(['staging', 'production'])
      .describe('The environments to deploy to, each an Argo CD Application'),
  repositoryUrl: (z: Z) =>
    z.string().describe("The service's Git repository, as Argo CD clones it"),
  replicaCount: (z: Z) =>
    z.number().int().positive().optional().describe('Replicas in production'),
};

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
