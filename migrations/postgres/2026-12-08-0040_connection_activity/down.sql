DROP TABLE connection_activity;
