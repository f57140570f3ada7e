//! The glasslog HTTP server, and the only crate that knows HTTP.
//!
//! Services submit audit events (`POST /v1/entries`, `/v1/entries/batch`); monitors read the
//! signed checkpoint and C2SP tiles (`/checkpoint`, `/tile/...`); auditors fetch proofs
//! (`/v1/proofs/...`) and entries. Every error is an RFC 9457 problem document. Blocking log
//! reads run on tokio's blocking pool; appends go through the log's sequencer channel.

pub mod auth;
pub mod breakglass;
mod clock;
pub mod config;
mod console;
pub mod cosign;
mod forward;
pub mod listener;
pub mod metrics;
pub mod mirror;
pub mod problem;
pub mod protect;
pub mod query;
mod routes;
mod secret_file;
mod server;
mod state;
pub mod witness;

pub use config::ServerConfig;
#[cfg(feature = "testing")]
pub use routes::openapi_routes;
pub use routes::{ROUTES, router};
pub use server::{ServeError, Started, serve};
pub use state::AppState;
