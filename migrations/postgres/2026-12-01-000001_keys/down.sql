DROP TABLE sealed_keys;
DROP TABLE signing_keys;
