//! STUB: install commands (`pip install`, `uv add`, ...) in shell scripts, Dockerfiles and Makefiles.

use super::Extracted;
use crate::source::SourceFile;

pub fn extract_shell(file: &SourceFile) -> Extracted {
    let _ = file;
    Extracted::default()
}

pub fn extract_dockerfile(file: &SourceFile) -> Extracted {
    let _ = file;
    Extracted::default()
}

pub fn extract_makefile(file: &SourceFile) -> Extracted {
    let _ = file;
    Extracted::default()
}
