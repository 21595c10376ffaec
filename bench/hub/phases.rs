//! Where `mlsupply-hub`'s time goes, phase by phase, on one thread: walking and reading the
//! tree, the needle prefilter, parsing the files that pass it, judging the fetches, and the
//! suppression and fingerprint pass. Used by bench/hub/run.sh.
//!
//! usage: hub_phases TREE

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mlsupply::config::Config;
use mlsupply::hub::{self, Context, TrustedOrgs, python};
use mlsupply::rules::Tool;
use mlsupply::source::SourceMap;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: hub_phases TREE"))?,
    )
    .canonicalize()?;
    let config = Config::default();

    let start = Instant::now();
    let collected =
        mlsupply::files::collect(&root, &[], &config.exclude, &|rel| python::wants(rel));
    let collect = start.elapsed();

    let start = Instant::now();
    let passing = collected
        .files
        .iter()
        .filter(|f| f.rel_path.ends_with(".ipynb") || python::may_fetch(&f.text))
        .count();
    let prefilter = start.elapsed();

    let start = Instant::now();
    let scanned: Vec<_> = collected.files.iter().map(python::scan_file).collect();
    let parse = start.elapsed();
    let start = Instant::now();
    for file in collected
        .files
        .iter()
        .filter(|f| f.rel_path.ends_with(".ipynb"))
    {
        std::hint::black_box(python::scan_file(file));
    }
    let notebooks = start.elapsed();
    // The tree-sitter parse alone, for the Python files that pass the prefilter.
    let start = Instant::now();
    for file in collected
        .files
        .iter()
        .filter(|f| f.rel_path.ends_with(".py") && python::may_fetch(&f.text))
    {
        std::hint::black_box(mlsupply::pyparse::parse(&file.text).is_ok());
    }
    let tree_sitter = start.elapsed();

    let orgs = TrustedOrgs::new(config.hub.trusted_orgs.iter().map(|a| a.name.as_str()));
    let cx = Context::new(&config, &orgs, &root);
    let start = Instant::now();
    let findings: Vec<_> = collected
        .files
        .iter()
        .zip(&scanned)
        .flat_map(|(file, s)| hub::judge(file, s, &cx))
        .collect();
    let judge = start.elapsed();

    let start = Instant::now();
    let mut sources = SourceMap::default();
    for file in collected.files.iter().cloned() {
        sources.insert(file);
    }
    let n = mlsupply::scan::finish(findings, &sources, &[Tool::Hub]).len();
    let finish = start.elapsed();

    let bytes: usize = collected.files.iter().map(|f| f.text.len()).sum();
    println!(
        "files={} bytes={bytes} parsed={passing} findings={n}",
        collected.files.len()
    );
    println!("collect_ms={:.1}", ms(collect));
    println!("prefilter_ms={:.1}", ms(prefilter));
    println!("scan_ms={:.1}", ms(parse));
    println!("scan_notebooks_ms={:.1}", ms(notebooks));
    println!("tree_sitter_parse_py_ms={:.1}", ms(tree_sitter));
    println!("judge_ms={:.1}", ms(judge));
    println!("finish_ms={:.1}", ms(finish));
    Ok(())
}
