//! Scans of a repository: which files, which checks, findings with ignores applied.
//!
//! STUB: written by the lead after the parts land.
