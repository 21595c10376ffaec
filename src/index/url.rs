//! Index URLs and their credentials, kept apart so that a secret never reaches a message.

use std::fmt;
use std::sync::Arc;

use url::Url;

/// A URL that hides its credentials when displayed: `https://user:****@host/simple/`.
///
/// A user name without a password is usually a token (Gemfury, some Artifactory setups), so it
/// is masked too: `https://****@host/`. Every error and log line of this module shows URLs
/// through this type.
///
/// Shared (`Arc`) so that errors stay small and verdicts clone it cheaply.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedUrl(Arc<Url>);

impl RedactedUrl {
    pub fn new(url: Url) -> RedactedUrl {
        RedactedUrl(Arc::new(url))
    }

    /// The URL with its credentials, for building requests only; never format it.
    pub fn expose(&self) -> &Url {
        &self.0
    }
}

impl From<Url> for RedactedUrl {
    fn from(url: Url) -> RedactedUrl {
        RedactedUrl::new(url)
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url: &Url = &self.0;
        if url.username().is_empty() && url.password().is_none() {
            return f.write_str(url.as_str());
        }
        let mut shown = Url::clone(url);
        // Only fails for URLs that cannot carry credentials, which these URLs already do.
        let _ = shown.set_password(None);
        let _ = shown.set_username("");
        let masked = match (url.username(), url.password()) {
            (user, Some(_)) if !user.is_empty() => format!("{user}:****@"),
            _ => "****@".to_owned(),
        };
        let text = shown.as_str();
        // `scheme://` then the host: put the mask right after the `//`.
        match text.find("://") {
            Some(at) => write!(f, "{}{}{}", &text[..at + 3], masked, &text[at + 3..]),
            None => f.write_str(text),
        }
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({self})")
    }
}

/// A user name and password for HTTP basic authentication. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &"****")
            .field("password", &self.password.as_ref().map(|_| "****"))
            .finish()
    }
}

/// Where credentials came from, so that a 401 can say what was tried without showing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Url,
    Netrc,
}

/// One package index: its URL (without credentials, ending in `/`) and how to log in to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexUrl {
    url: Url,
    credentials: Option<(Credentials, CredentialSource)>,
}

impl IndexUrl {
    /// Parses an index URL as pip takes it (`https://user:pass@host/simple`). User info is moved
    /// out of the URL (percent-decoded) into the credentials; a trailing `/` is added so that
    /// project pages join below it.
    pub fn parse(text: &str) -> Result<IndexUrl, String> {
        let mut url = Url::parse(text.trim()).map_err(|e| {
            // The text may hold a password: say what is wrong without repeating it.
            format!("not a valid URL ({e})")
        })?;
        // pip also reads `file://` directories as indexes; this client speaks HTTP only.
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "unsupported scheme `{}` (expected http or https)",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".to_owned());
        }
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let creds = Credentials {
                username: percent_decode(url.username()),
                password: url.password().map(percent_decode),
            };
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Some((creds, CredentialSource::Url))
        };
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(IndexUrl { url, credentials })
    }

    /// The URL without credentials.
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref().map(|(c, _)| c)
    }

    pub fn credential_source(&self) -> Option<CredentialSource> {
        self.credentials.as_ref().map(|(_, s)| *s)
    }

    /// Sets credentials found elsewhere (netrc) when the URL carried none.
    pub fn with_fallback_credentials(
        mut self,
        credentials: Option<Credentials>,
        source: CredentialSource,
    ) -> IndexUrl {
        if self.credentials.is_none() {
            self.credentials = credentials.map(|c| (c, source));
        }
        self
    }

    /// The URL as it may be shown: user name kept, password masked.
    pub fn redacted(&self) -> RedactedUrl {
        let mut url = self.url.clone();
        if let Some((creds, _)) = &self.credentials {
            let _ = url.set_username(&creds.username);
            if creds.password.is_some() {
                let _ = url.set_password(Some("x"));
            }
        }
        RedactedUrl::new(url)
    }

    /// The page of project `normalized` on this index (`<index>/<name>/`).
    pub fn project_url(&self, normalized: &str) -> Url {
        // A normalised name is `[a-z0-9-]`, so joining cannot escape the index path.
        let mut url = self.url.clone();
        let path = format!("{}{}/", url.path(), normalized);
        url.set_path(&path);
        url
    }

    /// pip's "secure origin": https, or http on localhost / a loopback address.
    pub fn is_secure_origin(&self) -> bool {
        match self.url.scheme() {
            "https" => true,
            _ => match self.url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            },
        }
    }

    /// `host` or `host:port`, as pip's `--trusted-host` compares it.
    pub fn host_port(&self) -> (String, Option<u16>) {
        (
            self.url.host_str().unwrap_or_default().to_ascii_lowercase(),
            self.url.port(),
        )
    }
}

/// Decodes `%XX` escapes in user info, as pip does (`%40` is `@`).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_masks_password_and_bare_token() {
        let url = Url::parse("https://alice:s3cret@example.com/simple/").unwrap();
        let shown = RedactedUrl::new(url).to_string();
        assert_eq!(shown, "https://alice:****@example.com/simple/");
        let url = Url::parse("https://tok3n@pypi.fury.io/me/").unwrap();
        let shown = format!("{:?}", RedactedUrl::new(url));
        assert_eq!(shown, "RedactedUrl(https://****@pypi.fury.io/me/)");
        let plain = Url::parse("https://pypi.org/simple/").unwrap();
        assert_eq!(
            RedactedUrl::new(plain).to_string(),
            "https://pypi.org/simple/"
        );
    }

    #[test]
    fn parse_moves_credentials_out_and_adds_slash() {
        let index = IndexUrl::parse("https://bob:p%40ss@example.com:8443/simple").unwrap();
        assert_eq!(index.url().as_str(), "https://example.com:8443/simple/");
        let creds = index.credentials().unwrap();
        assert_eq!(creds.username, "bob");
        assert_eq!(creds.password.as_deref(), Some("p@ss"));
        assert_eq!(
            index.redacted().to_string(),
            "https://bob:****@example.com:8443/simple/"
        );
        assert!(!format!("{index:?}").contains("p@ss"));
        assert_eq!(
            index.project_url("numpy").as_str(),
            "https://example.com:8443/simple/numpy/"
        );
    }

    #[test]
    fn parse_errors_never_echo_the_text() {
        let err = IndexUrl::parse("https://bob:hunter2@").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            IndexUrl::parse("ftp://example.com/")
                .unwrap_err()
                .contains("ftp")
        );
    }

    #[test]
    fn secure_origins_follow_pip() {
        assert!(
            IndexUrl::parse("https://x.org/")
                .unwrap()
                .is_secure_origin()
        );
        assert!(
            IndexUrl::parse("http://127.0.0.1:9/")
                .unwrap()
                .is_secure_origin()
        );
        assert!(
            IndexUrl::parse("http://localhost/")
                .unwrap()
                .is_secure_origin()
        );
        assert!(
            !IndexUrl::parse("http://mirror.corp/")
                .unwrap()
                .is_secure_origin()
        );
    }
}
