import type { components } from './generated/cairn';

type Schemas = components['schemas'];

/** A service's cost for a month: the cost card's JSON. @public */
export type ServiceCost = Schemas['v1GetServiceCostResponse'];
/** One resource's share of a service's monthly cost. @public */
export type CostBreakdown = Schemas['v1CostBreakdown'];
/** A service's provisioning status, as Cairn watches it on the cluster. @public */
export type ServiceStatus = Schemas['v1GetServiceStatusResponse'];
/** An environment's Argo CD Application. @public */
export type DeploymentStatus = Schemas['v1DeploymentStatus'];
/** A claim's readiness, from its Crossplane conditions. @public */
export type InfrastructureStatus = Schemas['v1InfrastructureStatus'];
/** The four DORA metrics over a window. @public */
export type DoraMetrics = Schemas['v1DoraMetrics'];
/** One DORA metric over a window. @public */
export type DoraMetric = Schemas['v1DoraMetric'];
/** The share of a window's production changes that were cost regressions. @public */
export type CostRegressionRate = Schemas['v1CostRegressionRate'];
/** The body of a create: what the scaffolder sends. @public */
export type CreateServiceRequest = Schemas['v1CreateServiceRequest'];
/** What Cairn recorded for a create. @public */
export type CreateServiceResponse = Schemas['v1CreateServiceResponse'];
/** The monthly cost of a planned create. @public */
export type CostEstimate = Schemas['v1EstimateServiceCostResponse'];
/** A request to deploy a revision into an environment, with the environment Cairn recorded and whether it is a rollback. @public */
export type Promotion = Schemas['v1Promotion'];
/** A page of a service's promotions, newest first, and the token of the next page. @public */
export type ListPromotionsResponse = Schemas['v1ListPromotionsResponse'];
/** What a promotion's approver is shown of its money and risk, computed when it was requested. @public */
export type PromotionEvidence = Schemas['v1PromotionEvidence'];
/** The promotion path: its environments, in order. @public */
export type PromotionPath = Schemas['v1ListEnvironmentsResponse'];
/** An environment of the promotion path: how it syncs, what it deploys, whether it is production-like. @public */
export type Environment = Schemas['v1Environment'];
/** How an environment takes promotions: from which environment, and whether an approver must decide. @public */
export type EnvironmentPromotion = Schemas['v1EnvironmentPromotion'];
/** A page of a service's deployments, newest finish first, and the token of the next page. @public */
export type ListDeploymentsResponse = Schemas['v1ListDeploymentsResponse'];
/** A recorded deployment, with its commits and the incidents charged to it: what the DORA figures count. @public */
export type DeploymentRecord = Schemas['v1DeploymentRecord'];
/** A commit a deployment shipped, with its lead time. @public */
export type DeployedCommit = Schemas['v1DeployedCommit'];
/** A page of a service's incidents, newest opening first, and the token of the next page. @public */
export type ListIncidentsResponse = Schemas['v1ListIncidentsResponse'];
/** A recorded incident, with the deployment it is charged to and how. @public */
export type IncidentRecord = Schemas['v1IncidentRecord'];
/** The deployment an incident is charged to. @public */
export type ChargedDeployment = Schemas['v1ChargedDeployment'];
