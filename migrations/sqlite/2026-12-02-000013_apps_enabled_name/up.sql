-- One enabled application per name: citizens choose an application from a
-- list by its name, so two alike would be indistinguishable; and a
-- registration retried after its answer was lost meets the first one
-- (409) instead of making a twin. A disabled application gives its name up.
CREATE UNIQUE INDEX apps_enabled_name_idx ON apps (name) WHERE disabled_at IS NULL;
