DROP TABLE two_step_required;
DROP TABLE pending_logins;
DROP TABLE recovery_codes;
DROP TABLE two_step;
