//! Where `mlsupply-hub`'s time goes. First the real pipeline as the binary runs it (the scan on
//! every core, then the serial suppression pass and the JSON rendering), then each step of the
//! scan again on one thread: reading, the needle prefilter, line indexes, parsing (focused and,
//! for comparison, whole), judging. Used by bench/hub/run.sh.
//!
//! usage: hub_phases TREE

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mlsupply::config::Config;
use mlsupply::hub::{self, Context, TrustedOrgs, python, python::Parse};
use mlsupply::output::{self, Format, Report};
use mlsupply::rules::{self, Tool};
use mlsupply::scan::Target;

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

    // The pipeline of `mlsupply-hub --format json`.
    let start = Instant::now();
    let target = Target {
        root: root.clone(),
        paths: Vec::new(),
    };
    let scanned = hub::scan(&target, &config);
    let scan = start.elapsed();
    let start = Instant::now();
    let findings = mlsupply::scan::finish(scanned.findings, &scanned.sources, &[Tool::Hub]);
    let finish = start.elapsed();
    let start = Instant::now();
    let rules = rules::for_tools(&[Tool::Hub]);
    let report = Report {
        tool: "mlsupply-hub",
        findings: &findings,
        rules: &rules,
        sources: &scanned.sources,
    };
    let mut rendered = Vec::new();
    output::render(Format::Json, &report, &mut rendered, false)?;
    let render = start.elapsed();

    // The same steps on one thread.
    let start = Instant::now();
    mlsupply::files::visit(&root, &[], &config.exclude, &|_| false, &|t| Some(t));
    let walk = start.elapsed();
    let start = Instant::now();
    let texts = mlsupply::files::visit(
        &root,
        &[],
        &config.exclude,
        &|rel| python::wants(rel),
        &|t| Some(t),
    )
    .items;
    let read = start.elapsed();
    let start = Instant::now();
    let passing: Vec<_> = texts
        .iter()
        .filter(|t| t.rel_path.ends_with(".ipynb") || python::may_fetch(&t.text))
        .cloned()
        .collect();
    let prefilter = start.elapsed();
    let start = Instant::now();
    let files: Vec<_> = passing.into_iter().map(|t| t.into_source()).collect();
    let index = start.elapsed();
    let (notebooks, py): (Vec<_>, Vec<_>) =
        files.iter().partition(|f| f.rel_path.ends_with(".ipynb"));
    let timed = |files: &[&mlsupply::source::SourceFile], parse: Parse| {
        let start = Instant::now();
        let scanned: Vec<_> = files
            .iter()
            .map(|f| hub::scan_file_with(f, parse))
            .collect();
        (start.elapsed(), scanned)
    };
    let (py_focused, py_scanned) = timed(&py, Parse::Focused);
    let (py_whole, _) = timed(&py, Parse::Whole);
    let (nb_focused, nb_scanned) = timed(&notebooks, Parse::Focused);
    let (nb_whole, _) = timed(&notebooks, Parse::Whole);
    let orgs = TrustedOrgs::new(config.hub.trusted_orgs.iter().map(|a| a.name.as_str()));
    let cx = Context::new(&config, &orgs, &root);
    let start = Instant::now();
    let judged: usize = py
        .iter()
        .zip(&py_scanned)
        .chain(notebooks.iter().zip(&nb_scanned))
        .map(|(file, s)| hub::judge(file, s, &cx).len())
        .sum();
    let judge = start.elapsed();

    let bytes: usize = texts.iter().map(|t| t.text.len()).sum();
    println!(
        "files={} bytes={bytes} parsed={} findings={} judged={judged} json_bytes={}",
        texts.len(),
        files.len(),
        findings.len(),
        rendered.len()
    );
    println!("pipeline_scan_all_threads_ms={:.1}", ms(scan));
    println!("pipeline_finish_ms={:.1}", ms(finish));
    println!("pipeline_render_json_ms={:.1}", ms(render));
    println!("walk_only_ms={:.1}", ms(walk));
    println!("read_all_threads_ms={:.1}", ms(read));
    println!("prefilter_ms={:.1}", ms(prefilter));
    println!("line_index_ms={:.1}", ms(index));
    println!(
        "scan_py_focused_ms={:.1} (whole: {:.1})",
        ms(py_focused),
        ms(py_whole)
    );
    println!(
        "scan_notebooks_focused_ms={:.1} (whole: {:.1})",
        ms(nb_focused),
        ms(nb_whole)
    );
    println!("judge_ms={:.1}", ms(judge));
    Ok(())
}
