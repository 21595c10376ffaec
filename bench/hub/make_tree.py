#!/usr/bin/env python3
"""Generates a deterministic tree of Python files and notebooks for the mlsupply-hub benchmark.

usage: make_tree.py OUT_DIR [--py 5000] [--nb 200] [--seed 5]

Most files are ordinary code (data classes, helpers, CLI parsing, tests); about one in eight
fetches a model or a dataset, with every kind of loader the hub scanner knows: transformers,
diffusers, huggingface_hub, datasets, sentence-transformers, timm, open_clip, torch.hub,
torch.load, pickle, modelscope, vLLM, llama.cpp. Notebooks have 6 to 14 cells, code and markdown,
some with outputs. The same seed always writes the same bytes.
"""

import argparse
import json
import random
import shutil
from pathlib import Path

ORGS = ["bert-base-uncased", "google/flan-t5-base", "meta-llama/Llama-2-7b-hf",
        "mistralai/Mistral-7B-v0.1", "stabilityai/stable-diffusion-2-1", "openai/clip-vit-base-patch32",
        "facebook/bart-large-cnn", "sentence-transformers/all-MiniLM-L6-v2", "randomuser/bert-finetuned",
        "meta-llarna/Llama-2-7b-hf", "some-lab/whisper-small-ft", "Qwen/Qwen2-7B-Instruct",
        "tiiuae/falcon-7b", "microsoft/phi-2", "EleutherAI/gpt-neo-125m"]
DATASETS = ["squad", "glue", "imdb", "HuggingFaceH4/ultrachat_200k", "someone/scraped-data",
            "allenai/c4", "openwebtext"]
PIN = "0123456789abcdef0123456789abcdef01234567"

# Loader snippets: each a few lines of code fetching something, formatted with {m} (model id),
# {d} (dataset id), {v} (variable suffix).
LOADERS = [
    'from transformers import AutoModel, AutoTokenizer\n\ntok_{v} = AutoTokenizer.from_pretrained("{m}")\n'
    'model_{v} = AutoModel.from_pretrained("{m}", revision="main")\n',
    'from transformers import AutoModelForCausalLM\n\nmodel_{v} = AutoModelForCausalLM.from_pretrained(\n'
    '    "{m}",\n    trust_remote_code=True,\n    torch_dtype="auto",\n)\n',
    'from transformers import pipeline\n\nclf_{v} = pipeline("text-classification", model="{m}", revision="' + PIN + '")\n',
    'from diffusers import DiffusionPipeline\n\npipe_{v} = DiffusionPipeline.from_pretrained("{m}", use_safetensors=False)\n',
    'from huggingface_hub import hf_hub_download, snapshot_download\n\npath_{v} = hf_hub_download(repo_id="{m}", '
    'filename="pytorch_model.bin")\nsnap_{v} = snapshot_download("{m}")\n',
    'from datasets import load_dataset\n\nds_{v} = load_dataset("{d}", split="train")\n',
    'from sentence_transformers import SentenceTransformer\n\nenc_{v} = SentenceTransformer("{m}")\n',
    'import timm\n\nnet_{v} = timm.create_model("hf_hub:{m}", pretrained=True)\n',
    'import open_clip\n\nclip_{v}, _, prep_{v} = open_clip.create_model_and_transforms("hf-hub:{m}")\n',
    'import torch\n\nhub_{v} = torch.hub.load("pytorch/vision", "resnet50", pretrained=True)\n',
    'import torch\n\nstate_{v} = torch.load("checkpoints/model_{v}.pt")\nsafe_{v} = torch.load("w.pt", weights_only=True)\n',
    'import pickle\n\nwith open("cache_{v}.pkl", "rb") as fh:\n    cached_{v} = pickle.load(fh)\n',
    'from modelscope import snapshot_download as ms_download\n\nms_{v} = ms_download("{m}")\n',
    'from vllm import LLM\n\nllm_{v} = LLM(model="{m}", trust_remote_code=True)\n',
    'from llama_cpp import Llama\n\nllama_{v} = Llama.from_pretrained(repo_id="{m}", filename="*q4_0.gguf")\n',
    'import os\n\nos.environ["HF_ENDPOINT"] = "https://hf-mirror.example.com"\n',
    'from peft import PeftModel\n\nadapted_{v} = PeftModel.from_pretrained(base, "{m}")\n',
]

WORDS = ["user", "order", "item", "batch", "record", "config", "metric", "sample", "token", "frame",
         "event", "shard", "worker", "queue", "cache", "report", "window", "score", "label", "feature"]


def ident(rng):
    return f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"


def ordinary_block(rng):
    """One top-level block of everyday code: a class, a function, a test, or a CLI."""
    kind = rng.randrange(5)
    a, b, c = ident(rng), ident(rng), ident(rng)
    if kind == 0:
        cls = "".join(w.title() for w in a.split("_"))
        return (f"@dataclass\nclass {cls}:\n    \"\"\"A {a.replace('_', ' ')} as read from the store.\"\"\"\n\n"
                f"    {b}: int = 0\n    {c}: str = \"\"\n    tags: list[str] = field(default_factory=list)\n\n"
                f"    def describe(self) -> str:\n        return f\"{{self.{b}}}:{{self.{c}}}\"\n\n"
                f"    def merge(self, other: \"{cls}\") -> \"{cls}\":\n"
                f"        return {cls}(self.{b} + other.{b}, self.{c} or other.{c}, self.tags + other.tags)\n")
    if kind == 1:
        n = rng.randint(2, 9)
        return (f"def {a}(values: Iterable[float], limit: int = {n}) -> list[float]:\n"
                f"    \"\"\"Keeps the {n} largest values, in order.\"\"\"\n"
                f"    result = []\n    for value in values:\n        if value is None:\n            continue\n"
                f"        result.append(float(value))\n    result.sort(reverse=True)\n"
                f"    logger.debug(\"{a}: %d values\", len(result))\n    return result[:limit]\n")
    if kind == 2:
        return (f"def test_{a}():\n    data = {{\"{b}\": 1, \"{c}\": [1, 2, 3]}}\n"
                f"    assert sorted(data) == [\"{min(b, c)}\", \"{max(b, c)}\"] or len(data) == 1\n"
                f"    assert sum(data[\"{c}\"]) == 6\n")
    if kind == 3:
        return (f"def parse_args(argv=None):\n    parser = argparse.ArgumentParser(description=\"{a}\")\n"
                f"    parser.add_argument(\"--{b.replace('_', '-')}\", type=int, default=8)\n"
                f"    parser.add_argument(\"--{c.replace('_', '-')}\", default=\"out\")\n"
                f"    return parser.parse_args(argv)\n")
    return (f"async def fetch_{a}(session, url: str) -> dict:\n"
            f"    # Retries a few times: the upstream {b.replace('_', ' ')} service is flaky.\n"
            f"    for attempt in range(3):\n        async with session.get(url) as resp:\n"
            f"            if resp.status == 200:\n                return await resp.json()\n"
            f"        await asyncio.sleep(2 ** attempt)\n    raise RuntimeError(f\"{a}: {{url}}\")\n")


HEADER = ("\"\"\"Module {name}: part of the generated benchmark tree.\"\"\"\n\n"
          "import argparse\nimport asyncio\nimport logging\nfrom dataclasses import dataclass, field\n"
          "from typing import Iterable\n\nlogger = logging.getLogger(__name__)\n\n\n")


def loader_block(rng, v):
    return rng.choice(LOADERS).format(m=rng.choice(ORGS), d=rng.choice(DATASETS), v=v)


def python_file(rng, name, with_loader):
    blocks = [ordinary_block(rng) for _ in range(rng.randint(4, 14))]
    if with_loader:
        for k in range(rng.randint(1, 3)):
            blocks.insert(rng.randrange(len(blocks) + 1), loader_block(rng, k))
    return HEADER.format(name=name) + "\n\n".join(blocks)


def notebook(rng, name):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [f"# {name}\n", "Exploration notebook.\n"]}]
    for k in range(rng.randint(5, 13)):
        if rng.random() < 0.25:
            text = f"## Step {k}\nLook at the {rng.choice(WORDS)} distribution.\n"
            cells.append({"cell_type": "markdown", "metadata": {}, "source": text.splitlines(True)})
            continue
        if rng.random() < 0.3:
            code = loader_block(rng, k)
        else:
            code = ordinary_block(rng)
        if rng.random() < 0.1:
            code = "!pip install -q transformers datasets\n%matplotlib inline\n" + code
        outputs = []
        if rng.random() < 0.4:
            outputs = [{"name": "stdout", "output_type": "stream",
                        "text": [f"{rng.random():.6f}\n" for _ in range(rng.randint(1, 20))]}]
        cells.append({"cell_type": "code", "execution_count": k + 1, "metadata": {},
                      "outputs": outputs, "source": code.splitlines(True)})
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                    "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--py", type=int, default=5000)
    ap.add_argument("--nb", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    loaders = 0
    for i in range(args.py):
        pkg = out / f"pkg{i % 40:02d}" / f"sub{(i // 40) % 5}"
        pkg.mkdir(parents=True, exist_ok=True)
        with_loader = rng.random() < 0.125
        loaders += with_loader
        (pkg / f"mod_{i:04d}.py").write_text(python_file(rng, f"mod_{i:04d}", with_loader))
    nbdir = out / "notebooks"
    nbdir.mkdir(parents=True, exist_ok=True)
    for i in range(args.nb):
        (nbdir / f"nb_{i:03d}.ipynb").write_text(notebook(rng, f"nb_{i:03d}"))
    print(f"wrote {args.py} Python files ({loaders} with loaders) and {args.nb} notebooks to {out}")


if __name__ == "__main__":
    main()
