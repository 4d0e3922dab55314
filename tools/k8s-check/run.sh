#!/usr/bin/env bash
# Checks the Kubernetes manifests of deploy/kubernetes (or of the directory given):
#   bash tools/k8s-check/run.sh [DIR]
#
# 1. Every manifest (each .yaml but kustomization.yaml) validates against the
#    Kubernetes API's JSON schemas of version $k8s_version, strictly (an unknown field is
#    an error), with kubernetes-validate from PyPI; its schemas ship inside the package,
#    so after the first run (which installs it into tools/k8s-check/.venv) nothing is
#    fetched. A resource whose kind/apiVersion has no schema fails too.
# 2. Every FOLIO_ name the manifests mention (comments included) is a key of the
#    README's configuration table, `FOLIO_<SUBGRAPH>_…` standing for each subgraph of
#    src/platform.rs: the rule tests/e2e/deploy.rs applies to docker-compose.yml.
# 3. kustomization.yaml lists every manifest but the example Secrets, and nothing else.
#
# Exits non-zero when any check fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$(cd "${1:-$root/deploy/kubernetes}" && pwd)"
venv="${FOLIO_CI_K8S_VENV:-$here/.venv}"

# The Kubernetes version to validate against (kubernetes-validate 1.37.0 ships the
# schemas of 1.25 to 1.37).
k8s_version=1.30.0
validator_version=1.37.0
# kubernetes-validate and its dependencies, pinned (resolved with Python 3.11).
requirements=(
  "kubernetes-validate==$validator_version"
  attrs==26.1.0
  importlib_resources==7.1.0
  jsonschema==4.26.0
  jsonschema-specifications==2025.9.1
  packaging==26.4
  PyYAML==6.0.4
  referencing==0.37.0
  rpds-py==2026.9.1
  typing_extensions==4.16.0
)

if [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null || true)" != "$validator_version" ]; then
  echo "installing kubernetes-validate $validator_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
fi

manifests=()
while IFS= read -r file; do
  manifests+=("$file")
done < <(find "$dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) \
  ! -name kustomization.yaml ! -name kustomization.yml | sort)
if [ "${#manifests[@]}" -eq 0 ]; then
  echo "no manifests in $dir" >&2
  exit 1
fi

status=0

# 1. The schemas, file by file (a file that does not parse stops the validator). It only
# warns, exiting 0, about a resource it has no schema for (a misspelt kind or
# apiVersion), so any line but INFO counts as a failure here.
out="$(mktemp -t folio-k8s-check.XXXXXX)"
rules="$(mktemp -t folio-k8s-check.XXXXXX)"
trap 'rm -f "$out" "$rules"' EXIT
passed=0
failed=0
for manifest in "${manifests[@]}"; do
  set +e
  "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$k8s_version" "$manifest" >"$out" 2>&1
  rc=$?
  set -e
  sed "s|$dir/||g" "$out"
  ok="$(grep -c '^INFO ' "$out" || true)"
  bad="$(grep -Ec '^(ERROR|WARN|FATAL) ' "$out" || true)"
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "ERROR ${manifest#"$dir/"}: kubernetes-validate exited with $rc"
    bad=1
  elif [ "$bad" -eq 0 ] && [ "$(grep -vc '^INFO ' "$out" || true)" -ne 0 ]; then
    bad=1
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
done
if [ "$failed" -ne 0 ]; then
  status=1
fi

# 2 and 3, with the venv's PyYAML.
if ! "$venv/bin/python" - "$root" "$dir" "${manifests[@]}" >"$rules" 2>&1 <<'PY'; then
import pathlib
import re
import sys

import yaml

root, directory, manifests = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
problems = []

readme = (root / "README.md").read_text()
table = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `FOLIO_")]
keys = {cell.split("`")[1] for cell in table}
subgraphs = re.findall(r"&folio_(\w+)::SUBGRAPH", (root / "src/platform.rs").read_text())
if not keys or not subgraphs:
    sys.exit("cannot read the configuration table of README.md or the subgraphs of src/platform.rs")
documented = {k for k in keys if "<SUBGRAPH>" not in k}
documented |= {k.replace("<SUBGRAPH>", s.upper()) for k in keys if "<SUBGRAPH>" in k for s in subgraphs}

for manifest in manifests:
    text = pathlib.Path(manifest).read_text()
    for name in sorted(set(re.findall(r"\bFOLIO_[A-Z0-9][A-Z0-9_]*", text))):
        if name not in documented:
            problems.append(f"{pathlib.Path(manifest).name}: {name} is not a key of README.md's configuration table")

kustomization = directory / "kustomization.yaml"
if kustomization.exists():
    listed = (yaml.safe_load(kustomization.read_text()) or {}).get("resources") or []
    names = {pathlib.Path(m).name for m in manifests}
    for resource in listed:
        if resource not in names:
            problems.append(f"kustomization.yaml lists {resource}, which is not a manifest here")
    for name in sorted(names - set(listed)):
        if not name.startswith("secret"):
            problems.append(f"kustomization.yaml does not list {name}")
else:
    problems.append("no kustomization.yaml")

for problem in problems:
    print(f"ERROR {problem}")
sys.exit(1 if problems else 0)
PY
  status=1
fi
cat "$rules"
failed=$((failed + $(grep -c . "$rules" || true)))

echo "k8s-check: $passed passed, $failed failed (Kubernetes $k8s_version schemas, strict, kubernetes-validate $validator_version)"
if [ "$status" -ne 0 ]; then
  echo "k8s-check: FAILED" >&2
fi
exit "$status"
