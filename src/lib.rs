//! 减负码 (jianfu): anonymous burden reports from village cadres and grid workers.
//!
//! The path of a report: `routes::report` (entry page, form) → `domain` (parsing, P7
//! warning) → `crypto` (sealing to the desk key) → `store::writer` (card spent and report
//! pooled in one durable transaction) → `pool` (scheduled release) → `routes::staff` (the
//! desk, with the key unwrapped by `desk` for a session).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod authentication;
pub mod card_check;
pub mod card_sheet;
pub mod cli;
pub mod configuration;
pub mod crypto;
pub mod csv;
pub mod datadir;
pub mod desk;
pub mod domain;
pub mod pool;
pub mod poster;
pub mod queue;
pub mod reference;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod templates;
