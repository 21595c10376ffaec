//! Against the real PyPI. Off by default (`--features live-tests`): CI has no such network.

use mlsupply::index::{BlockingIndexClient, ClientOptions, IndexSettings};
use mlsupply::typo::online::{Presence, check_online};

fn pypi() -> BlockingIndexClient {
    let settings = IndexSettings::single("https://pypi.org/simple/").unwrap();
    BlockingIndexClient::new(&settings, ClientOptions::default()).unwrap()
}

#[test]
#[cfg_attr(
    not(feature = "live-tests"),
    ignore = "needs the network (--features live-tests)"
)]
fn pypi_serves_pep691_with_pep700_fields() {
    let project = pypi()
        .project("Requests")
        .unwrap()
        .expect("requests exists");
    let page = &project.pages[0].page;
    assert!(
        page.api_version
            .is_some_and(|v| v.major == 1 && v.minor >= 1)
    );
    assert!(page.versions.as_ref().is_some_and(|v| v.len() > 100));
    let file = page
        .files
        .iter()
        .find(|f| f.filename == "requests-2.31.0-py3-none-any.whl")
        .expect("a known wheel");
    assert_eq!(
        file.sha256(),
        Some("58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f")
    );
    assert!(file.upload_time.is_some() && file.size.is_some());
}

#[test]
#[cfg_attr(
    not(feature = "live-tests"),
    ignore = "needs the network (--features live-tests)"
)]
fn pypi_online_typo_verdicts() {
    let names = ["numpy", "mlsupply-surely-unregistered-name-4821"].map(String::from);
    let verdicts = check_online(&pypi(), &names).unwrap();
    let facts = verdicts[0].facts().expect("numpy exists");
    assert!(facts.releases.is_some_and(|n| n > 50));
    assert!(facts.first_upload.is_some());
    assert!(matches!(verdicts[1].presence, Presence::Missing { .. }));
}
