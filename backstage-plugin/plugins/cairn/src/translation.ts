import { createTranslationRef } from '@backstage/frontend-plugin-api';

/**
 * The words on Cairn's cards, in English. An app translates or rewords them
 * with `createTranslationMessages({ ref: cairnTranslationRef, ... })`.
 * Argo CD's own words (Synced, Healthy, ...) and the names Cairn gives
 * resources are shown as they come.
 *
 * @alpha
 */
export const cairnTranslationRef = createTranslationRef({
  id: 'cairn',
  messages: {
    read: {
      retry: 'Retry',
      retryAt: 'Trying again by itself at {{time}}.',
      lastAnswer: 'Showing what Cairn answered at {{time}}.',
    },
    error: {
      notKnownTitle: 'This entity is not known to Cairn',
      notKnownMessage:
        'Cairn has no service named "{{service}}". Register its catalog-info.yaml with Cairn, create it from a Cairn software template, or set the cairn.dev/service annotation to its name in Cairn.',
      permissionDenied: 'You are not allowed to read this from Cairn',
      unauthenticated: 'Cairn did not accept your credentials',
      unavailable: 'Cairn is unavailable',
      timeout: 'Cairn did not answer in time',
      network: 'No answer came from Backstage',
      networkHint:
        'The browser got no answer at all: Backstage or the network may be down.',
      proxyUnauthenticated: 'Backstage did not accept your sign-in',
      proxyUnauthenticatedHint:
        'Backstage answered this request itself, before it reached Cairn. Signing in again usually helps.',
      proxyForbidden: 'Backstage refused the request to Cairn',
      proxyForbiddenHint:
        "Backstage answered this request itself, before it reached Cairn: its proxy to Cairn does not allow it. Whoever runs Backstage can check the proxy's /cairn endpoint.",
      proxyNotFound: 'Backstage has no proxy to Cairn',
      proxyNotFoundHint:
        "The app's configuration needs a proxy endpoint /cairn in front of Cairn.",
      proxyGateway: "Backstage's proxy in front of Cairn failed",
      proxyGatewayHint:
        'The proxy answered for Cairn: Cairn may be down, or the proxy may point at the wrong address.',
      proxyOther: 'Something between Backstage and Cairn answered instead',
    },
    cost: {
      title: 'Cost',
      loadFailed: 'Could not load the cost from Cairn',
      month: 'Month',
      updated: '{{month}}, updated {{time}}',
      neverUpdated: '{{month}}, never updated',
      total: 'Total this month',
      againstLastMonth: '{{change}} against last month ({{previous}})',
      noCostLastMonth: 'No cost last month',
      billedEstimated: 'Billed {{billed}} · Estimated {{estimated}}',
      emptyTitle: 'No cost for {{month}}',
      emptyDescription:
        'Cairn has no billing data for this service this month, and no infrastructure of it to estimate.',
      byResource: 'Cost by resource',
      resource: 'Resource',
      type: 'Type',
      source: 'Source',
      thisMonth: 'This month',
      trend: 'Trend',
      billed: 'Billed',
      estimated: 'Estimated',
      up: 'Up',
      down: 'Down',
      stable: 'Stable',
    },
    status: {
      title: 'Provisioning',
      loadFailed: 'Could not load the provisioning status from Cairn',
      refreshing: 'Refreshing every {{seconds}} s while provisioning',
      noneTitle: 'No infrastructure provisioned by Cairn',
      noneDescription:
        "Cairn has provisioned nothing for this service. Its infrastructure is made by a software template that uses Cairn's actions.",
      staleTitle: 'Cairn has lost its watch on the cluster',
      staleMessage:
        'This status is the last one Cairn saw and may be out of date.',
      staleRow: 'stale',
      staleRowHint:
        "Cairn has lost its watch on this row's cluster: it may be out of date",
      phase: 'Phase',
      readyAfter: 'Ready {{duration}} after it was requested',
      environments: 'Environments',
      noApplication: 'No Argo CD Application yet.',
      environment: 'Environment',
      cluster: 'Cluster',
      sync: 'Sync',
      health: 'Health',
      awaitingPromotion: 'Awaiting promotion',
      revision: 'Revision',
      lastDeploy: 'Last deploy',
      argoCd: 'Argo CD',
      openInArgoCd: 'Open {{application}} in Argo CD',
      never: 'Never',
      infrastructure: 'Infrastructure',
      noInfrastructure: 'No database or bucket requested.',
      resource: 'Resource',
      kind: 'Kind',
      shared: 'Shared',
      ready: 'Ready',
      notReady: 'Not ready',
      phases: {
        ready: 'Ready',
        provisioning: 'Provisioning',
        pending: 'Pending',
        degraded: 'Degraded',
        failed: 'Failed',
        unknown: 'Unknown',
      },
    },
    promotions: {
      title: 'Promotions',
      loadFailed: 'Could not load the promotions from Cairn',
      emptyTitle: 'No promotions yet',
      emptyDescription:
        "Nothing has been promoted for this service. A promotion is requested with the Promote to Production template, Cairn's CLI or its API.",
      pending: 'Awaiting a decision',
      nonePending: 'No promotion awaits a decision.',
      decided: 'Decided',
      noneDecided: 'No promotion has been decided yet.',
      revision: 'Revision',
      environment: 'Environment',
      requester: 'Requested by',
      requested: 'Requested',
      decision: 'Decision',
      state: 'State',
      decider: 'Decided by',
      reason: 'Reason',
      decideTime: 'Decided',
      rollback: 'Rollback',
      rollbackHint:
        'The environment ran this revision before: the promotion rolls it back',
      reasonField: 'Reason (optional)',
      approve: 'Approve',
      deny: 'Deny',
      ownRequest:
        'You requested this promotion: an approver of the team other than you decides it.',
      notDecider:
        "Only an approver of the service's team other than the requester decides this promotion.",
      approvedBy: 'Approved by {{decider}}',
      deniedBy: 'Denied by {{decider}}',
      refused: 'Cairn refused the decision',
      refusalReason: "Cairn's reason: {{reason}}",
      decideFailed: 'The decision did not reach Cairn',
      proxyMethodHint:
        "Backstage's proxy to Cairn may take only reads: its /cairn endpoint needs allowedMethods: ['GET', 'POST'] for the card's decisions.",
      showOlder: 'Show older promotions',
      bounded:
        'Showing the newest {{count}} promotions; `cairn promotion list {{service}}` lists every one.',
      states: {
        pending: 'Pending',
        approved: 'Approved',
        denied: 'Denied',
      },
      evidence: {
        label: 'Evidence for the approver',
        cost: 'Cost: {{change}} a month ({{basis}})',
        teamSpend:
          'Team this month: {{spent}} spent, {{projected}} projected to month end',
        ofBudget: 'of a {{budget}} budget',
        overBudget: 'over budget',
        spendUnknown: 'Team this month: unknown ({{reason}})',
        failureRate:
          'Change failure rate, last 30 days: {{rate}} of {{count}} deployments',
        noDeployments:
          'Change failure rate, last 30 days: no deployments to compute it from',
        openIncidents: 'Open incidents on {{revision}}: {{incidents}}',
        missing: 'No evidence: {{reason}}',
      },
    },
    dora: {
      title: 'DORA metrics',
      loadFailed: 'Could not load DORA metrics from Cairn',
      lastDays: 'Last {{days}} days',
      emptyTitle: 'No deployments to measure',
      emptyDescription:
        'Cairn has recorded no production deployment or incident of this service in this window. Deployments arrive from Argo CD and CI.',
      metric: 'Metric',
      value: 'Value',
      band: 'Band',
      trend: 'Trend',
      deploymentFrequency: 'Deployment frequency',
      leadTimeForChanges: 'Lead time for changes',
      changeFailureRate: 'Change failure rate',
      timeToRestore: 'Time to restore',
      nothingToMeasure: 'Nothing to measure',
      costRegressionRate: 'Cost regression rate',
      costRegressionsJudged: '{{regressions}} of {{judged}} judged changes',
      costRegressionsNoChanges: 'No production change in the window',
      costRegressionsNoVerdicts:
        'No verdict yet: a change is judged once its days after have passed and are billed',
      nothingToCompare: 'Nothing to compare with',
      unchanged: 'Unchanged',
      from: 'from {{value}}',
      perDay: '{{value}} per day',
      perWeek: '{{value}} per week',
      bands: {
        elite: 'Elite',
        high: 'High',
        medium: 'Medium',
        low: 'Low',
      },
      frequencyClasses: {
        daily: 'daily',
        weekly: 'weekly',
        monthly: 'monthly',
        yearly: 'yearly',
      },
      openList: '{{metric}}: {{value}}, show what it is counted from',
      list: {
        deploymentsTitle: 'Production deployments behind {{metric}}',
        incidentsTitle: 'Incidents behind {{metric}}',
        deploymentsLoadFailed: 'Could not load the deployments from Cairn',
        incidentsLoadFailed: 'Could not load the incidents from Cairn',
        none: 'None in this window',
        deploymentsNote:
          'At most the newest {{size}} of the window; {{command}} lists every one.',
        incidentsNote:
          'At most the newest {{size}} of the window; {{command}} lists every one.',
        revision: 'Revision',
        status: 'Status',
        finished: 'Finished',
        leadTime: 'Lead time',
        incidents: 'Incidents',
        medianOf: '{{value}} (median of {{commits}} commits)',
        noIncidents: 'None',
        changeFailure: 'Change failure',
        statuses: {
          succeeded: 'Succeeded',
          failed: 'Failed',
        },
        incident: 'Incident',
        opened: 'Opened',
        resolved: 'Resolved',
        stillOpen: 'Open',
        restoreTime: 'Time to restore',
        chargedTo: 'Charged to',
        chargedHow: '{{revision}} ({{how}})',
        notCharged: 'None',
        links: {
          named: 'named',
          inferred: 'inferred',
          corrected: 'corrected',
        },
      },
    },
  },
});
