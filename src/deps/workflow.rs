//! STUB: to be written.

use super::Extracted;
use crate::source::SourceFile;

pub fn extract(file: &SourceFile) -> Extracted {
    let _ = file;
    Extracted::default()
}
