-- Concord connects as an ordinary role, never a superuser: superusers bypass row-level
-- security, the second wall between tenants.
CREATE ROLE concord LOGIN PASSWORD 'concord';
CREATE DATABASE concord OWNER concord;
