//! The focused parse (only the statements that can matter, `hub::focus`) must give exactly what
//! the whole-file parse gives: the same fetches and hazards at the same positions. Checked on
//! every hub fixture, on random files assembled from loader forms, tricky layouts and everyday
//! code, and on the benchmark's own generator (`bench/hub/make_tree.py`) at a smaller size.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlsupply::hub::{self, focus, python::Parse};
use mlsupply::source::SourceFile;
use proptest::prelude::*;

#[path = "support/tree.rs"]
mod tree;

fn both_ways(file: &SourceFile) -> (hub::Scanned, hub::Scanned) {
    (
        hub::scan_file_with(file, Parse::Whole),
        hub::scan_file_with(file, Parse::Focused),
    )
}

/// Counts from [`compare_tree`].
#[derive(Debug, Default)]
struct Compared {
    files: usize,
    /// Python files the focused parse narrowed as they are.
    narrowed: usize,
    /// Python files it narrowed once everyday code was added after them.
    narrowed_padded: usize,
    python: Vec<String>,
}

/// Compares both parses on every file below `root` the hub reads.
fn compare_tree(root: &Path) -> Compared {
    let paths = tree::files_under(root);
    let mut out = Compared::default();
    for path in paths {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if !hub::wants(&rel) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file = SourceFile::new(rel.clone(), &path, text.clone());
        let (whole, focused) = both_ways(&file);
        assert_eq!(whole, focused, "{rel}: the focused parse differs");
        out.files += 1;
        if rel.ends_with(".py") {
            out.narrowed += usize::from(focus::focus(&file.text).is_some());
            out.python.push(rel.clone());
            // Fixtures are dense with loaders: with everyday code after them, the focused parse
            // leaves most of the file out and must still find the same.
            let mut padded = text;
            while padded.len() < 4 * file.text.len() + 2_000 {
                for block in ORDINARY {
                    padded.push_str("\n\n");
                    padded.push_str(block);
                }
            }
            let file = SourceFile::new(rel.clone(), &path, padded);
            let (whole, focused) = both_ways(&file);
            assert_eq!(whole, focused, "{rel} (padded): the focused parse differs");
            if focus::focus(&file.text).is_some() {
                out.narrowed_padded += 1;
            } else {
                eprintln!("{rel} (padded): parsed whole");
            }
        }
    }
    out
}

#[test]
fn fixtures_give_the_same_scan_focused_and_whole() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let hub = compare_tree(&fixtures.join("hub"));
    let surfaces = compare_tree(&fixtures.join("hub_surfaces"));
    assert!(
        hub.files >= 10 && surfaces.files >= 5,
        "{hub:?} {surfaces:?}"
    );
    let python = hub.python.len() + surfaces.python.len();
    let narrowed = hub.narrowed_padded + surfaces.narrowed_padded;
    assert!(narrowed >= python - 1, "{hub:?} {surfaces:?}");
}

#[test]
fn the_benchmark_tree_gives_the_same_scan_focused_and_whole() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/hub/make_tree.py");
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("tree");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&tree)
        .args(["--py", "400", "--nb", "30", "--seed", "11"])
        .output()
        .expect("python3 runs bench/hub/make_tree.py");
    assert!(status.status.success(), "{status:?}");
    let compared = compare_tree(&tree);
    assert_eq!(compared.files, 430);
    // About one file in eight has a loader; most of those are narrowed as generated.
    assert!(compared.narrowed >= 30, "{compared:?}");
}

/// Loader forms, each a few top-level statements; several reach their id through a name bound
/// in another statement, which the focused parse must keep.
const LOADERS: &[&str] = &[
    "from transformers import AutoModel, AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained(\"acme/m\")\n",
    "MODEL_ID = \"someone/model\"\n",
    "REV = \"main\"\n",
    "def build():\n    return AutoModel.from_pretrained(MODEL_ID, revision=REV)\n",
    "import torch\n\nstate = torch.load(\"checkpoints/x.pt\")\n",
    "from torch import load as tl\n",
    "weights = tl(\"w.pt\")\n",
    "URL = \"hf://datasets/acme/data/train.csv\"\n",
    "frame = pd.read_csv(URL)\n",
    "KEY = \"HF_ENDPOINT\"\n",
    "os.environ.setdefault(KEY, \"https://mirror.example.com\")\n",
    "os.environ[KEY] = \"https://other-mirror.example.com\"\n",
    "def cli():\n    parser.add_argument(\"--model-name\", default=\"acme/cli-model\")\n    parser.add_argument(\"-r\", dest=\"rev_cli\", default=\"v1\")\n    return parser.parse_args()\n",
    "def main(args):\n    return AutoModel.from_pretrained(args.model_name, revision=args.rev_cli)\n",
    "@dataclass\nclass Settings:\n    model_path: str = field(default=\"org/settings-model\")\n",
    "def run(settings):\n    return AutoModel.from_pretrained(settings.model_path)\n",
    "KW = dict(revision=\"v2\", trust_remote_code=True)\n",
    "model = AutoModelForCausalLM.from_pretrained(\"acme/causal\", **KW)\n",
    "ORG = \"acme\"\nNAME = f\"{ORG}/fmodel\"\n",
    "pipe = pipeline(\"text-generation\", model=NAME if fast else \"other/slow\")\n",
    "def loader(name=\"default-org/default-model\"):\n    return SentenceTransformer(name)\n",
    "path = hf_hub_download(\"acme/m\", \"model.pkl\")\n",
    "with open(path, \"rb\") as fh:\n    obj = pickle.load(fh)\n",
    "obj2 = pickle.load(open(path, \"rb\"))\n",
    "from transformers import pipeline as make_pipe\n",
    "classifier = make_pipe(\"sentiment-analysis\")\n",
    "if USE_MIRROR:\n    ENDPOINT = \"https://mirror.example.org\"\nelse:\n    ENDPOINT = \"https://huggingface.co\"\n",
    "snapshot = snapshot_download(\"acme/snap\", endpoint=ENDPOINT)\n",
    "try:\n    import vllm\nexcept ImportError:\n    vllm = None\n",
    "engine = vllm.LLM(model=MODEL_ID)\n",
    "MODEL_ID = \"models/shadowed\"\n",
    "timm_net = timm.create_model(\"hf-hub:acme/vit\")\n",
    "clip = open_clip.create_model_and_transforms(\"hf-hub:\" \"laion/clip\")\n",
    "hub_model = torch.hub.load(\"pytorch/vision\", \"resnet50\", skip_validation=True)\n",
    "llm = Llama.from_pretrained(repo_id=\"acme/gguf\", filename=\"*.gguf\")\n",
    "ds = load_dataset(\"acme/ds\", revision=REV)\n",
    "adapter = PeftModel.from_pretrained(base, \"acme/adapter\")\n",
];

/// Layouts the statement splitter must get right, with needles in strings and comments.
const TRICKY: &[&str] = &[
    "DOC = \"\"\"\nload(\"not/code\")\n  indented\nMODEL_ID = \"inside/docstring\"\n\"\"\"\n",
    "value = compute(1,\n    2,\n# a comment at column 0: load\n    3)\n",
    "total = first + \\\n    second\n",
    "label = f\"{user['name']}: {count:>{width}} {{braces}}\"\n",
    "nested = f\"{'load' if x else f'{y!r}'}\"\n",
    "# load(\"commented/out\")\n",
    "x = 1; y = from_pretrained_like(x)\n",
    "async def poll():\n    async with session.get(url) as resp:\n        return await resp.json()\n",
    "raw = r\"C:\\path\\load\" + b'\\x00'.decode()\n",
    "class Loader:\n    \"\"\"Loads things.\"\"\"\n\n    def load(self, name=MODEL_ID):\n        return AutoModel.from_pretrained(name)\n",
    "lam = lambda name=\"acme/lambda\": name\n",
    "items = {\"model\": \"acme/dict\", \"revision\": REV}\n",
    "while False:\n    pass\nelse:\n    fallback = AutoModel.from_pretrained(\"acme/else\")\n",
    "match command:\n    case \"load\":\n        loaded = torch.load(\"x.pt\")\n    case _:\n        pass\n",
    "\u{feff}emoji = \"\u{1f600} load\"\n",
    "def broken(:\n    pass\n",
    "s = 'unterminated load\n",
];

const ORDINARY: &[&str] = &[
    "def keep_largest(values, limit=3):\n    result = sorted(values, reverse=True)\n    return result[:limit]\n",
    "@dataclass\nclass Record:\n    count: int = 0\n    tags: list[str] = field(default_factory=list)\n",
    "def test_sum():\n    data = {\"a\": [1, 2, 3]}\n    assert sum(data[\"a\"]) == 6\n",
    "def parse_args(argv=None):\n    parser = argparse.ArgumentParser(description=\"x\")\n    parser.add_argument(\"--batch-size\", type=int, default=8)\n    return parser.parse_args(argv)\n",
    "logger = logging.getLogger(__name__)\n",
    "import argparse\nimport logging\nfrom dataclasses import dataclass, field\n",
];

fn snippet(index: usize) -> &'static str {
    let all = LOADERS.len() + TRICKY.len() + ORDINARY.len();
    let i = index % all;
    if i < LOADERS.len() {
        LOADERS[i]
    } else if i < LOADERS.len() + TRICKY.len() {
        TRICKY[i - LOADERS.len()]
    } else {
        ORDINARY[i - LOADERS.len() - TRICKY.len()]
    }
}

fn notebook(cells: &[String]) -> String {
    let cells: Vec<_> = cells
        .iter()
        .map(|code| {
            serde_json::json!({
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": code.split_inclusive('\n').collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "cells": cells,
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }))
    .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_files_give_the_same_scan_focused_and_whole(
        picks in prop::collection::vec(0usize..1000, 1..24),
        padding in 0usize..40,
        as_notebook in any::<bool>(),
    ) {
        let mut parts: Vec<String> = picks.iter().map(|&i| snippet(i).to_string()).collect();
        // Everyday code around the loaders, as in a real module.
        for k in 0..padding {
            parts.insert((k * 7) % (parts.len() + 1), ORDINARY[k % ORDINARY.len()].to_string());
        }
        let (rel, text) = if as_notebook {
            let mut cells = parts.clone();
            cells.push("!hf download acme/cli-model\n%env HF_ENDPOINT=https://mirror.example\n".into());
            ("generated.ipynb", notebook(&cells))
        } else {
            ("generated.py", parts.join("\n\n"))
        };
        let file = SourceFile::new(rel, rel, text);
        let (whole, focused) = both_ways(&file);
        prop_assert_eq!(whole, focused, "{}", file.text);
    }
}

/// Files without a needle are not indexed nor kept for rendering, unless they hold an ignore
/// comment: the suppression pass must still see those and report an unused one.
#[test]
fn files_without_a_needle_keep_their_ignore_comments() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("plain.py"),
        "x = 1  # MLSupply: ignore[untrusted-org] nothing here to ignore\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("other.py"), "y = 2\n").expect("write");
    std::fs::write(
        dir.path().join("loads.py"),
        "from transformers import AutoModel\nAutoModel.from_pretrained(\"someone/m\")\n",
    )
    .expect("write");
    let target = mlsupply::scan::Target {
        root: dir.path().to_path_buf(),
        paths: Vec::new(),
    };
    let scanned = hub::scan(&target, &mlsupply::config::Config::default());
    let kept: Vec<&str> = scanned
        .sources
        .iter()
        .map(|f| f.rel_path.as_str())
        .collect();
    assert_eq!(kept, ["loads.py", "plain.py"]);
    let findings = mlsupply::scan::finish(
        scanned.findings,
        &scanned.sources,
        &[mlsupply::rules::Tool::Hub],
    );
    let at: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.path.as_str(), f.rule.as_ref()))
        .collect();
    assert!(at.contains(&("plain.py", "invalid-ignore")), "{at:?}");
    assert!(at.contains(&("loads.py", "untrusted-org")), "{at:?}");
    assert!(!at.iter().any(|(path, _)| *path == "other.py"), "{at:?}");
}

/// A name bound and used many times over in one statement (here a huge erroneous one after a hub
/// import) or across many statements: the splitter follows each name to its bindings once, not
/// once per use (issue 19: 9 s for 100 KB in a debug build). The whole file is parsed, as before.
#[test]
fn names_used_many_times_are_followed_once() {
    let mut one_statement = String::from(
        "from transformers import AutoModel\nAutoModel.from_pretrained(\"someone/m\")\n",
    );
    one_statement.push_str("import huggingface_hub as h");
    one_statement.push_str(&"x==1 ".repeat(20_000));
    let mut many_statements = String::from(
        "from transformers import AutoModel\nAutoModel.from_pretrained(\"someone/m\")\n",
    );
    many_statements.push_str(&"x = 1\n".repeat(10_000));
    many_statements.push_str("h = AutoModel(");
    many_statements.push_str(&"x, ".repeat(10_000));
    many_statements.push_str(")\n");
    for text in [one_statement, many_statements] {
        let file = SourceFile::new("big.py", "big.py", text);
        let (whole, focused) = both_ways(&file);
        assert!(whole == focused, "the focused scan differs");
        let ids: Vec<(&hub::RepoId, u32)> = focused
            .fetches
            .iter()
            .map(|f| (&f.id, f.span.line))
            .collect();
        assert_eq!(ids, [(&hub::RepoId::Known("someone/m".into()), 2)]);
    }
}
