-- One database per node for the laptop compose file (Kubernetes runs one PostgreSQL per node).
CREATE DATABASE tally_node_clearing;
CREATE DATABASE tally_node_regulator;
