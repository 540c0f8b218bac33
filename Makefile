.PHONY: test demo lint bench help

help:
	@echo "make bench  benchmark against OCA account_credit_control (minutes; not part of make test)"
	@echo "make test   lint, install on a fresh database, run the tests"
	@echo "make demo   (re)create the dunning_demo database with demo data and serve it on :8069"
	@echo "make lint   ruff and pylint-odoo only"

test:
	./scripts/test.sh

demo:
	./scripts/demo.sh

lint:
	./scripts/lint.sh

bench:
	./bench/bench.sh $(BENCH_ARGS)
