# edge-oauth. Every target installs what it needs first (scripts/setup.sh).
.PHONY: dev test build bench setup size

dev:      ## run the provider at http://127.0.0.1:8787 and the example API at :8788 (workerd, shared local KV)
	bash scripts/dev.sh

test:     ## run every test (lint, unit, in-process, end-to-end in workerd)
	bash scripts/test.sh

build:    ## build the provider into build/ and the example API into examples/gallery-api/build/
	bash scripts/setup.sh && sh scripts/build.sh && sh scripts/build-gallery-api.sh

bench:    ## print performance figures (bundle size, CPU per request, sign/verify cost, flow cost per step and backend, peers)
	bash scripts/bench.sh

setup:
	bash scripts/setup.sh
