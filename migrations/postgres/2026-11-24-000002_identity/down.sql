DROP TABLE contact_registry;
DROP TABLE role_grants;
DROP TABLE otp_throttle;
DROP TABLE otp_codes;
DROP TABLE sessions;
DROP TABLE login_states;
