// Package delivery records delivery events (deployments with their commits,
// incidents, support tickets) and computes DORA metrics from them, per
// service, per team and for the organisation, and serves both as
// MetricsService.
//
// # Events
//
// Deployments arrive from CI pipelines and Argo CD, incidents from incident
// tools, tickets from the platform team's ticket system. Each is idempotent
// on its natural key: a deployment on its service, environment, revision and
// start time (to the microsecond), an incident on its service and id, a
// ticket on its team and id (or, for a ticket of no team, on the principal
// recording it and its id), so that one team's ids never shadow another's.
// A repeat reports created false and changes nothing of what was recorded:
// the first report wins; a deployment's repeat only adds the commits not
// recorded with it yet (Argo CD's history carries none, its notifications
// the deployed one). An incident is resolved once, by
// ResolveIncident or by being recorded resolved; resolving it again at the
// same time changes nothing, and at another time is refused
// (FAILED_PRECONDITION), since the first resolution may already be counted.
// A deployment's commits are the commits it newly ships: a commit listed by
// two production deployments counts twice in lead time.
//
// # Definitions
//
// A window is a number of days N ending now: [now-N days, now). The
// previous window, for the trend, is the N days before it. Production is
// every production-like environment of the promotion path (those it marks
// production: on the default path, the one named production), as [New] is
// given them; a production deployment is a deployment to any of them. A
// path that marks none leaves nothing to measure, as no deployments and no
// incidents would. A deployment counts in the window its finish time falls
// in; a team's metrics cover the team's current services in the catalog,
// the organisation's every service in the catalog.
//
//   - Deployment frequency: successful production deployments per day, that
//     is their number divided by N. Its class is Four Keys' (dora-team/fourkeys,
//     METRICS.md, "Calculating the bucket"), computed over the window's UTC
//     days grouped into weeks starting on Sunday: daily when the median
//     number of days with a deployment per week is at least 3; else weekly
//     when the median week has a deployment; else monthly when the median,
//     over the weeks, of the number of weeks with a deployment in the
//     week's month is at least 1; else yearly. Medians interpolate, as
//     PERCENTILE_CONT does.
//   - Lead time for changes: the median, over every commit of every
//     successful production deployment in the window, of the deployment's
//     finish less the commit's time. Deployments without commits count for
//     the other metrics, not this one.
//   - Change failure rate: (failed production deployments + successful
//     production deployments an incident of the service is charged to) /
//     all production deployments in the window. An incident is charged to
//     the deployments of the revision it names as its cause (named); or,
//     naming none, to the service's last successful production deployment
//     that finished within the link window (24 hours by default) before
//     it opened (inferred), whichever of the two was recorded first; or
//     where a person corrected it to (corrected). An incident that names a
//     revision only deployed to other environments, such as staging,
//     counts for nothing; one recorded after the window closed still
//     marks the deployment it is charged to.
//   - Time to restore: the median, over the incidents of the services
//     resolved in the window, of resolution less opening. Incidents still
//     open are left out until they are resolved. A window that cuts an
//     incident counts it whole in the window it was resolved in, however
//     long before that window it opened, and not at all in the window it
//     opened in.
//
// Medians of an even number of values are the mean of the two middle ones.
//
// # Bands
//
// Each metric has the performance level of the DORA 2023 report
// (Accelerate State of DevOps Report 2023, dora.dev, the software delivery
// performance table: elite, high, medium, low). The report describes each
// level by its cluster's typical value, so Cairn reads the levels as the
// ranges between them:
//
//   - Deployment frequency: elite on demand, at least once per day (1/day
//     or more); high between once per day and once per week (1/7 per day or
//     more); medium between once per week and once per month (1/30 per day
//     or more); low less often. (The report gives the low cluster the same
//     range as the medium one; Cairn takes low to be what is slower.)
//   - Lead time for changes: elite less than one day; high between one day
//     and one week; medium between one week and one month (30 days); low
//     longer. (The report's low cluster also says one week to one month.)
//   - Change failure rate: the report's clusters sit at 5%, 10%, 15% and
//     64%; elite up to 5%, high up to 10%, medium up to 15%, low above.
//   - Time to restore (the report's failed deployment recovery time): elite
//     less than one hour; high less than one day; medium between one day and
//     one week; low longer (the report's low cluster: one to six months).
//
// A metric with nothing to measure (no commits, no production deployments,
// no resolved incidents) has no band. Deployment frequency is always
// measured: no deployment in the window is a frequency of zero, low.
package delivery
