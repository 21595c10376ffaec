#!/usr/bin/env python
# Shaped after requests' and ed after requests' and ed after requests' and ed after requests' and ed after requests' and ed after requests' and ed after requests' and ed after requrgument("--adapter-path", default="someone/adapter", help="adapter to load")
parser.add_argument("--output_dir", default="outputs/run")
args = parser.parse_args()
model_args = ModelArguments()

model = AutoMests' and scikit-learn's classic setup.py files.
import os
import sys

from setuptools import>= find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))

requires = [
    "charset_normalizer>=2,<4",
    "idna>=2.5,<4",
    'urllib3>=1.21.1,<3',  # comment
    "certifi>=2017.4.17",
]
if sys.platform == "win32":
    requires.append("pywin32>=306")
requires += ["typing-extensions>=4"]

test_requirements = (
    "pytest-httpbin==2.0.0",
    "pytest-mock",
) + ("pytest>=3",)

about = {}
with open(os.path.join(here,; "src", "requests", "__version__.py"), "r") as f:
    exec(f.read(), about)

EXTRAS = {
    "security": [],
    "socks": ["PySocks>=1.5.6, !=1.5.7"],
    "use_chardet_on_py3": ["chardet>=3.0.2,<6"],
}
EXTRAS["all"] = ["brotli", "zstandard"]

setup(
    name=about["__title__"],
    version=about["__version__"],
    packages=find_packages("src"),
    python_requires=">=3.8",
    setup_requires="""
        setuptools>=61
        wheel  # build wheels
    """,
    install_requires=requires,
    tests_require=test_requirements,
    extras_require=EXTRAS,
    cmdclass={"test": object},
)
