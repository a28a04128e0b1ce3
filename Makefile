# The book's entry points. `make book` builds everything from nothing; `make test` runs the whole suite;
# `make check` is the fast day-to-day loop.
# Every target is idempotent: a second run with nothing changed reinstalls nothing and re-executes nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: help setup data book instructor student check test lab browsers publish clean cache-key

help:
	@echo "make book        set up .venv, fetch MNIST, execute every chapter and build the site into _build/html"
	@echo "make check       the fast loop (about a minute): ruff, then unit and property tests with fewer Hypothesis examples;"
	@echo "                 no notebook runs, no browser, no sandbox, no training"
	@echo "make test        run the whole test suite (sets up whatever it needs first)"
	@echo "make lab         open the book in JupyterLab with live widgets"
	@echo "make instructor  build the site with solutions into _build/instructor/_build/html"
	@echo "make student     write the copy students get (no solutions, no hidden tests) into _build/student"
	@echo "make publish     push _build/html to the gh-pages branch of your repository (ghp-import)"

# The venv is (re)built only when requirements.txt or constraints.txt change.
$(INSTALLED): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) tools/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

setup: $(INSTALLED)

data: setup
	$(PY) -m book.data fetch

# MathJax 3 is vendored from npm into the site (offline math, no CDN), once; see tools/vendor_npm.sh.
MATHJAX := _build/vendor/_static/mathjax/tex-chtml.js
$(MATHJAX):
	tools/vendor_npm.sh mathjax@3.2.2 es5 $(@D) $(@F)

# axe-core, for the accessibility test, likewise from npm, once; never part of the site.
AXE := _build/axe/axe.min.js
$(AXE):
	tools/vendor_npm.sh axe-core@4.14.1 . $(@D) $(@F)

# The example class on the instructors' page, graded by the real grader (tools/example_class.py); again whenever the
# grader, exercise 1 or the catalogue of mistakes it draws on changes.
EXAMPLE := _build/example/example-class/report.html
$(EXAMPLE): tools/example_class.py $(wildcard grading/*.py) grading/autograder/01_convolution_math.json \
		solutions/01_convolution_math.ipynb exercises/01_convolution_math.ipynb tests/wrong_answers/01_convolution_math.py
	rm -rf _build/example
	$(PY) tools/example_class.py _build/example/example-class

# The execution cache keys each notebook on its own code only, but the chapters' outputs also come from `book/`
# (players, figures, the LeNet records): when the package's files change, the cache and Sphinx's record of what it
# has read (both builds' .doctrees) are cleared, so every page is read and every chapter executed again, rather than
# the site showing what older helpers computed. The key (tools/cache_key.py) hashes every file under `book/` except
# the benchmark scripts no chapter imports (`python -m book.bench conv`, `widget`): they change no page, so editing
# one should not cost a re-execution of every chapter. The records in book/bench/records/, which chapters read, count.
CACHE := _build/.jupyter_cache
cache-key:
	@key=$$($(PYTHON) tools/cache_key.py) || exit 1; \
	if [ -d $(CACHE) ] && [ "$$(cat $(CACHE)/book.key 2>/dev/null)" != "$$key" ]; then \
	  echo "book/ changed since the chapters were executed: clearing $(CACHE) and the builds' .doctrees"; \
	  rm -rf $(CACHE) _build/.doctrees _build/instructor/_build/.doctrees; fi; \
	mkdir -p $(CACHE) && echo "$$key" > $(CACHE)/book.key

# Each chapter's first cell installs `book` from repository.url in _config.yml: refresh it if the URL changed.
book: setup data $(MATHJAX) $(EXAMPLE) cache-key
	$(PY) tools/install_cell.py
	BOOK_STATIC_SITE=1 $(VENV)/bin/jupyter-book build . --warningiserror --keep-going --quiet

instructor: setup data $(MATHJAX) $(EXAMPLE) cache-key
	$(PY) tools/install_cell.py
	BOOK_STATIC_SITE=1 $(VENV)/bin/jupyter-book build . --toc _toc_instructor.yml --path-output _build/instructor --warningiserror --keep-going --quiet

# Browser tests need Debian's Chromium; install it when we can (root with apt-get), otherwise they skip.
browsers:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: chromium not found and not installable here (needs root and apt-get): browser tests will skip"; fi

# The fast loop: the linter, then no site build, no notebook execution, no browser, no sandbox, no training (the
# grading package's pure-Python tests run: the scan, comparisons, reports, gradebook, review desk). Tests that need the MNIST
# files skip when `make data` has not fetched them.
check: setup
	$(VENV)/bin/ruff check .
	HYPOTHESIS_PROFILE=check $(PY) -m pytest -m "not slow and not browser and not built" -q

# The build executes every chapter once (cached); the tests read its executed copies instead of running them again.
# --durations lists the slowest tests, so a maintainer sees where the suite's time goes.
test: setup data browsers book instructor $(AXE)
	$(PY) -m pytest --durations=15

# JUPYTER_PATH puts the .venv's `python3` kernel spec ahead of any user-level one, so notebooks run on .venv;
# PATH and VIRTUAL_ENV, which kernels inherit, make a student's `!pip` and `!python` the .venv's too, as if activated;
# MPLBACKEND is unset so kernels draw figures inline even if the caller's shell exports a backend.
# The whole repository is browsable (chapters/, exercises/, solutions/); it opens on chapters/.
# LAB_FLAGS passes extra options (tests/test_lab.py uses it for a loopback port, a token and --no-browser).
lab: setup data
	env -u MPLBACKEND JUPYTER_PATH="$(CURDIR)/$(VENV)/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH}" \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/chapters $(LAB_FLAGS)

# The student copy: what students clone or download instead of this repository (see grading/release.py).
student: setup
	rm -rf _build/student
	$(PY) -m grading.release _build/student

publish: book
	$(VENV)/bin/ghp-import --no-jekyll --push --force _build/html

clean:
	rm -rf _build
