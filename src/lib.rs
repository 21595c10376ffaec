//! mlsupply: supply-chain checks for Python and machine-learning projects.
//!
//! The library does all the work and never prints: binaries in `src/bin/` parse arguments, call
//! one entry point, render the findings with [`output`] and exit with an [`exit::Exit`] code.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod comment;
pub mod config;
pub mod deps;
pub mod exit;
pub mod files;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod hub;
pub mod index;
pub mod notebookjson;
pub mod output;
pub mod pep508;
pub mod pin;
pub mod pyparse;
pub mod reqfile;
pub mod resolve;
pub mod rewrite;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod typo;
pub mod yamlpos;

pub use finding::{Finding, Severity, Span};
