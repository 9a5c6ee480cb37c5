#!/usr/bin/env bash
# Exports every policy under examples/ (each native policy file, HPA manifest and Terraform file or
# directory found there, and each group's policy in the cluster files) and the import fixtures in
# every format, and validates what is written with real tools:
# HPAs with kubernetes-validate (the official Kubernetes OpenAPI schemas, strict), Terraform with
# python-hcl2 plus the AWS provider's documented resource types and arguments, Elastic Beanstalk
# settings with the documented option names (tests/e2e/check_exports.py). A combination a format
# cannot express must be refused with "cannot express"; a policy file that no format expresses fails
# the script, as does an export holding null or NaN. Known-bad files must fail each validator,
# so a validator that accepts everything fails this script. Needs .ci/install-packages first.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${SCALELAB_CI_VENV:-target/ci-venv}
[ -x "$venv/bin/kubernetes-validate" ] || { echo "export.sh: $venv has no kubernetes-validate: run .ci/install-packages" >&2; exit 1; }
python=$venv/bin/python
cargo build -q --locked -p scalelab
scalelab=target/debug/scalelab
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A validated=([terraform]=0 [hpa]=0 [beanstalk]=0)
fixtures=crates/policy-io/tests/fixtures
# Policy files: YAML with a top-level max: (native) or kind: HorizontalPodAutoscaler, and Terraform
# (a directory when it holds several .tf files). Cluster files hold a policy per group: each is
# written out as a native policy with the group's limits.
mapfile -t policies < <(
    grep -rlE --include='*.yaml' '^(max:|kind: HorizontalPodAutoscaler)' examples "$fixtures" | sort
    find examples "$fixtures" -name '*.tf' -printf '%h\n' | sort | uniq -c | awk '$1 > 1 {print $2}'
    find examples "$fixtures" -name '*.tf' -printf '%h %p\n' | sort | awk '{n[$1]++; p[$1]=$2} END {for (d in n) if (n[d] == 1) print p[d]}'
)
mapfile -t group_policies < <("$python" - "$out" $(grep -lE '^groups:' examples/*.yaml) <<'PY'
import sys, yaml
out, files = sys.argv[1], sys.argv[2:]
for path in files:
    with open(path) as f:
        document = yaml.safe_load(f)
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        continue
    for group in document["groups"]:
        if not group.get("policy"):
            continue
        policy = {k: group[k] for k in ("min", "max", "initial") if k in group}
        policy.update(group["policy"])
        name = f"{out}/{path.split('/')[-1][:-5]}-{group['name']}.yaml"
        with open(name, "w") as f:
            yaml.safe_dump(policy, f)
        print(name)
PY
)
[ "${#policies[@]}" -ge 10 ] || { echo "export.sh: found only ${#policies[@]} example policies" >&2; exit 1; }
[ "${#group_policies[@]}" -ge 1 ] || { echo "export.sh: found no cluster group's policy" >&2; exit 1; }
for policy in "${policies[@]}" "${group_policies[@]}"; do
    base=$(basename "$policy"); base=${base%.yaml}; base=${base%.tf}
    exported=0
    for format in terraform hpa beanstalk; do
        case $format in terraform) file=$out/$base.tf ;; hpa) file=$out/$base-hpa.yaml ;; beanstalk) file=$out/$base-eb.config ;; esac
        if "$scalelab" export --policy "$policy" --format "$format" --name "$base" --out "$file" 2>"$out/err"; then
            case $format in
                hpa) "$venv/bin/kubernetes-validate" --strict --quiet "$file" ;;
                *) "$python" tests/e2e/check_exports.py "$format" "$file" ;;
            esac
            # What was exported must import back (sim reads it) to a policy.
            "$scalelab" export --policy "${file}" --format "$format" --name "$base" >/dev/null 2>&1 \
                || [ "$format" = beanstalk ] || { echo "export.sh: $file does not import back" >&2; exit 1; }
            if grep -qwE 'null|NaN|nan|inf' "$file"; then
                echo "export.sh: $file (from $policy) holds null or NaN:" >&2
                grep -nwE 'null|NaN|nan|inf' "$file" >&2
                exit 1
            fi
            validated[$format]=$((validated[$format] + 1))
            exported=$((exported + 1))
            echo "ok   $policy as $format"
        elif grep -q "cannot express" "$out/err"; then
            echo "skip $policy as $format: $(sed 's/^error: //' "$out/err")"
        else
            echo "export.sh: export of $policy as $format failed:" >&2
            cat "$out/err" >&2
            exit 1
        fi
    done
    # A policy file is an example of something a platform runs; a cluster group's policy may be
    # tuned for seconds-long demos that no platform takes (5 s alarm periods).
    case " ${group_policies[*]} " in *" $policy "*) ;; *)
        [ "$exported" -gt 0 ] || { echo "export.sh: no format expresses $policy" >&2; exit 1; } ;;
    esac
done
for format in terraform hpa beanstalk; do
    [ "${validated[$format]}" -gt 0 ] || { echo "export.sh: no example policy was validated as $format" >&2; exit 1; }
done

# Negative controls: each validator must reject a broken file.
sed 's/averageUtilization: 60/averageUtilization: sixty/' "$out/hpa-hpa.yaml" >"$out/bad-hpa.yaml"
sed 's/  policy_type = /  policy_kind = /' "$out/simple.tf" >"$out/bad.tf"
sed 's/option_name: Cooldown/option_name: CoolDown/' "$out/beanstalk-policy-eb.config" >"$out/bad-eb.config"
if "$venv/bin/kubernetes-validate" --strict --quiet "$out/bad-hpa.yaml" >/dev/null 2>&1; then
    echo "export.sh: kubernetes-validate accepted a broken HPA" >&2; exit 1
fi
for control in "terraform $out/bad.tf" "beanstalk $out/bad-eb.config"; do
    # shellcheck disable=SC2086
    if "$python" tests/e2e/check_exports.py $control 2>/dev/null; then
        echo "export.sh: check_exports.py accepted a broken file ($control)" >&2; exit 1
    fi
done
echo "export.sh: ${#policies[@]} policy files and ${#group_policies[@]} cluster groups' policies: validated ${validated[terraform]} Terraform, ${validated[hpa]} HPA, ${validated[beanstalk]} Beanstalk exports; broken files rejected"
