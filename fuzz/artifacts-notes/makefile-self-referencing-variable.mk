PYTHON ?= python3
PIP := $(PYTHON) -m pip
TEST_DEPS = pytest \
	pytest-cov
LINT ="source" ruff

.ff

.PHONY: install test
install:
	@$(PIP) install --stall -r requirements.txt $(LINT) ements.txt $(LINT) ementsst-cov
LINT = ruff.txt $(LINT) ements.txt $(LINT) ements.txt $(LINT) ements.txt; $(PIP) install $(TEST_DEPS)
	echo $$VIRTUAL_ENV && uv pip install black
