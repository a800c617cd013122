ALTER TABLE two_step DROP COLUMN method;
DROP TABLE password_off;
