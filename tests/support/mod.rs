//! Helpers shared by the integration tests. Each test crate uses a different subset.
#![allow(dead_code)]

pub mod dist_files;
pub mod dists;
pub mod hub_marks;
pub mod index_server;
pub mod precommit;
pub mod python;
pub mod tls_server;
pub mod trickle_server;
