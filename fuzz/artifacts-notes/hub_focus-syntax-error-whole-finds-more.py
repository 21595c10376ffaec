import argparse
from dataclasses import dataclass, field

from transformers imfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffport AutoModelForCausalLM, AutoTokenizer

SHA = "0123456789abcdef0123456789abcdef01234567"


@dataclass
clasomeone/adapter", help="adapter to lo^teg
parser.add_argument("--output_dir", default="outputs/run")
args = parser.parse_args()
mAutoTokenizer.from_pretrained(args.tokenizer_path, revision=SHA)
