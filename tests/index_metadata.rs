//! Distribution metadata against a local index on 127.0.0.1: PEP 658 files, range requests on
//! real wheels, servers that ignore ranges, sdists, and hostile archives.

mod support;

use std::time::Duration;

use mlsupply::index::metadata::{MAX_METADATA_BYTES, blocking_dist_metadata};
use mlsupply::index::{
    BlockingIndexClient, ClientOptions, DistFile, DistMetadata, IndexClient, IndexSettings,
    MetadataError, MetadataSource, dist_metadata,
};
use support::dist_files::{
    MetadataAt, PageFile, build_sdist, build_wheel, build_zip, file_path, incompressible,
    metadata_text, requests_for, serve_file, serve_metadata_file, serve_page,
};
use support::index_server::IndexServer;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

fn options() -> ClientOptions {
    ClientOptions {
        backoff: Duration::from_millis(10),
        attempts: 2,
        ..ClientOptions::default()
    }
}

fn client(url: &str) -> IndexClient {
    IndexClient::new(&IndexSettings::single(url).unwrap(), options()).unwrap()
}

/// The file `filename` as the index page describes it.
async fn dist_file(client: &IndexClient, project: &str, filename: &str) -> DistFile {
    let project = client.project(project).await.unwrap().expect("project");
    project
        .files()
        .find(|f| f.filename == filename)
        .cloned()
        .expect("file on the page")
}

fn requirement_names(meta: &DistMetadata) -> Vec<String> {
    meta.requires_dist
        .iter()
        .map(|r| r.name.to_string())
        .collect()
}

const WHEEL: &str = "demo_pkg-1.0-py3-none-any.whl";

fn demo_metadata() -> String {
    metadata_text(
        "demo-pkg",
        "1.0",
        &[
            "numpy>=1.22",
            "pywin32 ; sys_platform == \"win32\"",
            "rich[jupyter] ; extra == \"nb\"",
        ],
    )
}

#[tokio::test]
async fn pep658_metadata_file_is_used_and_verified() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 1000);
    serve_page(
        &server,
        "demo-pkg",
        &[PageFile::new(WHEEL, &wheel).with_metadata(&text)],
    )
    .await;
    serve_metadata_file(&server, WHEEL, &text).await;
    serve_file(&server, WHEEL, wheel, true).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::MetadataFile);
    assert_eq!(meta.name, "demo-pkg");
    assert_eq!(meta.version.to_string(), "1.0");
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    assert_eq!(meta.requires_python.unwrap().to_string(), ">=3.8");
    assert!(
        requests_for(&server, &file_path(WHEEL)).await.is_empty(),
        "the wheel itself is not touched"
    );
}

#[tokio::test]
async fn pep658_metadata_with_wrong_hash_is_an_error_without_credentials() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 1000);
    // The index advertises the hash of other text than it serves.
    serve_page(
        &server,
        "demo-pkg",
        &[PageFile::new(WHEEL, &wheel).with_metadata("Name: other\n")],
    )
    .await;
    serve_metadata_file(&server, WHEEL, &text).await;

    let client = client(&server.index_url_with("alice", "s3cret"));
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let err = dist_metadata(&client, &file).await.unwrap_err();
    assert!(matches!(err, MetadataError::HashMismatch { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(WHEEL) && shown.contains(".metadata"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
    // Same origin as the index: its credentials went along, as pip sends them.
    let requests = server.requests().await;
    let metadata_request = requests
        .iter()
        .find(|r| r.url.path().ends_with(".metadata"))
        .unwrap();
    assert!(metadata_request.headers.get("authorization").is_some());
}

#[tokio::test]
async fn advertised_but_missing_metadata_file_falls_back_to_ranges() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 1000);
    serve_page(
        &server,
        "demo-pkg",
        &[PageFile::new(WHEEL, &wheel).with_metadata(&text)],
    )
    .await;
    serve_file(&server, WHEEL, wheel, true).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::WheelRange);
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
}

#[tokio::test]
async fn range_requests_read_metadata_near_the_end_in_one_request() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 600_000);
    let size = wheel.len();
    serve_page(&server, "demo-pkg", &[PageFile::new(WHEEL, &wheel)]).await;
    serve_file(&server, WHEEL, wheel, true).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::WheelRange);
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    let ranges = requests_for(&server, &file_path(WHEEL)).await;
    assert_eq!(
        ranges,
        [Some("bytes=-131072".to_owned())],
        "wheel of {size} bytes"
    );
}

#[tokio::test]
async fn range_requests_reach_metadata_at_the_start() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::Start, 600_000);
    serve_page(&server, "demo-pkg", &[PageFile::new(WHEEL, &wheel)]).await;
    serve_file(&server, WHEEL, wheel, true).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::WheelRange);
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    let ranges = requests_for(&server, &file_path(WHEEL)).await;
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    // The second asks for the METADATA member at the very start (header and data at once).
    let second = ranges[1].as_deref().unwrap();
    assert!(second.starts_with("bytes=0-"), "{second}");
    let end: u64 = second["bytes=0-".len()..].parse().unwrap();
    assert!(end < 4096, "{second}");
}

#[tokio::test]
async fn server_ignoring_ranges_gets_a_verified_full_download() {
    let server = IndexServer::start().await;
    let text = demo_metadata();
    let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::Start, 200_000);
    serve_page(&server, "demo-pkg", &[PageFile::new(WHEEL, &wheel)]).await;
    serve_file(&server, WHEEL, wheel.clone(), false).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::WheelDownload);
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    let ranges = requests_for(&server, &file_path(WHEEL)).await;
    assert_eq!(
        ranges,
        [Some("bytes=-131072".to_owned()), None],
        "one probe, then one plain download"
    );

    // The same wheel under a hash the index does not list: never read.
    let mut wrong = file.clone();
    wrong.hashes.insert("sha256".to_owned(), "0".repeat(64));
    let err = dist_metadata(&client, &wrong).await.unwrap_err();
    assert!(matches!(err, MetadataError::HashMismatch { .. }), "{err:?}");
    // No hash at all: a download cannot be checked, so it is refused.
    let mut unhashed = file.clone();
    unhashed.hashes.clear();
    let err = dist_metadata(&client, &unhashed).await.unwrap_err();
    assert!(matches!(err, MetadataError::Unverifiable { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_download_is_refused_before_fetching() {
    let server = IndexServer::start().await;
    let wheel = build_wheel("demo-pkg", "1.0", &demo_metadata(), MetadataAt::End, 10);
    let mut listed = PageFile::new(WHEEL, &wheel);
    listed.size = 300 * 1024 * 1024;
    serve_page(&server, "demo-pkg", &[listed]).await;
    serve_file(&server, WHEEL, wheel, false).await;

    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    let err = dist_metadata(&client, &file).await.unwrap_err();
    assert!(matches!(err, MetadataError::TooLarge { .. }), "{err:?}");
    // Only the range probe reached the file; its 200 body was not taken as the download.
    assert_eq!(requests_for(&server, &file_path(WHEEL)).await.len(), 1);
}

const SDIST: &str = "demo-pkg-2.0.tar.gz";

async fn sdist_metadata(pkg_info: &str) -> Result<DistMetadata, MetadataError> {
    let server = IndexServer::start().await;
    let sdist = build_sdist("demo-pkg", "2.0", pkg_info);
    serve_page(&server, "demo-pkg", &[PageFile::new(SDIST, &sdist)]).await;
    serve_file(&server, SDIST, sdist, true).await;
    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", SDIST).await;
    dist_metadata(&client, &file).await
}

#[tokio::test]
async fn sdist_with_static_metadata_is_read() {
    let pkg_info = "Metadata-Version: 2.2\nName: demo-pkg\nVersion: 2.0\n\
        Dynamic: Description\nRequires-Dist: requests>=2\n";
    let meta = sdist_metadata(pkg_info).await.unwrap();
    assert_eq!(meta.source, MetadataSource::Sdist);
    assert_eq!(
        meta.name, "demo-pkg",
        "the top PKG-INFO, not the egg-info decoy"
    );
    assert_eq!(requirement_names(&meta), ["requests"]);
}

#[tokio::test]
async fn sdist_with_dynamic_requirements_is_a_typed_outcome() {
    let dynamic = "Metadata-Version: 2.2\nName: demo-pkg\nVersion: 2.0\nDynamic: Requires-Dist\n";
    let err = sdist_metadata(dynamic).await.unwrap_err();
    assert!(err.is_dynamic(), "{err:?}");
    let MetadataError::DynamicSdist { name, version, .. } = &err else {
        unreachable!()
    };
    assert_eq!((name.as_str(), version.as_str()), ("demo-pkg", "2.0"));
    assert!(err.to_string().contains("never"), "{err}");

    // Before Metadata-Version 2.2 nothing says the requirements are final.
    let old = "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 2.0\nRequires-Dist: six\n";
    let err = sdist_metadata(old).await.unwrap_err();
    assert!(err.is_dynamic(), "{err:?}");
}

#[tokio::test]
async fn zip_bomb_and_lying_sizes_are_refused() {
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let member = "demo_pkg-1.0.dist-info/METADATA";

    // 20 MiB of text deflates to a few KB; its declared size is over the limit.
    let mut bomb_text = demo_metadata().into_bytes();
    bomb_text.resize(MAX_METADATA_BYTES + 4 * 1024 * 1024, b' ');
    let bomb = build_zip(member, &bomb_text, deflated);
    assert!(bomb.len() < 128 * 1024);
    let err = metadata_of_wheel(bomb).await.unwrap_err();
    assert!(matches!(err, MetadataError::TooLarge { .. }), "{err:?}");

    // A member whose central directory entry understates its inflated size (a plausible
    // twice the compressed size, for 1 MiB of content): inflation stops at the claim.
    let text = demo_metadata();
    let mut padded = text.clone().into_bytes();
    padded.resize(1024 * 1024, b' ');
    let mut liar = build_zip(member, &padded, deflated);
    let compressed = central_entry_field(&liar, 20);
    set_central_entry_field(&mut liar, 24, compressed * 2);
    let err = metadata_of_wheel(liar).await.unwrap_err();
    let MetadataError::Malformed { message, file, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("or more"), "{message}");
    assert_eq!(file, WHEEL);

    // A compressed size no deflate stream could have for the claimed content: refused before
    // any more of the archive is fetched.
    let mut liar = build_zip(member, &incompressible(8192), deflated);
    set_central_entry_field(&mut liar, 24, 10);
    let err = metadata_of_wheel(liar).await.unwrap_err();
    assert!(err.to_string().contains("compressed bytes"), "{err}");
}

#[tokio::test]
async fn garbage_and_wrong_metadata_are_clear_errors() {
    let err = metadata_of_wheel(b"PK\x03\x04 not really a zip".repeat(50))
        .await
        .unwrap_err();
    assert!(matches!(err, MetadataError::Malformed { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(WHEEL) && shown.contains("127.0.0.1"),
        "{shown}"
    );

    // A well-formed wheel whose METADATA describes another version.
    let other = metadata_text("demo-pkg", "6.6.6", &[]);
    let wheel = build_wheel("demo-pkg", "1.0", &other, MetadataAt::End, 10);
    let err = metadata_of_wheel(wheel).await.unwrap_err();
    assert!(err.to_string().contains("6.6.6"), "{err}");

    // A zip64 member (the 64-bit size fields) reads like any other.
    let large = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let zip64 = build_zip(
        "demo_pkg-1.0.dist-info/METADATA",
        demo_metadata().as_bytes(),
        large,
    );
    let meta = metadata_of_wheel(zip64.clone()).await.unwrap();
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    // And with zip64 end records, which archives of over 65535 members or 4 GiB carry.
    let meta = metadata_of_wheel(with_zip64_end_records(&zip64))
        .await
        .unwrap();
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
}

/// The same archive with a zip64 end-of-central-directory record and locator, and the classic
/// record's fields saturated so that only the zip64 values are usable.
fn with_zip64_end_records(zip: &[u8]) -> Vec<u8> {
    let eocd = zip.len() - 22;
    assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06");
    let entries = u16::from_le_bytes(zip[eocd + 10..eocd + 12].try_into().unwrap()) as u64;
    let cd_size = u32::from_le_bytes(zip[eocd + 12..eocd + 16].try_into().unwrap()) as u64;
    let cd_offset = u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().unwrap()) as u64;
    let mut out = zip[..eocd].to_vec();
    let record_at = out.len() as u64;
    out.extend_from_slice(b"PK\x06\x06");
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&[45, 0, 45, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(b"PK\x06\x07");
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&record_at.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0xFF; 4]);
    out.extend_from_slice(&[0xFF; 12]);
    out.extend_from_slice(&[0, 0]);
    out
}

/// Serves `wheel` as `demo_pkg-1.0-py3-none-any.whl` with ranges and reads its metadata.
async fn metadata_of_wheel(wheel: Vec<u8>) -> Result<DistMetadata, MetadataError> {
    let server = IndexServer::start().await;
    serve_page(&server, "demo-pkg", &[PageFile::new(WHEEL, &wheel)]).await;
    serve_file(&server, WHEEL, wheel, true).await;
    let client = client(&server.index_url());
    let file = dist_file(&client, "demo-pkg", WHEEL).await;
    dist_metadata(&client, &file).await
}

/// The central directory entry of the (only) member.
fn central_entry(zip: &[u8]) -> usize {
    let eocd = zip.len() - 22;
    assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06");
    let cd = u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    assert_eq!(&zip[cd..cd + 4], b"PK\x01\x02");
    cd
}

/// A 32-bit field of the only central directory entry (20: compressed size, 24: inflated).
fn central_entry_field(zip: &[u8], offset: usize) -> u32 {
    let at = central_entry(zip) + offset;
    u32::from_le_bytes(zip[at..at + 4].try_into().unwrap())
}

fn set_central_entry_field(zip: &mut [u8], offset: usize, value: u32) {
    let at = central_entry(zip) + offset;
    zip[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn blocking_wrapper_works_outside_a_runtime() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = IndexServer::start().await;
        let text = demo_metadata();
        let wheel = build_wheel("demo-pkg", "1.0", &text, MetadataAt::End, 1000);
        serve_page(&server, "demo-pkg", &[PageFile::new(WHEEL, &wheel)]).await;
        serve_file(&server, WHEEL, wheel, true).await;
        server
    });
    let settings = IndexSettings::single(&server.index_url()).unwrap();
    let blocking = BlockingIndexClient::new(&settings, options()).unwrap();
    let project = blocking.project("demo-pkg").unwrap().unwrap();
    let file = project.files().next().unwrap().clone();
    let meta = blocking_dist_metadata(&blocking, &file).unwrap();
    assert_eq!(requirement_names(&meta), ["numpy", "pywin32", "rich"]);
    drop(blocking);
    drop(server);
}

/// Real wheels on PyPI: METADATA read with range requests gives the same requirements as the
/// PEP 658 file, for a small pure wheel, a compiled one and torch's (hundreds of MB, thousands
/// of members).
#[tokio::test]
#[cfg_attr(
    not(feature = "live-tests"),
    ignore = "needs the network (--features live-tests)"
)]
async fn live_range_metadata_matches_pep658() {
    use mlsupply::index::CoreMetadata;
    let client = IndexClient::new(
        &IndexSettings::single("https://pypi.org/simple/").unwrap(),
        ClientOptions::default(),
    )
    .unwrap();
    for (project, filename) in [
        ("requests", "requests-2.31.0-py3-none-any.whl"),
        (
            "numpy",
            "numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ),
        ("torch", "torch-2.5.1-cp312-cp312-manylinux1_x86_64.whl"),
    ] {
        let file = dist_file(&client, project, filename).await;
        // This index may not advertise PEP 658 files that it serves (a known mirror habit):
        // ask for the `.metadata` file explicitly, and for the ranges without it.
        let mut pep658_file = file.clone();
        if pep658_file.core_metadata == CoreMetadata::Absent {
            pep658_file.core_metadata = CoreMetadata::Available {
                hashes: Default::default(),
            };
        }
        let started = std::time::Instant::now();
        let pep658 = dist_metadata(&client, &pep658_file).await.unwrap();
        let pep658_time = started.elapsed();
        let mut ranged_file = file.clone();
        ranged_file.core_metadata = CoreMetadata::Absent;
        let started = std::time::Instant::now();
        let ranged = dist_metadata(&client, &ranged_file).await.unwrap();
        let ranged_time = started.elapsed();
        // Where the index has no `.metadata` file either, the first call used ranges too.
        assert!(
            matches!(
                pep658.source,
                MetadataSource::MetadataFile | MetadataSource::WheelRange
            ),
            "{filename}"
        );
        assert_eq!(ranged.source, MetadataSource::WheelRange, "{filename}");
        assert_eq!(
            pep658
                .requires_dist
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ranged
                .requires_dist
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            "{filename}"
        );
        assert_eq!(pep658.version, ranged.version);
        assert!(pep658.problems.is_empty(), "{:?}", pep658.problems);
        eprintln!(
            "{filename} ({} MB): {:?} {pep658_time:?}, ranges {ranged_time:?}, {} requirements",
            file.size.unwrap_or(0) >> 20,
            pep658.source,
            ranged.requires_dist.len()
        );
    }
}

/// Real sdists: hatchling writes static Metadata-Version 2.3 (read), older setuptools 2.1
/// (dynamic by rule). Neither is built.
#[tokio::test]
#[cfg_attr(
    not(feature = "live-tests"),
    ignore = "needs the network (--features live-tests)"
)]
async fn live_sdists_are_read_or_reported_dynamic() {
    let client = IndexClient::new(
        &IndexSettings::single("https://pypi.org/simple/").unwrap(),
        ClientOptions::default(),
    )
    .unwrap();
    let file = dist_file(&client, "urllib3", "urllib3-2.2.3.tar.gz").await;
    let meta = dist_metadata(&client, &file).await.unwrap();
    assert_eq!(meta.source, MetadataSource::Sdist);
    assert!(meta.metadata_version_number() >= Some((2, 2)));
    assert!(
        meta.requires_dist
            .iter()
            .any(|r| r.name.as_ref() == "brotli")
    );
    let file = dist_file(&client, "requests", "requests-2.31.0.tar.gz").await;
    let err = dist_metadata(&client, &file).await.unwrap_err();
    assert!(err.is_dynamic(), "{err}");
    eprintln!("{err}");
}
