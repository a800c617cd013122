DROP TABLE blocked_clients;
