DROP TABLE photo_access_log;
DROP TABLE consents;
DROP TABLE revoked_tokens;
DROP TABLE app_secrets;
DROP TABLE apps;
