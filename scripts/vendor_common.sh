# Shared by scripts/vendor_litert.sh and scripts/vendor_tfjs.sh; source it from the pins
# folder (the one with package-lock.json and LICENSE-Apache-2.0.txt).

# the sha256 of the Apache-2.0 licence's canonical text, which each vendored folder ships
APACHE_SHA256=cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30

version() { node -p "require('./$1/package.json').version"; }
license() { node -p "require('./$1/package.json').license"; }

# npm ci at the lock's pins (--ignore-scripts: no package here needs its install scripts; for
# esbuild, its postinstall only re-checks the binary that its per-platform optional package
# already carries), then stop unless every package named is still Apache-2.0 and the licence
# text is the canonical one.
install_apache_pins() {
  npm ci --no-audit --no-fund --ignore-scripts
  for pkg in "$@"; do
    [ "$(license "$pkg")" = "Apache-2.0" ] || { echo "$pkg is not Apache-2.0 any more: check the licence" >&2; exit 1; }
  done
  echo "$APACHE_SHA256  LICENSE-Apache-2.0.txt" | sha256sum -c --quiet
}
