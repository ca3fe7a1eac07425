-- agentrt keeps its own database beside Temporal's on the compose Postgres.
CREATE DATABASE agentrt OWNER temporal;
