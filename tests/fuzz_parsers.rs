//! The fuzz targets' oracles (`mlsupply::fuzzing`, shared with `fuzz/`) run in CI: on every
//! fixture they read, then on seeded random mutations of those fixtures. By default a few
//! hundred cases per parser (seconds); `MLSUPPLY_FUZZ_SECONDS=120` runs for that long in all,
//! split between the parsers, and `MLSUPPLY_FUZZ_SEED=n` picks another sequence. A failing
//! input is written under `target/fuzz-failures/` and its path printed, to replay with
//! `cargo fuzz run <target> <path>`, or here with `MLSUPPLY_FUZZ_INPUT=<path> cargo test
//! --test fuzz_parsers <target>` (which then runs only that input). Inputs fuzzing failed on
//! before, kept in `fuzz/artifacts-notes/<target>-*`, are replayed as seeds on every run.

use std::path::Path;
use std::time::{Duration, Instant};

use mlsupply::fuzzing;

#[path = "support/tree.rs"]
mod tree;

/// Mutations per parser when no time budget is asked for.
const DEFAULT_CASES: usize = 300;
/// Inputs stay below this size: the aim is many cases, and the oracles' whole-file parses are
/// slow in a debug build.
const MAX_LEN: usize = 16 * 1024;

const TARGETS: usize = 5;

/// Byte strings that matter to one parser or another, spliced in by the mutator.
const TOKENS: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    "\\\n",
    " ",
    "\t",
    "\"",
    "'",
    "\\",
    "#",
    "$",
    "${A}",
    "$(A)",
    "$$",
    "`",
    ";",
    "&&",
    "|",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "=",
    ":=",
    "+=",
    "?=",
    "@",
    ",",
    "==",
    ">=",
    "~=",
    "===",
    " @ ",
    "; ",
    "--hash=sha256:",
    "-r ",
    "-c ",
    "-e ",
    "--index-url ",
    "git+https://",
    "https://x/a.whl",
    "#egg=",
    "import ",
    "from ",
    "as ",
    "def ",
    "class ",
    "lambda",
    "f\"{",
    "\"\"\"",
    "'''",
    "from_pretrained(",
    "hf_hub_download(",
    "torch.load(",
    "huggingface_hub",
    "pipeline(",
    "revision=",
    "trust_remote_code=True",
    "HF_ENDPOINT",
    "\"cells\"",
    "\"source\"",
    "\"cell_type\"",
    "\"code\"",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\\"",
    "pip install ",
    "uv pip install ",
    "python -m pip install ",
    "hf download ",
    "git clone https://huggingface.co/",
    "<<EOF\n",
    "\nEOF\n",
    "define V\n",
    "endef\n",
    "\tpip ",
    "all: ; ",
    "é",
    "\u{2028}",
    "\u{85}",
    "\u{feff}",
    "\0",
];

/// A small xorshift generator: the same seed gives the same cases on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits of `input`: byte changes, token insertions, deletions, repeats of
/// a slice and splices from another seed.
fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 => out.insert(at, b" \t\n\\\"'#$(){}[]=;:@,.-_\x00\xff"[rng.below(23)]),
            2 | 3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            5 => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                let piece = out[at.min(end)..end].to_vec();
                for _ in 0..rng.below(8) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                let start = rng.below(other.len() + 1);
                let end = (start + rng.below(256)).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
        }
    }
    out.truncate(MAX_LEN);
    out
}

fn fixtures(patterns: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let paths = tree::files_under(&root);
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            patterns.iter().any(|p| match p.strip_prefix('*') {
                Some(suffix) => name.ends_with(suffix),
                None => name.starts_with(p),
            })
        })
        .map(|path| std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect();
    assert!(!seeds.is_empty(), "no fixture matches {patterns:?}");
    seeds
}

/// The inputs fuzzing has failed on before (`fuzz/artifacts-notes/<target>-*`), kept as seeds so
/// that every run replays them.
fn regressions(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/artifacts-notes");
    tree::files_under(&dir)
        .into_iter()
        .filter(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            file.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('-'))
        })
        .map(|path| std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

/// Runs `oracle` on the seeds, then on mutations until the case count or the time budget is
/// spent. A failing input is saved and reported with its path.
fn run(name: &str, patterns: &[&str], oracle: fn(&[u8])) {
    if let Ok(path) = std::env::var("MLSUPPLY_FUZZ_INPUT") {
        let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        oracle(&input);
        return;
    }
    let mut seeds = fixtures(patterns);
    seeds.extend(regressions(name));
    let budget = env_number("MLSUPPLY_FUZZ_SECONDS")
        .map(|seconds| Duration::from_secs_f64(seconds as f64 / TARGETS as f64));
    let seed = env_number("MLSUPPLY_FUZZ_SEED").unwrap_or(0x6d6c_7375_7070_6c79);
    let mut rng = Rng((seed ^ fingerprint(name.as_bytes())) | 1);
    let started = Instant::now();
    let check = |input: &[u8]| {
        let result = std::panic::catch_unwind(|| oracle(input));
        if result.is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            std::fs::create_dir_all(&dir).expect("create target/fuzz-failures");
            let path = dir.join(format!("{name}-{seed:x}-{:x}", fingerprint(input)));
            std::fs::write(&path, input).expect("write the failing input");
            panic!(
                "{name}: the oracle failed on the input saved at {} ({} bytes, seed {seed:#x})",
                path.display(),
                input.len()
            );
        }
    };
    for input in &seeds {
        check(input);
    }
    let mut cases = 0;
    loop {
        let done = match budget {
            Some(budget) => started.elapsed() >= budget,
            None => cases >= DEFAULT_CASES,
        };
        if done {
            break;
        }
        let base = &seeds[rng.below(seeds.len())];
        let mut input = mutate(&mut rng, base, &seeds);
        // Half of the cases build on the previous mutation, to get further from the fixtures.
        for _ in 0..rng.below(3) {
            input = mutate(&mut rng, &input, &seeds);
        }
        check(&input);
        cases += 1;
    }
    eprintln!(
        "{name}: {} seeds and {cases} mutations in {:.1?} (seed {seed:#x})",
        seeds.len(),
        started.elapsed()
    );
}

fn fingerprint(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn requirements() {
    run(
        "requirements",
        &["*.txt", "*.in", "requirements"],
        fuzzing::requirements,
    );
}

#[test]
fn hub_focus() {
    run("hub_focus", &["*.py"], fuzzing::hub_focus);
}

#[test]
fn notebook() {
    run("notebook", &["*.ipynb"], fuzzing::notebook);
}

#[test]
fn shell() {
    run("shell", &["*.sh", "Dockerfile"], fuzzing::shell);
}

#[test]
fn makefile() {
    run("makefile", &["Makefile", "*.mk"], fuzzing::makefile);
}
