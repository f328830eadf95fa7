package server

import (
	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/auth"
)

// rule is what it takes to call one RPC.
type rule struct {
	// role is the least role allowed to call it; admin may call everything.
	role auth.Role
	// mutating calls change something: each leaves one audit event, allowed
	// or denied.
	mutating bool
}

// rules is Cairn's authorization table: every RPC of its API, with the role
// it needs. An RPC missing here is denied to everyone, and a test fails.
//
// Roles are checked here; teams are checked by the domain packages, which
// know which team a target belongs to: a developer changes only services of
// their own teams, and an approver decides only their own teams' promotions
// (never their own request).
var rules = map[string]rule{
	cairnv1.CatalogService_RegisterService_FullMethodName: {role: auth.RoleDeveloper, mutating: true},
	cairnv1.CatalogService_GetService_FullMethodName:      {role: auth.RoleViewer},
	cairnv1.CatalogService_ListServices_FullMethodName:    {role: auth.RoleViewer},
	cairnv1.CatalogService_DeleteService_FullMethodName:   {role: auth.RoleDeveloper, mutating: true},
	cairnv1.CatalogService_ListTeams_FullMethodName:       {role: auth.RoleViewer},

	cairnv1.ProvisioningService_CreateService_FullMethodName:         {role: auth.RoleDeveloper, mutating: true},
	cairnv1.ProvisioningService_GetServiceStatus_FullMethodName:      {role: auth.RoleViewer},
	cairnv1.ProvisioningService_WatchServiceStatus_FullMethodName:    {role: auth.RoleViewer},
	cairnv1.ProvisioningService_AddServiceResource_FullMethodName:    {role: auth.RoleDeveloper, mutating: true},
	cairnv1.ProvisioningService_RemoveServiceResource_FullMethodName: {role: auth.RoleDeveloper, mutating: true},
	cairnv1.ProvisioningService_CreatePromotion_FullMethodName:       {role: auth.RoleDeveloper, mutating: true},
	cairnv1.ProvisioningService_ListPromotions_FullMethodName:        {role: auth.RoleViewer},
	cairnv1.ProvisioningService_ApprovePromotion_FullMethodName:      {role: auth.RoleApprover, mutating: true},
	cairnv1.ProvisioningService_DenyPromotion_FullMethodName:         {role: auth.RoleApprover, mutating: true},
	cairnv1.ProvisioningService_ListEnvironments_FullMethodName:      {role: auth.RoleViewer},

	cairnv1.CostService_GetServiceCost_FullMethodName:         {role: auth.RoleViewer},
	cairnv1.CostService_GetServiceDailyCost_FullMethodName:    {role: auth.RoleViewer},
	cairnv1.CostService_GetTeamCost_FullMethodName:            {role: auth.RoleViewer},
	cairnv1.CostService_GetTeamDailyCost_FullMethodName:       {role: auth.RoleViewer},
	cairnv1.CostService_EstimateServiceCost_FullMethodName:    {role: auth.RoleViewer},
	cairnv1.CostService_ImportFocusCsv_FullMethodName:         {role: auth.RoleAdmin, mutating: true},
	cairnv1.CostService_ListCostAnomalies_FullMethodName:      {role: auth.RoleViewer},
	cairnv1.CostService_GetTeamBudget_FullMethodName:          {role: auth.RoleViewer},
	cairnv1.CostService_UpdateTeamBudget_FullMethodName:       {role: auth.RoleAdmin, mutating: true},
	cairnv1.CostService_ListDailyCostAnomalies_FullMethodName: {role: auth.RoleViewer},
	cairnv1.CostService_ListTemplateLedgers_FullMethodName:    {role: auth.RoleViewer},
	cairnv1.CostService_ListCostRegressions_FullMethodName:    {role: auth.RoleViewer},

	// Deployment, incident and ticket events come from CI, Argo CD and
	// incident tools with tokens of the developer role.
	cairnv1.MetricsService_RecordDeployment_FullMethodName:    {role: auth.RoleDeveloper, mutating: true},
	cairnv1.MetricsService_RecordIncident_FullMethodName:      {role: auth.RoleDeveloper, mutating: true},
	cairnv1.MetricsService_ResolveIncident_FullMethodName:     {role: auth.RoleDeveloper, mutating: true},
	cairnv1.MetricsService_RecordSupportTicket_FullMethodName: {role: auth.RoleDeveloper, mutating: true},
	cairnv1.MetricsService_GetServiceDora_FullMethodName:      {role: auth.RoleViewer},
	cairnv1.MetricsService_GetTeamDora_FullMethodName:         {role: auth.RoleViewer},
	cairnv1.MetricsService_GetOrganizationDora_FullMethodName: {role: auth.RoleViewer},
	cairnv1.MetricsService_GetPlatformMetrics_FullMethodName:  {role: auth.RoleViewer},
	// The drill-down reads like the DORA figures; a correction of an
	// incident's charge changes them, for the service's team only.
	cairnv1.MetricsService_ListDeployments_FullMethodName: {role: auth.RoleViewer},
	cairnv1.MetricsService_ListIncidents_FullMethodName:   {role: auth.RoleViewer},
	cairnv1.MetricsService_LinkIncident_FullMethodName:    {role: auth.RoleDeveloper, mutating: true},

	cairnv1.AuditService_ListAuditEvents_FullMethodName: {role: auth.RoleAdmin},
}

// publicServices answer without authentication, so that probes and
// operators' tools work: health always, reflection while it is enabled.
var publicServices = map[string]bool{
	"grpc.health.v1.Health":                    true,
	"grpc.reflection.v1.ServerReflection":      true,
	"grpc.reflection.v1alpha.ServerReflection": true,
}
