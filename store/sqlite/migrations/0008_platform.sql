-- Each service's successful deployments in finish order, with their
-- environment, for the platform metrics: whether a service's first
-- deployment falls in a period, and the environments it deployed to in a
-- period, are each read from one range of this index per service, from the
-- index alone. Without it, both read every deployment of every service.
CREATE INDEX deployments_succeeded ON deployments (service, finished_at, environment)
    WHERE status = 'succeeded';
