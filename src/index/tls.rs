//! TLS for every HTTP client of the suite: rustls with the *ring* provider (no cmake, no
//! aws-lc-sys), the platform trust store, plus extra CA files for company proxies and mirrors.

use std::path::Path;

use super::IndexError;

/// Installs *ring* as the process's rustls provider, once. reqwest (built with
/// `rustls-no-provider`) and any other rustls user of the suite pick it up; calling this again,
/// or after someone else installed a provider, is harmless.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads a PEM bundle of CA certificates. Fails, naming the file, when it cannot be read or holds
/// no certificate: a silently ignored company CA only shows up later as a baffling TLS error.
pub fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, IndexError> {
    let config_error = |message: String| IndexError::Config {
        path: Some(path.to_owned()),
        line: None,
        message,
    };
    let bytes = crate::files::read_named(path, crate::files::MAX_FILE_BYTES)
        .map_err(|e| config_error(format!("cannot read CA certificate file: {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|e| config_error(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(
            "no certificate in CA file (expected PEM `BEGIN CERTIFICATE` blocks)".to_owned(),
        ));
    }
    Ok(certs)
}
