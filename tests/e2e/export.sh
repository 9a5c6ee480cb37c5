#!/usr/bin/env bash
# Exports every example policy (the policies/ directory, the Beanstalk, HPA and mixed AWS examples) and the import fixtures in every format and validates what is written with real tools:
# HPAs with kubernetes-validate (the official Kubernetes OpenAPI schemas, strict), Terraform with
# python-hcl2 plus the AWS provider's documented resource types and arguments, Elastic Beanstalk
# settings with the documented option names (tests/e2e/check_exports.py). A combination a format
# cannot express must be refused with "cannot express". Known-bad files must fail each validator,
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
for policy in examples/policies/*.yaml examples/beanstalk-policy.yaml examples/hpa-policy.yaml examples/aws-mixed-policy.yaml "$fixtures"/*.yaml "$fixtures"/*.tf "$fixtures"/asg-step; do
    base=$(basename "$policy"); base=${base%.yaml}; base=${base%.tf}
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
            validated[$format]=$((validated[$format] + 1))
            echo "ok   $policy as $format"
        elif grep -q "cannot express" "$out/err"; then
            echo "skip $policy as $format: $(sed 's/^error: //' "$out/err")"
        else
            echo "export.sh: export of $policy as $format failed:" >&2
            cat "$out/err" >&2
            exit 1
        fi
    done
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
echo "export.sh: validated ${validated[terraform]} Terraform, ${validated[hpa]} HPA, ${validated[beanstalk]} Beanstalk exports; broken files rejected"
