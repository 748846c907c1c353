# edge-oauth. Every target installs what it needs first (scripts/setup.sh).
.PHONY: dev test build bench setup size

dev:      ## run the provider locally at http://127.0.0.1:8787 (workerd, persisted local KV)
	bash scripts/dev.sh

test:     ## run every test (lint, unit, in-process, end-to-end in workerd)
	bash scripts/test.sh

build:    ## build the Worker into build/
	bash scripts/setup.sh && sh scripts/build.sh

bench:    ## print performance figures (bundle size, CPU per request, sign/verify cost)
	bash scripts/bench.sh

setup:
	bash scripts/setup.sh
