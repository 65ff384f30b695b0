# Two commands for a fresh machine:  make run  (batch ranking of the bundled corpus)  and  make test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= output

.PHONY: run test lint evaluate bench clean venv browser

venv: $(VENV)/.installed

# CPU torch first (a local file on this machine), then the project pinned to it by constraints.txt,
# so that no other package pulls a multi-GB CUDA build of torch.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,dask,parquet]'
	touch $@

run: venv
	$(BIN)/matcher rank --out $(OUT) --html --evaluation evaluation/report

# The HTML report's tests drive Debian's headless Chromium (never a browser download of its own).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

test: venv browser
	$(BIN)/ruff check matcher tests
	$(BIN)/python -m pytest -q

evaluate: venv
	$(BIN)/matcher evaluate --out evaluation/report

bench: venv
	$(BIN)/matcher bench

clean:
	rm -rf $(VENV) $(OUT)
