//! Integration tests of the HTTP API, run in-process against a real database: SQLite by
//! default, PostgreSQL (and Redis) when `DATABASE_URL` (and `REDIS_URL`) are set.
//! Tests under `postgres_only` / `redis_only` need those services and run in the
//! `services` nextest profile.

mod audit;
mod auth;
mod compliance;
mod dashboard;
mod enforcement;
mod errors;
mod files;
mod harness;
mod health;
mod inventory;
mod isolation;
mod late_sales;
mod live;
mod members;
mod orders;
mod platforms;
mod polling;
mod postgres_only;
mod redis_only;
mod reports;
mod retention;
mod stripe_endpoint;
mod sync;
mod tokens;
mod variations;
mod webhooks;
mod worker_crash;
