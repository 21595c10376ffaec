//! Which indexes to ask and how, resolved the way pip resolves them.
//!
//! Precedence, lowest first (pip's `Configuration` and `ConfigOptionParser`):
//! 1. configuration files, later ones overriding earlier ones per key: site-wide
//!    (`$XDG_CONFIG_DIRS/pip/pip.conf`, then `/etc/pip.conf`), user (`~/.pip/pip.conf`, then
//!    `$XDG_CONFIG_HOME/pip/pip.conf`), the virtualenv's (`$VIRTUAL_ENV/pip.conf`), then
//!    `PIP_CONFIG_FILE`. When `PIP_CONFIG_FILE` names an existing file the user files are skipped;
//!    `PIP_CONFIG_FILE=/dev/null` skips every file;
//! 2. within the merged files, `[install]` overrides `[global]`;
//! 3. `PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `PIP_CERT`, `PIP_TRUSTED_HOST`;
//! 4. the caller's command-line values. As with pip, command-line extra index URLs are added to
//!    the configured ones rather than replacing them.
//!
//! Everything machine-specific (environment, home, `/etc`) comes in through [`IndexInputs`], so
//! tests never read the machine's configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::IndexError;
use super::url::{CredentialSource, Credentials, IndexUrl};

/// pip's default index.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

/// The machine state pip reads, captured once.
#[derive(Clone, Debug, Default)]
pub struct IndexInputs {
    /// Environment variables (only those named in this module are read).
    pub env: BTreeMap<String, String>,
    /// The user's home directory.
    pub home: Option<PathBuf>,
    /// The site-wide configuration directory, `/etc` on Unix (also the base of the default
    /// `XDG_CONFIG_DIRS`, `/etc/xdg`). `None` reads no site-wide file.
    pub etc_dir: Option<PathBuf>,
}

impl IndexInputs {
    /// The current process's environment, home and `/etc`.
    pub fn from_process() -> IndexInputs {
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = env
            .get("HOME")
            .map(PathBuf::from)
            .or_else(|| env.get("USERPROFILE").map(PathBuf::from));
        IndexInputs {
            env,
            home,
            etc_dir: cfg!(unix).then(|| PathBuf::from("/etc")),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// pip's configuration files, lowest precedence first, with `PIP_CONFIG_FILE` last.
    pub fn config_files(&self) -> Vec<PathBuf> {
        let explicit = self.var("PIP_CONFIG_FILE").map(PathBuf::from);
        if explicit.as_deref() == Some(Path::new("/dev/null"))
            || explicit.as_deref() == Some(Path::new("nul"))
        {
            return Vec::new();
        }
        let mut files = Vec::new();
        // XDG's default, `/etc/xdg`, follows `etc_dir` so that empty inputs read no machine file.
        let xdg_dirs: Vec<PathBuf> = match self.var("XDG_CONFIG_DIRS") {
            Some(dirs) => dirs
                .split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect(),
            None => self.etc_dir.iter().map(|etc| etc.join("xdg")).collect(),
        };
        for dir in xdg_dirs {
            files.push(dir.join("pip").join("pip.conf"));
        }
        if let Some(etc) = &self.etc_dir {
            files.push(etc.join("pip.conf"));
        }
        let skip_user = explicit.as_deref().is_some_and(Path::exists);
        if !skip_user {
            if let Some(home) = &self.home {
                files.push(home.join(".pip").join("pip.conf"));
            }
            let xdg_home = self
                .var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| self.home.as_ref().map(|h| h.join(".config")));
            if let Some(dir) = xdg_home {
                files.push(dir.join("pip").join("pip.conf"));
            }
        }
        if let Some(venv) = self.var("VIRTUAL_ENV") {
            files.push(Path::new(venv).join("pip.conf"));
        }
        files.extend(explicit);
        files
    }

    /// `NETRC`, else `~/.netrc`.
    pub fn netrc_file(&self) -> Option<PathBuf> {
        self.var("NETRC")
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".netrc")))
    }
}

/// Index options given on the command line or in a requirements file (`-i`, `--extra-index-url`,
/// `--cert`, `--trusted-host`); they win over the environment and configuration files.
#[derive(Clone, Debug, Default)]
pub struct IndexArgs {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub cert: Option<PathBuf>,
    pub trusted_hosts: Vec<String>,
}

/// Where a setting came from, for `--dump-config`-style explanations and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
    CommandLine,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "${name}"),
            Origin::CommandLine => f.write_str("the command line"),
        }
    }
}

/// The resolved index configuration.
#[derive(Clone, Debug)]
pub struct IndexSettings {
    pub index_url: IndexUrl,
    pub index_origin: Origin,
    pub extra_index_urls: Vec<IndexUrl>,
    /// Extra CA certificates (PEM): pip's `cert`, `PIP_CERT`, `SSL_CERT_FILE`,
    /// `REQUESTS_CA_BUNDLE`. They are added to the system trust store, not substituted for it.
    pub ca_files: Vec<PathBuf>,
    /// `host` or `host:port` entries: plain http allowed, certificate errors ignored (as pip).
    pub trusted_hosts: Vec<String>,
}

impl IndexSettings {
    /// The index URL first, then the extra ones.
    pub fn indexes(&self) -> impl Iterator<Item = &IndexUrl> {
        std::iter::once(&self.index_url).chain(&self.extra_index_urls)
    }

    /// Settings for exactly one index, with no configuration read (tests, `--index-url` only).
    pub fn single(url: &str) -> Result<IndexSettings, IndexError> {
        Ok(IndexSettings {
            index_url: parse_index(url, &Origin::CommandLine)?,
            index_origin: Origin::CommandLine,
            extra_index_urls: Vec::new(),
            ca_files: Vec::new(),
            trusted_hosts: Vec::new(),
        })
    }

    /// Resolves the settings from `args`, the environment and pip's files (see the module doc),
    /// then fills in credentials from the netrc file for indexes whose URL carries none.
    pub fn resolve(args: &IndexArgs, inputs: &IndexInputs) -> Result<IndexSettings, IndexError> {
        // key -> (value, origin); later inserts win.
        let mut values: BTreeMap<&'static str, (String, Origin)> = BTreeMap::new();
        const KEYS: [&str; 4] = ["index-url", "extra-index-url", "cert", "trusted-host"];

        let mut merged: BTreeMap<(String, String), (String, PathBuf)> = BTreeMap::new();
        for path in inputs.config_files() {
            for ((section, key), value) in read_pip_conf(&path)? {
                merged.insert((section, key), (value, path.clone()));
            }
        }
        for section in ["global", "install"] {
            for key in KEYS {
                if let Some((value, path)) = merged.get(&(section.to_owned(), key.to_owned())) {
                    values.insert(key, (value.clone(), Origin::File(path.clone())));
                }
            }
        }
        for (key, var) in [
            ("index-url", "PIP_INDEX_URL"),
            ("extra-index-url", "PIP_EXTRA_INDEX_URL"),
            ("cert", "PIP_CERT"),
            ("trusted-host", "PIP_TRUSTED_HOST"),
        ] {
            if let Some(value) = inputs.var(var) {
                values.insert(key, (value.to_owned(), Origin::Env(var)));
            }
        }

        let (index_text, index_origin) = match &args.index_url {
            Some(url) => (url.clone(), Origin::CommandLine),
            None => values
                .remove("index-url")
                .unwrap_or_else(|| (DEFAULT_INDEX_URL.to_owned(), Origin::Default)),
        };
        let index_url = parse_index(&index_text, &index_origin)?;

        let mut extra_index_urls = Vec::new();
        if let Some((text, origin)) = values.get("extra-index-url") {
            for url in text.split_whitespace() {
                extra_index_urls.push(parse_index(url, origin)?);
            }
        }
        for url in &args.extra_index_urls {
            extra_index_urls.push(parse_index(url, &Origin::CommandLine)?);
        }

        let mut trusted_hosts: Vec<String> = values
            .get("trusted-host")
            .map(|(text, _)| text.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        trusted_hosts.extend(args.trusted_hosts.iter().cloned());

        let mut ca_files = Vec::new();
        let cert = args
            .cert
            .clone()
            .or_else(|| values.get("cert").map(|(v, _)| PathBuf::from(v.trim())));
        ca_files.extend(cert);
        for var in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
            if let Some(path) = inputs.var(var) {
                let path = PathBuf::from(path);
                if !ca_files.contains(&path) {
                    ca_files.push(path);
                }
            }
        }

        let mut settings = IndexSettings {
            index_url,
            index_origin,
            extra_index_urls,
            ca_files,
            trusted_hosts,
        };
        settings.apply_netrc(inputs)?;
        Ok(settings)
    }

    /// Adds netrc credentials to every index whose URL has none. A missing file is not an error;
    /// an unreadable or malformed one is.
    fn apply_netrc(&mut self, inputs: &IndexInputs) -> Result<(), IndexError> {
        if self.indexes().all(|i| i.credentials().is_some()) {
            return Ok(());
        }
        let Some(path) = inputs.netrc_file() else {
            return Ok(());
        };
        let text = match crate::files::read_named(&path, crate::files::MAX_FILE_BYTES) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(IndexError::Config {
                    path: Some(path),
                    line: None,
                    message: format!("cannot read the netrc file: {e}"),
                });
            }
        };
        let netrc: netrc::Netrc = text.parse().map_err(|e| {
            let e: &dyn std::fmt::Display = &e;
            // The parser quotes the offending token, which may be a password: keep the line only.
            let shown = e.to_string();
            let line = shown
                .rsplit_once("(line ")
                .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok());
            IndexError::Config {
                path: Some(path.clone()),
                line,
                message: "malformed netrc entry".to_owned(),
            }
        })?;
        let lookup = |index: &IndexUrl| -> Option<Credentials> {
            let (host, _) = index.host_port();
            let auth = netrc
                .hosts
                .iter()
                .find(|(machine, _)| machine.eq_ignore_ascii_case(&host))
                .or_else(|| netrc.hosts.get_key_value("default"))
                .map(|(_, a)| a)?;
            Some(Credentials {
                username: auth.login.clone(),
                password: Some(auth.password.clone()),
            })
        };
        for index in std::iter::once(&mut self.index_url).chain(&mut self.extra_index_urls) {
            let found = lookup(index);
            *index = index
                .clone()
                .with_fallback_credentials(found, CredentialSource::Netrc);
        }
        Ok(())
    }

    /// Whether `index` is listed in `trusted-host` (by host, or by `host:port`).
    pub fn is_trusted(&self, index: &IndexUrl) -> bool {
        is_trusted_host(&self.trusted_hosts, index.url())
    }
}

/// Whether `url`'s host is one of pip's `trusted-host` `entries` (`host`, or `host:port`).
pub fn is_trusted_host(entries: &[String], url: &url::Url) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    entries.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        match entry.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
                h == host && p.parse::<u16>().ok() == url.port_or_known_default()
            }
            _ => entry.trim_matches(['[', ']']) == host.trim_matches(['[', ']']),
        }
    })
}

fn parse_index(text: &str, origin: &Origin) -> Result<IndexUrl, IndexError> {
    IndexUrl::parse(text).map_err(|message| IndexError::Config {
        path: match origin {
            Origin::File(path) => Some(path.clone()),
            _ => None,
        },
        line: None,
        message: format!("bad index URL from {origin}: {message}"),
    })
}

/// Reads one pip configuration file into `(section, key) -> value`, keys normalised as pip does
/// (`index_url` is `index-url`). A missing file is empty.
/// `((section, key), value)` entries of one configuration file, in file order.
type ConfEntries = Vec<((String, String), String)>;

fn read_pip_conf(path: &Path) -> Result<ConfEntries, IndexError> {
    let text = match crate::files::read_named(path, crate::files::MAX_FILE_BYTES) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| IndexError::Config {
            path: Some(path.to_owned()),
            line: None,
            message: "not UTF-8".to_owned(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        // pip skips directories and unreadable files silently; say why instead of guessing.
        Err(e) => {
            return Err(IndexError::Config {
                path: Some(path.to_owned()),
                line: None,
                message: format!("cannot read pip configuration: {e}"),
            });
        }
    };
    // Python's RawConfigParser: `=` or `:`, full-line `#`/`;` comments, no inline comments,
    // indented continuation lines (multi-line `extra-index-url`).
    let mut defaults = configparser::ini::IniDefault::default();
    defaults.multiline = true;
    defaults.enable_inline_comments = false;
    let mut ini = configparser::ini::Ini::new_from_defaults(defaults);
    let map = ini.read(text).map_err(|message| {
        let line = message
            .strip_prefix("line ")
            .and_then(|rest| rest.split([':', ' ']).next())
            .and_then(|n| n.parse().ok());
        IndexError::Config {
            path: Some(path.to_owned()),
            line,
            message,
        }
    })?;
    let mut out = Vec::new();
    for (section, entries) in map {
        for (key, value) in entries {
            if let Some(value) = value {
                out.push(((section.clone(), key.replace('_', "-")), value));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(dir: &Path, env: &[(&str, &str)]) -> IndexInputs {
        IndexInputs {
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .chain([(
                    "XDG_CONFIG_DIRS".to_owned(),
                    dir.join("xdg").display().to_string(),
                )])
                .collect(),
            home: Some(dir.join("home")),
            etc_dir: Some(dir.join("etc")),
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn empty_inputs_read_no_machine_file() {
        assert!(IndexInputs::default().config_files().is_empty());
        let etc = IndexInputs {
            etc_dir: Some("/etc".into()),
            ..Default::default()
        };
        assert_eq!(
            etc.config_files(),
            [
                PathBuf::from("/etc/xdg/pip/pip.conf"),
                PathBuf::from("/etc/pip.conf")
            ]
        );
    }

    #[test]
    fn default_is_pypi() {
        let dir = tempfile::tempdir().unwrap();
        let s = IndexSettings::resolve(&IndexArgs::default(), &inputs(dir.path(), &[])).unwrap();
        assert_eq!(s.index_url.url().as_str(), "https://pypi.org/simple/");
        assert_eq!(s.index_origin, Origin::Default);
        assert!(s.extra_index_urls.is_empty());
    }

    #[test]
    fn files_env_and_args_in_pip_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            &d.join("etc/pip.conf"),
            "[install]\nindex-url = https://etc-install.example/simple\n",
        );
        write(
            &d.join("home/.config/pip/pip.conf"),
            "# user\n[global]\nindex_url = https://user.example/simple\nextra-index-url =\n    https://a.example/simple\n    https://b.example/simple\ntrusted-host = a.example\n",
        );
        // [install] beats [global] even from a lower-precedence file.
        let s = IndexSettings::resolve(&IndexArgs::default(), &inputs(d, &[])).unwrap();
        assert_eq!(
            s.index_url.url().as_str(),
            "https://etc-install.example/simple/"
        );
        assert_eq!(s.index_origin, Origin::File(d.join("etc/pip.conf")));
        let extras: Vec<&str> = s
            .extra_index_urls
            .iter()
            .map(|i| i.url().as_str())
            .collect();
        assert_eq!(
            extras,
            ["https://a.example/simple/", "https://b.example/simple/"]
        );
        assert!(s.is_trusted(&s.extra_index_urls[0]));
        assert!(!s.is_trusted(&s.extra_index_urls[1]));

        // The environment beats files.
        let env = [
            ("PIP_INDEX_URL", "https://env.example/simple"),
            (
                "PIP_EXTRA_INDEX_URL",
                "https://c.example/ https://d.example/",
            ),
        ];
        let s = IndexSettings::resolve(&IndexArgs::default(), &inputs(d, &env)).unwrap();
        assert_eq!(s.index_url.url().as_str(), "https://env.example/simple/");
        assert_eq!(s.index_origin, Origin::Env("PIP_INDEX_URL"));
        assert_eq!(s.extra_index_urls.len(), 2);

        // The command line beats the environment; its extra URLs are added.
        let args = IndexArgs {
            index_url: Some("https://cli.example/simple".into()),
            extra_index_urls: vec!["https://e.example/".into()],
            ..Default::default()
        };
        let s = IndexSettings::resolve(&args, &inputs(d, &env)).unwrap();
        assert_eq!(s.index_url.url().as_str(), "https://cli.example/simple/");
        let extras: Vec<&str> = s
            .extra_index_urls
            .iter()
            .map(|i| i.url().as_str())
            .collect();
        assert_eq!(
            extras,
            [
                "https://c.example/",
                "https://d.example/",
                "https://e.example/"
            ]
        );
    }

    #[test]
    fn pip_config_file_overrides_and_skips_user_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            &d.join("home/.pip/pip.conf"),
            "[global]\nextra-index-url = https://legacy-user.example/\n",
        );
        write(
            &d.join("venv/pip.conf"),
            "[global]\nindex-url = https://venv.example/\n",
        );
        write(&d.join("custom.conf"), "[global]\ncert = /certs/corp.pem\n");
        let custom = d.join("custom.conf").display().to_string();
        let venv = d.join("venv").display().to_string();
        let env = [
            ("PIP_CONFIG_FILE", custom.as_str()),
            ("VIRTUAL_ENV", venv.as_str()),
        ];
        let s = IndexSettings::resolve(&IndexArgs::default(), &inputs(d, &env)).unwrap();
        assert_eq!(s.index_url.url().as_str(), "https://venv.example/");
        assert!(s.extra_index_urls.is_empty(), "user files skipped");
        assert_eq!(s.ca_files, [PathBuf::from("/certs/corp.pem")]);

        let env = [
            ("PIP_CONFIG_FILE", "/dev/null"),
            ("VIRTUAL_ENV", venv.as_str()),
        ];
        let s = IndexSettings::resolve(&IndexArgs::default(), &inputs(d, &env)).unwrap();
        assert_eq!(s.index_url.url().as_str(), "https://pypi.org/simple/");
    }

    #[test]
    fn malformed_conf_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("etc/pip.conf"), "[global]\n\n[broken\n");
        let err =
            IndexSettings::resolve(&IndexArgs::default(), &inputs(dir.path(), &[])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("pip.conf:3"), "{text}");
    }

    #[test]
    fn netrc_credentials_fill_urls_without_userinfo() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            &d.join("home/.netrc"),
            "machine private.example login ci password t0psecret\n",
        );
        let args = IndexArgs {
            index_url: Some("https://private.example/simple".into()),
            extra_index_urls: vec!["https://own:pw@other.example/".into()],
            ..Default::default()
        };
        let s = IndexSettings::resolve(&args, &inputs(d, &[])).unwrap();
        let creds = s.index_url.credentials().unwrap();
        assert_eq!(creds.username, "ci");
        assert_eq!(
            s.index_url.credential_source(),
            Some(CredentialSource::Netrc)
        );
        assert_eq!(
            s.extra_index_urls[0].credential_source(),
            Some(CredentialSource::Url)
        );
        assert!(!format!("{s:?}").contains("t0psecret"));

        write(
            &d.join("bad.netrc"),
            "machine x login a password\nbogus hunter2\n",
        );
        let bad = d.join("bad.netrc").display().to_string();
        let err = IndexSettings::resolve(&args, &inputs(d, &[("NETRC", bad.as_str())]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.netrc"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn trusted_host_with_port() {
        let mut s = IndexSettings::single("http://mirror.corp:8080/simple").unwrap();
        assert!(!s.is_trusted(&s.index_url));
        s.trusted_hosts = vec!["mirror.corp:8080".into()];
        assert!(s.is_trusted(&s.index_url));
        s.trusted_hosts = vec!["mirror.corp:9090".into()];
        assert!(!s.is_trusted(&s.index_url));
        s.trusted_hosts = vec!["MIRROR.corp".into()];
        assert!(s.is_trusted(&s.index_url));
    }
}
