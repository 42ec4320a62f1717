//! One module per page of the navigation.

pub mod activity;
pub mod analytics;
pub mod auth;
pub mod compliance;
pub mod connections;
pub mod inventory;
pub mod orders;
pub mod portfolio;
pub mod settings;
