-- Each service's successful deployments in finish order, with their
-- environment, for the platform metrics: a service's first deployment is
-- the start of its range, and the environments it deployed to in a period
-- one range of it, both read by index-only scans. Without it, both read
-- every deployment of every service.
CREATE INDEX deployments_succeeded ON deployments (service, finished_at) INCLUDE (environment)
    WHERE status = 'succeeded';
