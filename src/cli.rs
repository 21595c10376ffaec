//! Command-line arguments shared by every binary.
//!
//! STUB: written by the lead.
