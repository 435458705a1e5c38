DROP INDEX apps_enabled_name_idx;
